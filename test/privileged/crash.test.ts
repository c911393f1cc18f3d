/**
 * Crash consistency (faults.md C9): the real `netplumb` command is SIGKILLed right after
 * each step k of an attach, and of a detach (the NETPLUMB_TEST_KILL_AT test hook), and
 * the daemon is SIGKILLed with 45 of 50 attaches in flight (ovsdb-server frozen, so that
 * none of them can finish first, whatever the load; 20 of them stopped between creating
 * their veth and recording it, by the NETPLUMB_TEST_HOLD_AT hook). After `gc --grace 0`,
 * or the restarted daemon's own reconcile, every attachment is whole or absent, none is
 * duplicated, nothing of ours is half-done, and another tool's ports and veths are
 * untouched. Checked with ovs-vsctl and ip -json (a veth not yet recorded: by its link group).
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Plumber, type PlumberOptions } from '../../src/plumb/plumber.js';
import { DaemonClient } from '../../src/daemon/client.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import type { GcEntry } from '../../src/plumb/gc.js';
import { daemonAnswers } from '../helpers/daemon.js';
import { useSharedOvs } from '../helpers/ovs.js';
import { waitForExit } from '../../sandbox/process.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import {
  attachingStamp,
  eventually,
  hostLinks,
  ourLinks,
  ourPorts,
  ovsPorts,
  unrecordedLinks,
  type HostLink,
} from '../helpers/ours.js';

const sharedOvs = useSharedOvs();
useLeakCheck();

const NETPLUMB = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
const options = (extra: Partial<PlumberOptions> = {}): PlumberOptions => ({
  ovsDb: sharedOvs().remote,
  hostNetns: { name: sharedOvs().netns },
  ...extra,
});
const address = (n: number) => `10.62.${n >> 8}.${(n & 255) + 1}`;
const spec = (g: TestNetns, n = 0): AttachSpec => ({
  host: 'ovs0',
  guest: { netns: g.name },
  ip: { kind: 'static', address: `${address(n)}/16`, gateway: '10.62.255.254' },
  vlan: 62,
});
const attachArgs = (g: TestNetns) => [
  'attach',
  '--bridge',
  'ovs0',
  '--container',
  `netns:${g.name}`,
  '--ip',
  `${address(0)}/16`,
  '--gateway',
  '10.62.255.254',
  '--vlan',
  '62',
];

/** `ip netns exec OVSNS netplumb ARGS --no-daemon` with extra env: its exit code or the signal that ended it. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn('ip', ['netns', 'exec', sharedOvs().netns, process.execPath, NETPLUMB, ...args, '--no-daemon'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NETPLUMB_SOCKET: '/nonexistent/netplumb.sock',
      NETPLUMB_LOG: '',
      OVS_DB: sharedOvs().remote,
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** Another tool's port (in error) and veth (with an alias): must survive everything. */
async function addForeign(): Promise<string> {
  const ovs = sharedOvs();
  await ovs.vsctl(['add-port', 'ovs0', 'frgn0', '--', 'set', 'Port', 'frgn0', 'external_ids:owner=other-tool']);
  await must(['ip', '-n', ovs.netns, 'link', 'add', 'frgnv0', 'type', 'veth', 'peer', 'name', 'frgnv1']);
  await must(['ip', '-n', ovs.netns, 'link', 'set', 'frgnv0', 'alias', 'other-tool']);
  return foreign();
}

async function foreign(): Promise<string> {
  const ports = (await ovsPorts(sharedOvs()))
    .filter((p) => p.externalIds['netplumb.owner'] === undefined)
    .map((p) => [p.name, p.externalIds]);
  const links = (await hostLinks(sharedOvs()))
    .filter((l) => l.ifname.startsWith('frgn'))
    .map((l) => [l.ifname, l.ifalias, l.group]);
  return JSON.stringify({ ports, links });
}

