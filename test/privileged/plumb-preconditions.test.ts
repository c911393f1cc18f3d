/**
 * Preconditions and bad input at the engine's front door (faults.md A8–A10, B2–B4, B6–B9,
 * D1, H5): each refusal comes before anything is changed. The oracle is ip -json and
 * ovs-vsctl (worldState), plus a counting OVSDB socket and a spawn spy where the catalogue
 * asks that nothing was even sent.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import * as ChildProcess from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Plumber } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { waitForExit } from '../../sandbox/process.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import {
  CountingSocket,
  hostIp,
  hostVeths,
  isCode,
  ovsPorts,
  ovsSpec,
  uniq,
  useOvsWithBystanders,
  withGuest,
  withPlumber,
  worldState,
} from './support/plumb-bed.js';

const ovs = useOvsWithBystanders();
useLeakCheck();

/** An attach and the code it must fail with (and a pattern its message must match). */
type Refusal = [spec: AttachSpec, code: string, re?: RegExp];

/** Each attach must be refused as given; afterwards the world (host, OVS, guest) is exactly as before. */
async function refusedWithoutChange(g: TestNetns | undefined, refusals: Refusal[]): Promise<void> {
  const o = ovs();
  const before = await worldState(o, g);
  await withPlumber(o, async (p) => {
    for (const [spec, code, re] of refusals)
      await assert.rejects(p.attach(spec), isCode(code, re), JSON.stringify(spec.guest));
  });
  assert.deepEqual(await worldState(o, g), before, 'a refused attach changed something');
}

test('B2: attach to a missing OVS bridge is NOT_FOUND(host) and leaves no veth', async () => {
  await withGuest(async (g) => {
    await refusedWithoutChange(g, [
      [ovsSpec(g, { host: 'ovs9', mode: 'ovs' }), 'NOT_FOUND', /ovs9/],
      [ovsSpec(g, { host: 'ovs9' }), 'NOT_FOUND', /ovs9/],
    ]);
    assert.deepEqual(await hostVeths(ovs()), []);
  });
});

test('B3: attach to a missing Linux bridge is NOT_FOUND and leaves no veth', async () => {
  await withGuest(async (g) => {
    const spec: AttachSpec = { host: 'br9', guest: { netns: g.name }, ip: { kind: 'static', address: '10.7.0.2/24' } };
    await refusedWithoutChange(g, [
      [{ ...spec, mode: 'bridge' }, 'NOT_FOUND', /br9/],
      [spec, 'NOT_FOUND', /br9/],
    ]);
  });
});

