/**
 * Partial failures, lifecycle races and fd hygiene of the engine (faults.md C2, C5, C7,
 * C10, D2, D5, E2, E3, F9, G2, G6). Faults the real components cannot produce on demand
 * are injected through the engine's step hook, acting on the real kernel and the real
 * ovsdb-server; every outcome is read back with ip -json, ovs-vsctl and /proc.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { NetplumbError } from '../../src/errors.js';
import type { AttachResult, Plumber } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import {
  BYSTANDER_PORT,
  hostIp,
  hostVeths,
  isCode,
  ovsPorts,
  ovsSpec,
  useOvsWithBystanders,
  withGuest,
  withPlumber,
  worldState,
} from './support/plumb-bed.js';

const ovs = useOvsWithBystanders();
useLeakCheck();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A hook that runs `fault` once, right after the step named `step`. */
function after(step: string, fault: () => Promise<void>): (s: string) => Promise<void> {
  let done = false;
  return async (s) => {
    if (s !== step || done) return;
    done = true;
    await fault();
  };
}

/** An attach through the hook must fail as `check` says; the world is then as before. */
async function failsAndRollsBack(
  g: TestNetns,
  spec: AttachSpec,
  hook: (s: string) => Promise<void>,
  check: (e: unknown) => boolean,
): Promise<void> {
  const o = ovs();
  const before = await worldState(o, g);
  await withPlumber(
    o,
    async (p) => {
      await assert.rejects(p.attach(spec), check);
    },
    { stepHook: hook },
  );
  assert.deepEqual(await worldState(o, g), before);
}

test('C5: the requested address already on the guest device (EEXIST) is ALREADY_EXISTS; veth and OVS port rolled back', async () => {
  await withGuest(async (g) => {
    const hook = after('guest link up', async () => {
      await g.exec(['ip', 'addr', 'add', '10.7.0.2/24', 'dev', 'eth1']);
    });
    await failsAndRollsBack(g, ovsSpec(g), hook, isCode('ALREADY_EXISTS'));
  });
});

test('C7: the host veth deleted before ovs-vswitchd opens it: DATAPLANE_APPLY_FAILED with the interface error; port and veth removed', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    let hostIf = '';
    const hook = after('veth record', async () => {
      hostIf = (await hostVeths(o))[0] ?? '';
      await hostIp(o, ['link', 'del', hostIf]);
    });
    await failsAndRollsBack(
      g,
      ovsSpec(g),
      hook,
      isCode('DATAPLANE_APPLY_FAILED', /could not open|No such device|ofport -1/),
    );
    assert.notEqual(hostIf, '');
    assert.equal(
      (await o.vsctl(['--columns=_uuid', 'find', 'Interface', `name=${hostIf}`])).trim(),
      '',
      'no Interface row left',
    );
  });
});

test('C2: a step fails and the OVS undo fails too (ovsdb-server down): PARTIAL_CLEANUP_FAILED naming both; detach removes the residue', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    const quick = { requestTimeoutMs: 1500, reconnect: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 } };
    const hook = after('ovs port', async () => {
      await o.stopDb();
      throw new NetplumbError('INTERNAL', 'injected fault after the OVS port');
    });
    let residuePort = '';
    try {
      await withPlumber(
        o,
        async (p) => {
          await assert.rejects(p.attach(ovsSpec(g)), (e: unknown) => {
            isCode('PARTIAL_CLEANUP_FAILED', /injected fault after the OVS port.*left behind: OVS port "([^"]+)"/)(e);
            const residue = (e as NetplumbError).details.residue as { what: string }[];
            assert.equal(residue.length, 1, JSON.stringify(residue));
            residuePort = /OVS port "([^"]+)"/.exec(residue[0]?.what ?? '')?.[1] ?? '';
            return true;
          });
        },
        { stepHook: hook, ovsdbConnection: quick },
      );
    } finally {
      await o.startDb();
    }
    assert.notEqual(residuePort, '');
    assert.ok((await ovsPorts(o)).includes(residuePort), 'the residue is the OVS port the error names');
    assert.deepEqual(await hostVeths(o), [], 'the undos that could run did');
    await withPlumber(o, async (p) => {
      await p.detach({ guest: { netns: g.name } });
      assert.deepEqual(await ovsPorts(o), [BYSTANDER_PORT]);
      // ovs-vswitchd still held the residue's dead device: a new port of that name, added
      // right after the detach, must get a device of its own and forward traffic.
      const peer = await TestNetns.create('c2');
      try {
        await p.attach(ovsSpec(g, { hostIfname: residuePort }));
        await p.attach(ovsSpec(peer, { ip: { kind: 'static', address: '10.7.0.3/24' } }));
        assert.equal(await peer.ping('10.7.0.2', 3), true, 'the reused port name forwards');
        await p.detach({ guest: { netns: g.name } });
        await p.detach({ guest: { netns: peer.name } });
      } finally {
        await peer.destroy();
      }
    });
    assert.deepEqual(await ovsPorts(o), [BYSTANDER_PORT]);
  });
});