async function removeForeign(): Promise<void> {
  await sharedOvs().vsctl(['--if-exists', 'del-port', 'frgn0']);
  await must(['ip', '-n', sharedOvs().netns, 'link', 'del', 'frgnv0']).catch(() => undefined);
}

/**
 * The guest id netplumb records for each namespace, computed without it: the namespace's
 * SO_NETNS_COOKIE (socket option 71), read by python inside the namespace.
 */
async function netnsGuestIdOracle(guests: TestNetns[]): Promise<string[]> {
  return (await TestNetns.cookies(guests)).map((c) => `netns:cookie:${c}`);
}

/**
 * The oracle's verdict on one guest's attachment: 'whole' (host veth with a finished
 * record, in the default group, one healthy OVS port of ours, eth1 up with its address and default route),
 * 'absent' (none of it), or a description of what is half there.
 */
async function verdict(
  g: TestNetns,
  n: number,
  guestId: string,
  ports: Awaited<ReturnType<typeof ourPorts>>,
  links: Awaited<ReturnType<typeof ourLinks>>,
): Promise<string> {
  // One `ip addr` gives the link, its flags and its addresses.
  const eth1 = (await g.ip<{ ifname: string; flags: string[]; addr_info?: { local: string }[] }>('addr', 'show')).find(
    (l) => l.ifname === 'eth1',
  );
  const mine = ports.filter((p) => p.externalIds['netplumb.guest'] === guestId);
  const link = links.filter((l) => l.ifalias?.includes(`"guestId":"${guestId}"`));
  if (eth1 === undefined && mine.length === 0 && link.length === 0) return 'absent';
  const addrs = eth1?.addr_info?.map((a) => a.local) ?? [];
  const routes = (await g.ip<{ dst: string; gateway?: string }>('route', 'show', 'default')).map((r) => r.gateway);
  const whole =
    eth1?.flags.includes('UP') &&
    addrs.includes(address(n)) &&
    routes.includes('10.62.255.254') &&
    mine.length === 1 &&
    (mine[0]?.ofport ?? 0) > 0 &&
    mine[0]?.error === '' &&
    link.length === 1 &&
    !link[0]?.ifalias?.includes('"since"') &&
    link[0]?.group === 'default';
  return whole
    ? 'whole'
    : `half: eth1 ${eth1 ? 'present' : 'absent'}, addrs ${addrs.join(',')}, routes ${routes.join(',')}, ports ${JSON.stringify(mine)}, links ${JSON.stringify(link)}`;
}

/** How many guests the oracle looks into at once. */
const ORACLE_CONCURRENCY = 8;

/** Every attachment of ours is whole (a healthy port per host veth and back) and every guest whole or absent. */
async function assertConsistent(guests: TestNetns[], foreignBefore: string): Promise<string[]> {
  const ports = await ourPorts(sharedOvs());
  const links = await ourLinks(sharedOvs());
  assert.deepEqual(
    ports.map((p) => p.name).sort(),
    links.map((l) => l.ifname).sort(),
    'each port of ours has its host veth and each veth its port',
  );
  assert.equal(
    new Set(ports.map((p) => p.externalIds['netplumb.attachment'])).size,
    ports.length,
    'no attachment has two ports',
  );
  const ids = await netnsGuestIdOracle(guests);
  // A few guests at a time: each verdict runs two commands in its guest, and a hundred at once
  // on a loaded machine ran past the commands' 30 s timeout.
  const verdicts: string[] = [];
  for (let i = 0; i < guests.length; i += ORACLE_CONCURRENCY) {
    const batch = guests.slice(i, i + ORACLE_CONCURRENCY);
    verdicts.push(...(await Promise.all(batch.map((g, k) => verdict(g, i + k, ids[i + k] ?? '', ports, links)))));
  }
  for (const [n, v] of verdicts.entries()) assert.ok(v === 'whole' || v === 'absent', `guest ${n}: ${v}`);
  assert.equal(await foreign(), foreignBefore, "another tool's port and veth untouched");
  return verdicts;
}