test('B4: macvlan on a missing parent, on a bridge port (EBUSY): refused, no stray macvlan; on a parent that is down: works, detach removes it', async () => {
  const o = ovs();
  const n = uniq();
  const [br, port, down] = [`bb${n}`, `bp${n}`, `dn${n}`];
  // This kernel has no dummy or ipvlan driver: veth ends serve as parents.
  await hostIp(o, ['link', 'add', br, 'type', 'bridge']);
  await hostIp(o, ['link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`]);
  await hostIp(o, ['link', 'set', port, 'master', br]);
  await hostIp(o, ['link', 'add', down, 'type', 'veth', 'peer', 'name', `${down}p`]);
  try {
    await withGuest(async (g) => {
      const macvlan = (host: string): AttachSpec => ({
        host,
        mode: 'macvlan',
        guest: { netns: g.name },
        ip: { kind: 'static', address: '10.8.0.2/24' },
      });
      await refusedWithoutChange(g, [
        [macvlan(`nic${n}`), 'NOT_FOUND', new RegExp(`nic${n}`)],
        [macvlan(port), 'CONFLICT'],
      ]);
      const hostBefore = (await worldState(o)).hostLinks;
      await withPlumber(o, async (p) => {
        await p.attach(macvlan(down));
        assert.equal((await g.link('eth1'))?.linkinfo?.info_kind, 'macvlan');
        assert.deepEqual((await worldState(o)).hostLinks, hostBefore, 'nothing appeared on the host');
        await p.detach({ guest: { netns: g.name } });
      });
      assert.deepEqual(await g.linkNames(), ['lo']);
    });
  } finally {
    for (const l of [br, port, down]) await hostIp(o, ['link', 'del', l]);
  }
});

test('B6: a regular file, a directory, a UTS namespace file, a magic link: not a network namespace, nothing changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'np-b6-'));
  const stale = `stale-${uniq()}`;
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    mkdirSync(join(dir, 'dir'));
    const uts = join(dir, 'uts');
    writeFileSync(uts, '');
    await must(['mount', '--bind', '/proc/self/ns/uts', uts]);
    writeFileSync(`/run/netns/${stale}`, ''); // on tmpfs: a stale /run/netns entry
    try {
      const spec = (guest: AttachSpec['guest']): AttachSpec => ({ host: 'ovs0', guest, ip: { kind: 'none' } });
      const notNetns = (guest: AttachSpec['guest']): Refusal => [
        spec(guest),
        'INVALID_ARGUMENT',
        /not a network namespace/,
      ];
      await refusedWithoutChange(undefined, [
        notNetns({ path: file }),
        notNetns({ path: join(dir, 'dir') }),
        notNetns({ path: uts }),
        notNetns({ netns: stale }),
        [spec({ path: '/proc/self/ns/mnt' }), 'INVALID_ARGUMENT'],
      ]);
    } finally {
      await must(['umount', uts]);
      unlinkSync(`/run/netns/${stale}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** This process's own namespace as ip -json sees it: links, addresses, routes. */
async function ownNamespace(): Promise<string> {
  return JSON.stringify([
    await must(['ip', '-json', 'addr', 'show']),
    await must(['ip', '-json', 'route', 'show', 'table', 'all']),
  ]);
}

test("B7: the caller's own namespace, the configured host namespace and init's are refused on attach and detach, byte-identical after", async () => {
  const o = ovs();
  const own = await ownNamespace();
  const spec = (guest: AttachSpec['guest']): AttachSpec => ({
    host: 'ovs0',
    guest,
    ifname: 'np-b7',
    ip: { kind: 'static', address: '10.77.0.2/24' },
  });
  // init's namespace may be unreadable even to root (then the kernel refuses: PRIVILEGE); never opened for writing either way.
  const initReadable = (() => {
    try {
      readFileSync('/proc/1/ns/net');
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'EACCES' && (e as NodeJS.ErrnoException).code !== 'EPERM';
    }
  })();
  await refusedWithoutChange(undefined, [
    [spec({ pid: process.pid }), 'HOST_NAMESPACE_REFUSED'],
    [spec({ path: '/proc/self/ns/net' }), 'HOST_NAMESPACE_REFUSED'],
    [spec({ netns: o.netns }), 'HOST_NAMESPACE_REFUSED'],
    [spec({ path: '/proc/1/ns/net' }), initReadable ? 'HOST_NAMESPACE_REFUSED' : 'PRIVILEGE'],
  ]);
  await withPlumber(o, async (p) => {
    await assert.rejects(p.detach({ guest: { pid: process.pid } }), isCode('HOST_NAMESPACE_REFUSED'));
    await assert.rejects(p.detach({ guest: { netns: o.netns } }), isCode('HOST_NAMESPACE_REFUSED'));
  });
  assert.equal(await ownNamespace(), own, "this process's namespace is byte-identical");
  // The explicit override goes through (this process's namespace is the private one scripts/isolated made).
  await withPlumber(o, async (p) => {
    const r = await p.attach({ ...spec({ pid: process.pid }), allowHostNetns: true });
    assert.equal(r.changed, true);
    const link = JSON.parse(await must(['ip', '-json', 'addr', 'show', 'dev', 'np-b7'])) as {
      addr_info: { local: string }[];
    }[];
    assert.deepEqual(
      link[0]?.addr_info.map((a) => a.local).filter((a) => a.startsWith('10.')),
      ['10.77.0.2'],
    );
    await hostIp(o, ['link', 'del', r.record.hostIfname]);
    await o.vsctl(['del-port', r.record.hostIfname]);
  });
  assert.equal(await ownNamespace(), own, 'the override was undone');
});

/** Field 22 of /proc/PID/stat: the start time in clock ticks. */
function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** Spawn `sleep` in this (host) namespace with exactly `pid`, through ns_last_pid; fails after many tries. */
async function spawnWithPid(pid: number): Promise<ChildProcess.ChildProcess> {
  for (let i = 0; i < 200; i++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const c = ChildProcess.spawn('sleep', ['30'], { stdio: 'ignore' });
    if (c.pid === pid) return c;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
  throw new Error(`could not get pid ${pid} again (the machine is forking too fast)`);
}

test('B8: a PID reused by a host-namespace process is IDENTITY_MISMATCH for the recorded start time; host untouched', async () => {
  await withGuest(async (g) => {
    const victim = ChildProcess.spawn('ip', ['netns', 'exec', g.name, 'sleep', '30'], { stdio: 'ignore' });
    const pid = victim.pid as number;
    for (let i = 0; i < 100 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('ip'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const startTime = startTimeOf(pid);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    const impostor = await spawnWithPid(pid);
    try {
      assert.notEqual(startTimeOf(pid), startTime);
      await refusedWithoutChange(g, [
        [
          { host: 'ovs0', guest: { pid, startTime }, ifname: 'np-b8', ip: { kind: 'static', address: '10.78.0.2/24' } },
          'IDENTITY_MISMATCH',
          /replaced/,
        ],
      ]);
      assert.ok(!(await must(['ip', '-json', 'link', 'show'])).includes('np-b8'));
    } finally {
      impostor.kill('SIGKILL');
      await waitForExit(pid);
      await new Promise((r) =>
        impostor.exitCode !== null || impostor.signalCode !== null ? r(undefined) : impostor.once('exit', r),
      );
    }
  });
});

test('B9: /run/netns/x as a symlink (to the host or to a real guest), swapped back and forth while attaching: always refused', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    const x = `x-${uniq()}`;
    const before = await worldState(o, g);
    const own = await ownNamespace();
    symlinkSync(`/proc/${process.pid}/ns/net`, `/run/netns/${x}`);
    // The race: an atomic rename flips x between "the host" and "the real guest" as fast as it can.
    // It runs while its flag file exists, and is stopped by removing it (a killed loop could leave an ln running).
    const flag = join(tmpdir(), `np-b9-${x}`);
    writeFileSync(flag, '');
    const flipper = ChildProcess.spawn(
      'bash',
      [
        '-c',
        `cd /run/netns; while [ -e ${flag} ]; do ln -sfn /proc/${process.pid}/ns/net .${x}; mv -T .${x} ${x}; ln -sfn ${g.path} .${x}; mv -T .${x} ${x}; done`,
      ],
      { stdio: 'ignore' },
    );
    const stopped = new Promise((r) => flipper.once('exit', r));
    try {
      await withPlumber(o, async (p) => {
        for (let i = 0; i < 300; i++) {
          await assert.rejects(
            p.attach({
              host: 'ovs0',
              guest: { netns: x },
              ifname: 'np-b9',
              ip: { kind: 'static', address: '10.79.0.2/24' },
            }),
            isCode('INVALID_ARGUMENT', /symbolic link/),
          );
        }
      });
    } finally {
      rmSync(flag);
      await stopped;
      rmSync(`/run/netns/${x}`, { force: true });
      rmSync(`/run/netns/.${x}`, { force: true });
    }
    assert.equal(await ownNamespace(), own, 'the host namespace was never modified');
    assert.deepEqual(await worldState(o, g), before);
  });
});

test('D1: a namespace or process gone before the attach is NAMESPACE_GONE; nothing created', async () => {
  const o = ovs();
  const g = await TestNetns.create('gone');
  const name = g.name;
  await g.destroy();
  const child = ChildProcess.spawn('true');
  await new Promise((r) => child.once('exit', r));
  await refusedWithoutChange(undefined, [
    [{ host: 'ovs0', guest: { netns: name }, ip: { kind: 'none' } }, 'NAMESPACE_GONE'],
    [{ host: 'ovs0', guest: { pid: child.pid as number }, ip: { kind: 'none' } }, 'NAMESPACE_GONE'],
  ]);
  assert.deepEqual(await hostVeths(o), []);
});

/** Bad inputs (A8, A9, A10, H5): each is INVALID_ARGUMENT, without a connection to OVSDB, a namespace opened or a process spawned. */
async function refusedBeforeAnything(specs: AttachSpec[], detachGuests: AttachSpec['guest'][] = []): Promise<void> {
  const counting = await CountingSocket.open();
  const cp = require('node:child_process') as typeof ChildProcess;
  const realSpawn = cp.spawn;
  const spawned: unknown[][] = [];
  cp.spawn = ((...args: unknown[]) => {
    spawned.push(args);
    return (realSpawn as (...a: unknown[]) => ChildProcess.ChildProcess)(...args);
  }) as typeof cp.spawn;
  try {
    const before = await worldState(ovs());
    const p = Plumber.open({ ovsDb: `unix:${counting.path}`, hostNetns: { name: ovs().netns } });
    try {
      for (const s of specs) await assert.rejects(p.attach(s), isCode('INVALID_ARGUMENT'), JSON.stringify(s));
      for (const guest of detachGuests)
        await assert.rejects(p.detach({ guest }), isCode('INVALID_ARGUMENT'), JSON.stringify(guest));
    } finally {
      await p.close();
    }
    assert.equal(counting.connections, 0, 'no connection to OVSDB');
    assert.deepEqual(spawned, [], 'no process spawned');
    assert.deepEqual(await worldState(ovs()), before);
  } finally {
    cp.spawn = realSpawn;
    await counting.close();
  }
}

/** A guest that does not exist: validation must come first, or the error would be NAMESPACE_GONE. */
const NOWHERE = { netns: 'np-never-created' };

test('A8: external_id values with NUL, ESC, a lone surrogate, U+FFFD, 10 KB, a key with a space: INVALID_ARGUMENT, nothing sent', async () => {
  const base: AttachSpec = { host: 'ovs0', guest: NOWHERE, ip: { kind: 'none' } };
  const bad: Record<string, string>[] = [
    { note: 'a\u0000b' },
    { note: 'a\u001bb' },
    { note: 'a\ud800b' },
    { note: Buffer.from([0x61, 0xff, 0x62]).toString('utf8') },
    { note: 'x'.repeat(10_240) },
    { 'Foo Bar': 'x' },
  ];
  await refusedBeforeAnything(bad.map((metadata) => ({ ...base, metadata })));
});

test('A8: a shell-looking external_id value is stored literally and no bridge changes', async () => {
  await withGuest(async (g) => {
    const o = ovs();
    const bridges = await o.vsctl(['list-br']);
    const value = 'a;b -- del-br ovs0 $(reboot) `id` | x';
    await withPlumber(o, async (p) => {
      const r = await p.attach({
        host: 'ovs0',
        guest: { netns: g.name },
        ip: { kind: 'none' },
        metadata: { note: value },
      });
      assert.equal(
        JSON.parse((await o.vsctl(['get', 'port', r.record.hostIfname, 'external_ids:note'])).trim()),
        value,
      );
      assert.equal(await o.vsctl(['list-br']), bridges);
      await p.detach({ guest: { netns: g.name } });
    });
    assert.deepEqual(await ovsPorts(o), ['foreign0']);
  });
});

test('A9: metadata setting iface-id, attached-mac, iface-status, vm-id or netplumb.* keys: INVALID_ARGUMENT, nothing written', async () => {
  const keys = [
    'iface-id',
    'attached-mac',
    'iface-status',
    'vm-id',
    'netplumb.owner',
    'netplumb.attachment',
    'netplumb.record',
  ];
  await refusedBeforeAnything(
    keys.map((k) => ({ host: 'ovs0', guest: NOWHERE, ip: { kind: 'none' }, metadata: { [k]: 'x' } })),
  );
});

test('A10: netns names with path syntax, ".", "..", 300 characters: INVALID_ARGUMENT on attach and detach', async () => {
  const names = ['../../proc/1/ns/net', '/etc/passwd', 'a/b', '.', '..', 'x'.repeat(300), ''];
  const guests = names.map((netns) => ({ netns }));
  await refusedBeforeAnything(
    guests.map((guest) => ({ host: 'ovs0', guest, ip: { kind: 'none' } })),
    guests,
  );
});

test('H5: $(reboot), backticks, ;, | and newlines in every name: INVALID_ARGUMENT, no shell, nothing sent', async () => {
  const words = ['$(reboot)', '`id`', 'a;b', 'a|b', 'eth1\nrm'];
  const base: AttachSpec = { host: 'ovs0', guest: NOWHERE, ip: { kind: 'none' } };
  const specs = words.flatMap((w): AttachSpec[] => [
    { ...base, ifname: w },
    { ...base, hostIfname: w },
    { ...base, host: w },
    { ...base, guest: { container: w } },
    { ...base, guest: { netns: w } },
    { ...base, metadata: { [w]: 'x' } },
    { ...base, mac: w },
  ]);
  await refusedBeforeAnything(
    specs,
    words.flatMap((w) => [{ container: w }, { netns: w }]),
  );
});

test('H5: the tc pass-through hands shell syntax to tc as one argv word (shell: false), never to a shell', async () => {
  await withGuest(async (g) => {
    const cp = require('node:child_process') as typeof ChildProcess;
    const realSpawn = cp.spawn;
    const calls: { argv: string[]; shell: unknown }[] = [];
    cp.spawn = ((file: string, args: string[], opts: ChildProcess.SpawnOptions) => {
      calls.push({ argv: [file, ...args], shell: opts?.shell });
      return realSpawn(file, args, opts);
    }) as typeof cp.spawn;
    const marker = join(tmpdir(), `np-h5-${uniq()}`);
    try {
      await withPlumber(ovs(), async (p) => {
        await assert.rejects(
          p.passthrough({ netns: g.name }, 'tc', ['qdisc', 'show', 'dev', `lo;touch ${marker}`]),
          isCode('UNAVAILABLE'),
        );
      });
    } finally {
      cp.spawn = realSpawn;
    }
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.shell, false);
    assert.equal(calls[0]?.argv.at(-1), `lo;touch ${marker}`);
    assert.throws(() => readFileSync(marker), /ENOENT/, 'no shell ran the injected command');
  });
});