/** Every id an attachment has in the kernel and in OVSDB: equal before and after means nothing was recreated. */
async function identity(g: TestNetns, hostIf: string): Promise<string> {
  const o = ovs();
  return JSON.stringify([
    (await g.link('eth1'))?.ifindex,
    JSON.parse(await hostIp(o, ['-json', 'link', 'show', 'dev', hostIf]))[0].ifindex,
    await o.vsctl(['get', 'port', hostIf, '_uuid', 'tag', 'external_ids']),
    await o.vsctl(['get', 'interface', hostIf, '_uuid', 'ofport']),
  ]);
}

test('C10: the same attach again changes nothing (no delete-and-recreate), another spec is CONFLICT; traffic never stops', async () => {
  const [a, b] = [await TestNetns.create('c10'), await TestNetns.create('c10')];
  try {
    await withPlumber(ovs(), async (p) => {
      await p.attach(ovsSpec(a, { ip: { kind: 'static', address: '10.7.0.1/24' } }));
      const r = await p.attach(ovsSpec(b));
      const id = await identity(b, r.record.hostIfname);
      let reachable = false;
      for (let i = 0; i < 10 && !reachable; i++) reachable = await a.ping('10.7.0.2');
      assert.ok(reachable, 'the two guests reach each other before the re-attaches');
      const pinging = a.exec(['ping', '-n', '-q', '-c', '60', '-i', '0.02', '-W', '1', '10.7.0.2'], 20_000);
      await sleep(100);
      for (let i = 0; i < 5; i++) {
        assert.equal((await p.attach(ovsSpec(b))).changed, false);
        await assert.rejects(p.attach(ovsSpec(b, { vlan: 71 })), isCode('CONFLICT'));
      }
      assert.match(await pinging, / 0% packet loss/);
      assert.equal(await identity(b, r.record.hostIfname), id);
      await p.detach({ guest: { netns: a.name } });
      await p.detach({ guest: { netns: b.name } });
    });
  } finally {
    await a.destroy();
    await b.destroy();
  }
});

/** Attach a fresh guest to ovs0 and run `body`, which must undo it: then the world is as before the attach. */
async function attachThenUndo(body: (p: Plumber, g: TestNetns, r: AttachResult) => Promise<void>): Promise<void> {
  await withGuest(async (g) => {
    const o = ovs();
    const before = await worldState(o, g);
    await withPlumber(o, async (p) => body(p, g, await p.attach(ovsSpec(g))));
    assert.deepEqual(await worldState(o, g), before);
  });
}

test('D5: detach by the recorded guest id, without opening the namespace: veth, guest end and OVS port removed', async () => {
  await attachThenUndo(async (p, _g, r) => {
    const d = await p.detach({ guest: r.record.guestId });
    assert.deepEqual(
      d.detached.map((x) => x.id),
      [r.record.id],
    );
  });
});

test('D4: detach twice, and detach of a guest never attached: success every time, nothing changed', async () => {
  await attachThenUndo(async (p, g, r) => {
    assert.equal((await p.detach({ guest: { netns: g.name } })).detached.length, 1);
    const after = await worldState(ovs(), g);
    for (const guest of [{ netns: g.name }, r.record.guestId])
      assert.deepEqual((await p.detach({ guest })).detached, []);
    await withGuest(async (other) => {
      assert.deepEqual((await p.detach({ guest: { netns: other.name } })).detached, []);
    });
    assert.deepEqual(await worldState(ovs(), g), after, 'the repeated detaches changed nothing');
  });
});

test('F9: an admin deleted the bridge (del-br) after the attach: detach succeeds and removes the veth', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    await o.addBridge('ovs9');
    const before = await worldState(o, g);
    await withPlumber(o, async (p) => {
      await p.attach(ovsSpec(g, { host: 'ovs9' }));
      await o.vsctl(['del-br', 'ovs9']);
      await p.detach({ guest: { netns: g.name } });
    });
    await o.addBridge('ovs9'); // as it was before (new uuids: compare without the OVS tables)
    const after = await worldState(o, g);
    assert.deepEqual(
      [after.guestLinks, after.guestRoutes, await hostVeths(o)],
      [before.guestLinks, before.guestRoutes, []],
    );
    await o.vsctl(['del-br', 'ovs9']);
  });
});