/** The steps an attach and a detach of this spec go through, learned from one run. */
async function learnSteps(g: TestNetns): Promise<{ attach: string[]; detach: string[] }> {
  const attach: string[] = [];
  const detach: string[] = [];
  const p = Plumber.open(options({ stepHook: (s) => void attach.push(s), detachStepHook: (s) => void detach.push(s) }));
  try {
    await p.attach(spec(g));
    await p.detach({ guest: { netns: g.name } });
  } finally {
    await p.close();
  }
  return { attach, detach };
}

test('C9: netplumb attach / detach SIGKILLed after each step k, then gc --grace 0: whole or absent, never half', async () => {
  const g = await TestNetns.create('k');
  // gc, re-runs and clean-ups in this process: a fresh engine, with nothing in flight.
  const p = Plumber.open(options());
  try {
    const foreignBefore = await addForeign();
    const steps = await learnSteps(g);
    assert.ok(
      steps.attach.length >= 4 && steps.attach.at(-1) === 'complete',
      `attach steps: ${steps.attach.join(', ')}`,
    );
    // The veth is made (marked by its link group) and then recorded, in two steps: a kill at step 0 falls between.
    assert.deepEqual(steps.attach.slice(0, 2), ['veth', 'veth record']);
    assert.equal(steps.detach.length, 2, `detach steps: ${steps.detach.join(', ')}`);
    for (let k = 0; k < steps.attach.length; k++) {
      const killed = await cli(attachArgs(g), { NETPLUMB_TEST_KILL_AT: `attach:${k}` });
      assert.equal(killed.signal, 'SIGKILL', `attach killed after step ${k} (${steps.attach[k]}): ${killed.stderr}`);
      await p.gc({ graceSeconds: 0 });
      const [v] = await assertConsistent([g], foreignBefore);
      // Only the last step makes it whole: until then the host veth carries its "since" stamp.
      assert.equal(
        v,
        k === steps.attach.length - 1 ? 'whole' : 'absent',
        `after a kill at attach step ${k} (${steps.attach[k]})`,
      );
      // A re-run completes it (or finds it done), without duplicating anything.
      await p.attach(spec(g));
      assert.deepEqual(await assertConsistent([g], foreignBefore), ['whole']);
      if (k < steps.detach.length) {
        // Now kill a detach of it after step k.
        const dead = await cli(['detach', '--container', `netns:${g.name}`], { NETPLUMB_TEST_KILL_AT: `detach:${k}` });
        assert.equal(dead.signal, 'SIGKILL', `detach killed after step ${k} (${steps.detach[k]}): ${dead.stderr}`);
        await p.gc({ graceSeconds: 0 });
      } else {
        await p.detach({ guest: { netns: g.name } });
      }
      assert.deepEqual(await assertConsistent([g], foreignBefore), ['absent'], `after a kill at detach step ${k}`);
    }
  } finally {
    await p.close();
    await removeForeign();
    await g.destroy();
  }
});

/** A re-run once the grace period is over (here: none) replaces the half-done attach: whole; then detached. */
async function reRunReplaces(g: TestNetns, foreignBefore: string): Promise<void> {
  const p = Plumber.open(options({ graceSeconds: 0 }));
  try {
    assert.equal((await p.attach(spec(g))).changed, true);
    assert.deepEqual(await assertConsistent([g], foreignBefore), ['whole']);
    await p.detach({ guest: { netns: g.name } });
  } finally {
    await p.close();
  }
}

test('C9: a re-run after a killed attach replaces it once the grace period is over, and is refused within it', async () => {
  const g = await TestNetns.create('r');
  try {
    const foreignBefore = await foreign();
    const killed = await cli(attachArgs(g), { NETPLUMB_TEST_KILL_AT: 'attach:2' });
    assert.equal(killed.signal, 'SIGKILL');
    const refused = await cli(attachArgs(g));
    assert.equal(refused.code, 9, refused.stderr); // CONFLICT
    assert.match(refused.stderr, /within the 60 s grace period.*netplumb gc --grace 0/);
    await reRunReplaces(g, foreignBefore);
  } finally {
    await g.destroy();
  }
});