/** Ports whose external_ids name this attachment, as ovs-vsctl finds them. */
async function portsOf(attachment: string): Promise<number> {
  return (await ovs().vsctl(['--columns=_uuid', 'find', 'Port', `external_ids:netplumb.attachment=${attachment}`]))
    .split('\n')
    .filter(Boolean).length;
}

test("E3: a namespace replaced under the same name is a new guest: a stale detach by the old one's recorded id reaches nothing of the new one", async () => {
  const a = await TestNetns.create('e3r');
  let readded = false;
  try {
    await withPlumber(ovs(), async (p) => {
      const v1 = await p.attach(ovsSpec(a));
      // The recorded id is the namespace's cookie, which the kernel never reuses (an inode it does).
      assert.equal(v1.record.guestId, `netns:cookie:${await a.cookie()}`);
      await must(['ip', 'netns', 'del', a.name]); // the container dies: its veth with it, its port stays
      await must(['ip', 'netns', 'add', a.name]); // a new one takes the name
      readded = true;
      const v2 = await p.attach(ovsSpec(a));
      assert.notEqual(v2.record.guestId, v1.record.guestId);
      assert.notEqual(v2.record.hostIfname, v1.record.hostIfname);
      const before = await identity(a, v2.record.hostIfname);
      // The late detach of the old container removes its orphan port and nothing of the new one.
      assert.deepEqual(
        (await p.detach({ guest: v1.record.guestId })).detached.map((r) => r.id),
        [v1.record.id],
      );
      assert.equal(await portsOf(v1.record.id), 0);
      assert.equal(await identity(a, v2.record.hostIfname), before, 'v2 untouched');
      assert.equal(await portsOf(v2.record.id), 1);
      await p.detach({ guest: { netns: a.name } });
    });
  } finally {
    if (readded) await must(['ip', 'netns', 'del', a.name]).catch(() => undefined);
    await a.destroy().catch(() => undefined);
  }
});

test('E2: two concurrent attaches of the same key (one engine, and two engines): one port, one veth; the other is idempotent or a conflict', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    await withPlumber(o, async (p1) => {
      await withPlumber(o, async (p2) => {
        for (const [x, y] of [
          [p1, p1],
          [p1, p2],
        ] as const) {
          const outcomes = await Promise.allSettled([x.attach(ovsSpec(g)), y.attach(ovsSpec(g))]);
          const ok = outcomes.filter((out): out is PromiseFulfilledResult<AttachResult> => out.status === 'fulfilled');
          assert.ok(
            ok.length >= 1,
            JSON.stringify(outcomes.map((out) => (out.status === 'rejected' ? String(out.reason) : 'ok'))),
          );
          for (const out of outcomes) {
            if (out.status === 'rejected')
              assert.ok(
                out.reason instanceof NetplumbError && ['CONFLICT', 'ALREADY_EXISTS'].includes(out.reason.code),
                String(out.reason),
              );
          }
          const id = (ok[0] as PromiseFulfilledResult<AttachResult>).value.record.id;
          assert.equal(await portsOf(id), 1, 'one port row');
          assert.equal((await hostVeths(o)).length, 1, 'one veth');
          assert.deepEqual((await g.linkNames()).sort(), ['eth1', 'lo']);
          await x.detach({ guest: { netns: g.name } });
          assert.equal(await portsOf(id), 0);
        }
      });
    });
  });
});

test('E3: a stale detach of attachment v1 arriving while v2 of the same host name is attached deletes nothing of v2', async () => {
  const [a, b] = [await TestNetns.create('e3'), await TestNetns.create('e3')];
  try {
    await withPlumber(ovs(), async (p) => {
      const v1 = await p.attach(ovsSpec(a, { hostIfname: 'np-e3' }));
      await p.detach({ guest: { netns: a.name } });
      const [v2] = await Promise.all([
        p.attach(ovsSpec(b, { hostIfname: 'np-e3' })),
        p.detach({ guest: v1.record.guestId }),
      ]);
      const id = await identity(b, 'np-e3');
      assert.deepEqual((await p.detach({ guest: v1.record.guestId })).detached, []);
      assert.deepEqual((await p.detach({ guest: { netns: a.name } })).detached, []);
      assert.equal(await identity(b, 'np-e3'), id, 'v2 untouched');
      assert.equal(await portsOf(v2.record.id), 1);
      await p.detach({ guest: { netns: b.name } });
    });
  } finally {
    await a.destroy();
    await b.destroy();
  }
});

/** A process in a network namespace of its own (unshare --net sleep): a guest by pid, like a container. */
async function spawnGuestProcess(): Promise<{ child: ChildProcess; pid: number; ino: number }> {
  const child = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  const pid = child.pid as number;
  const own = statSync('/proc/self/ns/net').ino;
  for (let i = 0; i < 200; i++) {
    const ino = nsInode(pid);
    if (ino !== undefined && ino !== own) return { child, pid, ino };
    await sleep(10);
  }
  throw new Error('unshare --net did not enter a new namespace');
}

function nsInode(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

/** Every fd and thread namespace link on the machine that refers to `net:[ino]`. */
function holdersOf(ino: number): string[] {
  const want = `net:[${ino}]`;
  const found: string[] = [];
  const links = (dir: string): string[] => {
    try {
      return readdirSync(dir).map((e) => `${dir}/${e}`);
    } catch {
      return [];
    }
  };
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const candidates = [...links(`/proc/${pid}/fd`), ...links(`/proc/${pid}/task`).map((t) => `${t}/ns/net`)];
    for (const l of candidates) {
      try {
        if (readlinkSync(l) === want) found.push(l);
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return found;
}

test('D2: the guest process exits right after the veth is made: the attach completes or rolls back; once the namespace dies, gc leaves nothing', async () => {
  const o = ovs();
  const guest = await spawnGuestProcess();
  try {
    await withPlumber(
      o,
      async (p) => {
        const outcome = await p
          .attach({ host: 'ovs0', guest: { pid: guest.pid }, ip: { kind: 'static', address: '10.7.0.9/24' } })
          .then(
            () => 'attached',
            (e: unknown) => String(e),
          );
        assert.ok(outcome === 'attached' || /NAMESPACE_GONE|NOT_FOUND/.test(outcome), outcome);
        for (let i = 0; i < 250 && (await hostVeths(o)).length > 0; i++) await sleep(20);
        assert.deepEqual(await hostVeths(o), [], 'the veth died with the namespace');
        await p.gc({ graceSeconds: 0 }); // nothing else is attaching: no grace needed
      },
      { stepHook: after('veth', () => kill(guest.child)) },
    );
    assert.deepEqual(await ovsPorts(o), [BYSTANDER_PORT], 'no port left without its device');
    assert.deepEqual(holdersOf(guest.ino), []);
  } finally {
    await kill(guest.child);
  }
});

test('G6: after attach and detach, once the guest process exits, nothing on the machine refers to its namespace', async () => {
  const o = ovs();
  const guest = await spawnGuestProcess();
  try {
    await withPlumber(o, async (p) => {
      await p.attach({ host: 'ovs0', guest: { pid: guest.pid }, ip: { kind: 'static', address: '10.7.0.8/24' } });
      await p.detach({ guest: { pid: guest.pid } });
      await kill(guest.child);
      assert.deepEqual(holdersOf(guest.ino), [], 'no fd or thread of any process holds the namespace');
    });
    assert.deepEqual(await ovsPorts(o), [BYSTANDER_PORT]);
  } finally {
    await kill(guest.child);
  }
});

test('G2: under 12 concurrent attaches, file reads, DNS lookups and TCP connects of this process stay in its own namespace', async () => {
  const o = ovs();
  const server = createServer((s) => s.end('host\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const guests = await Promise.all(Array.from({ length: 12 }, () => TestNetns.create('g2')));
  let stop = false;
  const answers: string[] = [];
  const loop = async (): Promise<void> => {
    while (!stop) {
      await readFile('/proc/self/status', 'utf8');
      await lookup('localhost');
      answers.push(
        await new Promise<string>((resolve, reject) => {
          const c = connect(port, '127.0.0.1');
          let data = '';
          c.on('data', (d) => (data += d.toString()));
          c.on('end', () => resolve(data));
          c.on('error', reject);
        }),
      );
    }
  };
  try {
    await withPlumber(o, async (p) => {
      const loops = Array.from({ length: 4 }, loop);
      await Promise.all(
        guests.map((g, i) => p.attach(ovsSpec(g, { ip: { kind: 'static', address: `10.7.1.${i + 1}/24` } }))),
      );
      stop = true;
      await Promise.all(loops);
      // Equivalent to: ip -all netns exec ss -Htan — one section per named namespace, headed "netns: NAME".
      const sections = new Map(
        (await must(['ip', '-all', 'netns', 'exec', 'ss', '-Htan']))
          .split(/^netns: /m)
          .slice(1)
          .map((sec) => {
            const [name = '', ...lines] = sec.split('\n');
            return [name.trim(), lines.join('\n').trim()] as const;
          }),
      );
      for (const g of guests) assert.equal(sections.get(g.name), '', `a TCP socket appeared in ${g.name}`);
      await Promise.all(guests.map((g) => p.detach({ guest: { netns: g.name } })));
    });
    assert.ok(
      answers.length > 0 && answers.every((a) => a === 'host\n'),
      `${answers.length} connects, all to the host listener`,
    );
  } finally {
    stop = true;
    await new Promise<void>((r) => server.close(() => r()));
    for (const g of guests) await g.destroy();
  }
});