interface Served {
  child: ChildProcess;
  exited: Promise<void>;
}

/** `ip netns exec OVSNS netplumb serve --socket SOCK --ovs-db R [ARGS]` with extra env, once it answers on its socket. */
async function serve(sock: string, args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      sharedOvs().netns,
      process.execPath,
      NETPLUMB,
      'serve',
      '--socket',
      sock,
      '--ovs-db',
      sharedOvs().remote,
      ...args,
    ],
    { stdio: 'ignore', env: { ...process.env, NETPLUMB_LOG: '', ...env } },
  );
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  if (await daemonAnswers(sock, child)) return { child, exited };
  child.kill('SIGKILL');
  await exited;
  throw new Error('netplumb serve did not come up');
}

/** The attaches acknowledged before the daemon is killed in the middle of the others. */
const ACKED = [0, 1, 2, 3, 4];
/** Of the others, how many the daemon holds between creating their veth and recording it. */
const UNRECORDED = 20;

test('C9: the daemon SIGKILLed in the middle of 50 concurrent attaches and restarted reconciles by itself: whole or absent, every acknowledged attach whole', async () => {
  const top = mkdtempSync('/tmp/np-crash-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  const guests: TestNetns[] = [];
  let daemon: Served | undefined;
  try {
    const foreignBefore = await foreign();
    guests.push(...(await Promise.all(Array.from({ length: 50 }, () => TestNetns.create('d')))));
    // The 6th to the 25th attaches to have made their veth stop there, before their record:
    // step 0 is the veth, step 1 its record (as the first test checks).
    daemon = await serve(sock, [], {
      NETPLUMB_TEST_HOLD_AT: `attach:0:${ACKED.length + 1}-${ACKED.length + UNRECORDED}`,
    });
    const client = await DaemonClient.connect(sock);
    const acked = new Set<number>();
    const attach = (n: number) =>
      client.attach(spec(guests[n] as TestNetns, n)).then(
        () => void acked.add(n),
        () => undefined,
      );
    // Five attaches are acknowledged first.
    await Promise.all(ACKED.map(attach));
    assert.equal(acked.size, ACKED.length, 'the first attaches are acknowledged');
    // ovsdb-server frozen, none of the other 45 can finish (each needs its OVSDB
    // transaction), whatever the load: the daemon is killed once 20 of them have their veth
    // and no record on it (its link group its only mark), held there, and the other 25 have
    // their veth recorded "attaching since" and wait for OVSDB (their port transaction sent
    // or queued).
    const dbPid = sharedOvs().dbPid();
    process.kill(dbPid, 'SIGSTOP');
    let settled: Promise<void>[] = [];
    try {
      const inFlight = guests.slice(ACKED.length);
      settled = inFlight.map((_, i) => attach(ACKED.length + i));
      await eventually(
        `${UNRECORDED} attaches in flight to have a veth not recorded yet, the others a veth stamped "attaching since"`,
        async () => {
          const links = await ourLinks(sharedOvs());
          return (
            links.filter((l) => l.ifalias === undefined).length === UNRECORDED &&
            links.filter((l) => l.ifalias?.includes('"since"')).length === inFlight.length - UNRECORDED
          );
        },
        30_000,
      );
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    } finally {
      process.kill(dbPid, 'SIGCONT');
    }
    await Promise.all(settled);
    await client.close();
    assert.equal(acked.size, ACKED.length, 'nothing acknowledged while ovsdb-server was frozen');
    // One more guest, surely half attached: its attach (the command, acting alone) killed after its veth, before its record.
    const half = await TestNetns.create('h');
    guests.push(half);
    assert.equal((await cli(attachArgs(half), { NETPLUMB_TEST_KILL_AT: 'attach:0' })).signal, 'SIGKILL');
    const [halfId] = await netnsGuestIdOracle([half]);
    assert.match(
      await verdict(half, 0, halfId ?? '', await ourPorts(sharedOvs()), await ourLinks(sharedOvs())),
      /^half/,
    );
    assert.equal(
      (await unrecordedLinks(sharedOvs())).length,
      UNRECORDED + 1,
      'the held attaches and the killed one left veths marked by their group alone',
    );

    // Restarted with a 1 s grace period; nobody calls gc: the daemon's reconcile runs do it.
    daemon = await serve(sock, ['--gc-grace', '1']);
    // Nothing of ours half done any more: every veth recorded and finished (no "since" stamp, no
    // attaching group) and with its port, and back.
    const settledOnHost = async () => {
      const [ports, links] = [await ourPorts(sharedOvs()), await ourLinks(sharedOvs())];
      return (
        links.every((l) => l.ifalias !== undefined && !l.ifalias.includes('"since"') && l.group === 'default') &&
        JSON.stringify(ports.map((p) => p.name).sort()) === JSON.stringify(links.map((l) => l.ifname).sort())
      );
    };
    await eventually('the restarted daemon to reconcile', settledOnHost, 15_000).catch(async (e: unknown) => {
      await assertConsistent(guests, foreignBefore); // fails with what is still half done
      throw e;
    });
    const verdicts = await assertConsistent(guests, foreignBefore);
    for (const n of acked) assert.equal(verdicts[n], 'whole', `guest ${n}: acknowledged, so whole`);
    assert.equal(verdicts.at(-1), 'absent', 'the half attach is rolled back');
    // Connected now, not before the verdicts: the daemon hangs up a connection idle for 30 s.
    const again = await DaemonClient.connect(sock);
    try {
      await Promise.all(guests.map((g) => again.detach({ guest: { netns: g.name } })));
      assert.deepEqual(await ourPorts(sharedOvs()), []);
      assert.deepEqual(await ourLinks(sharedOvs()), []);
    } finally {
      await again.close();
    }
  } finally {
    daemon?.child.kill('SIGTERM');
    await daemon?.exited;
    if (daemon?.child.pid !== undefined) await waitForExit(daemon.child.pid);
    await Promise.all(guests.map((g) => g.destroy()));
    rmSync(top, { recursive: true, force: true });
  }
});

/** `netplumb gc ARGS --json` (the command, acting alone): its report. */
async function gcReport(args: string[]): Promise<{ removed: GcEntry[]; kept: GcEntry[] }> {
  const child = spawn(
    'ip',
    ['netns', 'exec', sharedOvs().netns, process.execPath, NETPLUMB, 'gc', ...args, '--json', '--no-daemon'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NETPLUMB_LOG: '', OVS_DB: sharedOvs().remote } },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, out);
  return JSON.parse(out) as { removed: GcEntry[]; kept: GcEntry[] };
}

/** The one host veth of ours with no record, as `ip -json -d link show` has it, and its attach killed between t0 and t1. */
async function theUnrecordedVeth(t0: number, t1: number): Promise<HostLink> {
  const bare = await unrecordedLinks(sharedOvs());
  assert.equal(bare.length, 1, JSON.stringify(bare));
  const [link] = bare as [HostLink];
  assert.equal(link.linkinfo?.info_kind, 'veth');
  // Its group says when its attach began: a second between t0 and t1 (modulo 2^24).
  const seconds = Array.from(
    { length: Math.floor(t1 / 1000) - Math.floor(t0 / 1000) + 1 },
    (_, i) => (Math.floor(t0 / 1000) + i) % 0x100_0000,
  );
  assert.ok(seconds.includes(attachingStamp(link) ?? -1), `group ${link.group}, attach begun in ${seconds.join(',')}`);
  assert.ok(!(await ovsPorts(sharedOvs())).some((p) => p.name === link.ifname), 'no OVS port made for it yet');
  return link;
}

test("C9: an attach killed between creating its veth and recording it: the veth carries its attaching group; gc, and the daemon restarted, remove it; a re-run refuses it within the grace period, replaces it after; another tool's veths in the same state are untouched", async () => {
  const g = await TestNetns.create('w');
  const other = await TestNetns.create('o');
  const top = mkdtempSync('/tmp/np-crash-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  let daemon: Served | undefined;
  const killInWindow = async (): Promise<HostLink> => {
    const t0 = Date.now();
    const killed = await cli(attachArgs(g), { NETPLUMB_TEST_KILL_AT: 'attach:0' });
    const t1 = Date.now();
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const link = await theUnrecordedVeth(t0, t1);
    assert.ok((await g.linkNames()).includes('eth1'), 'its guest end is in the guest');
    return link;
  };
  try {
    // Another tool's veths in the state ours is left in (host end without alias, guest end in
    // a guest), one in the default group and one in a group of its own.
    const ns = sharedOvs().netns;
    await must(['ip', '-n', ns, 'link', 'add', 'frgnw0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', other.name]);
    await must([
      'ip',
      '-n',
      ns,
      'link',
      'add',
      'frgnw2',
      'group',
      '4242',
      'type',
      'veth',
      'peer',
      'name',
      'eth2',
      'netns',
      other.name,
    ]);
    const foreignBefore = await foreign();
    assert.deepEqual(await unrecordedLinks(sharedOvs()), [], "another tool's veths carry no mark of ours");

    const link = await killInWindow();
    // Within the grace period: gc leaves it, a re-run refuses it (another attach may be running).
    const young = await gcReport([]);
    assert.deepEqual(
      young.kept.filter((e) => e.link === link.ifname).map((e) => e.reason),
      ['attaching'],
      JSON.stringify(young),
    );
    assert.deepEqual(young.removed, []);
    const refused = await cli(attachArgs(g));
    assert.equal(refused.code, 9, refused.stderr); // CONFLICT
    assert.match(refused.stderr, /has not finished.*within the 60 s grace period/);
    assert.deepEqual(
      (await unrecordedLinks(sharedOvs())).map((l) => l.ifname),
      [link.ifname],
      'left as it was',
    );
    // gc --grace 0 removes it, and its guest end with it.
    const old = await gcReport(['--grace', '0']);
    assert.deepEqual(
      old.removed.map((e) => [e.link, e.reason]),
      [[link.ifname, 'unfinished']],
    );
    assert.deepEqual(await unrecordedLinks(sharedOvs()), []);
    assert.deepEqual(await g.linkNames(), ['lo']);
    assert.equal(await foreign(), foreignBefore, "another tool's veths untouched");

    // A re-run after the grace period replaces it: the attachment whole, its veth in group 0.
    await killInWindow();
    await reRunReplaces(g, foreignBefore);
    assert.deepEqual(await assertConsistent([g], foreignBefore), ['absent']);

    // The daemon, restarted after a crash, removes it by itself (its gc once the grace period is over).
    await killInWindow();
    daemon = await serve(sock, ['--gc-grace', '1']);
    await eventually(
      'the daemon to remove the veth without a record',
      async () => (await unrecordedLinks(sharedOvs())).length === 0,
      15_000,
    );
    assert.deepEqual(await assertConsistent([g], foreignBefore), ['absent']);
    assert.deepEqual((await other.linkNames()).sort(), ['eth1', 'eth2', 'lo'], "the other tool's guest ends are there");
  } finally {
    daemon?.child.kill('SIGTERM');
    await daemon?.exited;
    if (daemon?.child.pid !== undefined) await waitForExit(daemon.child.pid);
    await must(['ip', '-n', sharedOvs().netns, 'link', 'del', 'frgnw0']).catch(() => undefined);
    await must(['ip', '-n', sharedOvs().netns, 'link', 'del', 'frgnw2']).catch(() => undefined);
    await g.destroy();
    await other.destroy();
    rmSync(top, { recursive: true, force: true });
  }
});
