/**
 * gc against a real OVS (faults.md D2, D6): it removes what netplumb owns and nobody
 * uses, and nothing else — not another tool's ports or links, not an attach still under
 * way, not a live attachment. Checked with ovs-vsctl and ip -json.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from '../../src/daemon/server.js';
import { Plumber, type PlumberOptions } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { useSharedOvs } from '../helpers/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { must, run } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import { eventually, hostLinks, ourLinks, ovsPorts, unrecordedLinks } from '../helpers/ours.js';
import { NetplumbError } from '../../src/errors.js';
import type { GcResult } from '../../src/plumb/gc.js';

const sharedOvs = useSharedOvs();
const NETPLUMB = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
useLeakCheck();

const options = (extra: Partial<PlumberOptions> = {}): PlumberOptions => ({
  ovsDb: sharedOvs().remote,
  hostNetns: { name: sharedOvs().netns },
  ...extra,
});
const spec = (g: TestNetns, n: number): AttachSpec => ({
  host: 'ovs0',
  guest: { netns: g.name },
  ip: { kind: 'static', address: `10.61.0.${n}/24` },
});
const summary = (r: {
  removed: { ports: string[]; reason: string }[];
  kept: { ports: string[]; reason: string }[];
}) => ({
  removed: r.removed.map((e) => `${e.ports.join(',')} ${e.reason}`).sort(),
  kept: r.kept.map((e) => `${e.ports.join(',')} ${e.reason}`).sort(),
});

/** Another tool's port in error, with its own mark, and another tool's veth with an alias. */
async function addForeign(): Promise<void> {
  const ovs = sharedOvs();
  await ovs.vsctl(['add-port', 'ovs0', 'frgn0', '--', 'set', 'Port', 'frgn0', 'external_ids:owner=other-tool']);
  await must(['ip', '-n', ovs.netns, 'link', 'add', 'frgnv0', 'type', 'veth', 'peer', 'name', 'frgnv1']);
  await must(['ip', '-n', ovs.netns, 'link', 'set', 'frgnv0', 'alias', 'other-tool {"id":"x"}']);
}

/** The guest's namespace is destroyed; the kernel removes the veth pair with it (asynchronously). */
async function killGuest(g: TestNetns, hostIfname: string): Promise<void> {
  await g.destroy();
  await eventually(
    `host veth ${hostIfname} to go with its namespace`,
    async () => !(await hostLinks(sharedOvs())).some((l) => l.ifname === hostIfname),
  );
}

async function removeForeign(): Promise<void> {
  await sharedOvs().vsctl(['--if-exists', 'del-port', 'frgn0']);
  await must(['ip', '-n', sharedOvs().netns, 'link', 'del', 'frgnv0']);
}

/** A Plumber whose attaches stop after `step` until released: `reached` once one got there. */
function heldAfter(step: string): { plumber: Plumber; reached: Promise<void>; release: () => void } {
  let arrived!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const gate = new Promise<void>((r) => (release = r));
  const plumber = Plumber.open(
    options({
      stepHook: async (s) => {
        if (s === step) {
          arrived();
          await gate;
        }
      },
    }),
  );
  return { plumber, reached, release };
}

test('D6: gc removes only our port in error with no live attachment; foreign, in-flight and live ones stay', async () => {
  const ovs = sharedOvs();
  const [ga, gc, gd] = [await TestNetns.create('ga'), await TestNetns.create('gc'), await TestNetns.create('gd')];
  const p = Plumber.open(options());
  // (c) runs in its own Plumber (another process, as far as p can tell), held after its port is written.
  const { plumber: q, reached: atPort, release } = heldAfter('ovs port');
  let inFlight: Promise<unknown> | undefined;
  try {
    await addForeign();
    // (a) attached long ago; its container died: the veth went with the namespace, the port
    // stays, and once ovs-vswitchd restarts (a host reboot…) its interface is in error.
    const a = (await p.attach(spec(ga, 1))).record.hostIfname;
    await killGuest(ga, a);
    await ovs.vsctl(['set', 'Port', a, 'external_ids:netplumb.created=2020-01-01T00:00:00.000Z']);
    await ovs.stopVswitchd();
    await ovs.startVswitchd();
    await eventually(`an error on interface ${a} and frgn0`, async () =>
      (await ovsPorts(ovs)).filter((x) => x.name === a || x.name === 'frgn0').every((x) => x.error !== ''),
    );
    // (d) live and healthy.
    const d = (await p.attach(spec(gd, 4))).record.hostIfname;
    // (c) in flight, its port written a moment ago.
    inFlight = q.attach(spec(gc, 3));
    await atPort;
    const c = (await ovsPorts(ovs)).map((x) => x.name).find((n) => n !== a && n !== d && n !== 'frgn0');
    assert.ok(c !== undefined, 'the in-flight attach wrote its port');

    const beforeLinks = (await hostLinks(ovs)).map((l) => l.ifname).sort();
    // The attaching process itself, even with no grace at all, leaves its own attach alone.
    assert.deepEqual(summary(await q.gc({ dryRun: true, graceSeconds: 0 })), {
      removed: [`${a} guest-gone`],
      kept: [`${c} in-flight`, `${d} in-use`].sort(),
    });
    // Any other process: within the grace period.
    const r = await p.gc();
    assert.deepEqual(summary(r), { removed: [`${a} guest-gone`], kept: [`${c} attaching`, `${d} in-use`].sort() });
    assert.match(r.removed[0]?.detail ?? '', /container or namespace died/);

    const ports = await ovsPorts(ovs);
    assert.deepEqual(
      ports.map((x) => x.name),
      [c, d, 'frgn0'].sort(),
      'ovs-vsctl: only (a) is gone',
    );
    assert.equal(ports.find((x) => x.name === 'frgn0')?.externalIds.owner, 'other-tool');
    assert.deepEqual((await hostLinks(ovs)).map((l) => l.ifname).sort(), beforeLinks, 'ip link: no host link removed');
    assert.equal((await gc.link('eth1'))?.ifname, 'eth1', 'the in-flight guest interface is there');
    const listed = await p.list();
    assert.match(
      listed.find((x) => x.record.hostIfname === c)?.attachingSince ?? '',
      /^\d{4}-\d\d-\d\dT/,
      'netplumb list shows the attach under way',
    );
    assert.equal(listed.find((x) => x.record.hostIfname === d)?.attachingSince, undefined);

    release();
    await inFlight;
    assert.deepEqual(summary(await p.gc({ graceSeconds: 0 })), {
      removed: [],
      kept: [`${c} in-use`, `${d} in-use`].sort(),
    });
    assert.deepEqual((await ourLinks(ovs)).map((l) => l.ifname).sort(), [c, d].sort());
    assert.ok(
      (await ourLinks(ovs)).every((l) => !l.ifalias?.includes('"since"')),
      'finished attaches carry no "since" stamp',
    );
    await q.detach({ guest: { netns: gc.name } });
    await p.detach({ guest: { netns: gd.name } });
    assert.deepEqual(
      (await ovsPorts(ovs)).map((x) => x.name),
      ['frgn0'],
    );
  } finally {
    release();
    await inFlight?.catch(() => undefined);
    for (const g of [gc, gd]) await p.detach({ guest: { netns: g.name } }).catch(() => undefined);
    await removeForeign().catch(() => undefined);
    await p.close();
    await q.close();
    for (const g of [ga, gc, gd]) await g.destroy();
  }
});

test('D6 (c): an attach held between creating its veth and recording it is in flight for its own gc (even with no grace), attaching for any other gc and re-run, and whole once it goes on', async () => {
  const g = await TestNetns.create('gw');
  const { plumber: q, reached: atVeth, release } = heldAfter('veth');
  const p = Plumber.open(options());
  let inFlight: Promise<unknown> | undefined;
  try {
    inFlight = q.attach(spec(g, 9));
    await atVeth;
    const [bare, ...more] = await unrecordedLinks(sharedOvs());
    assert.ok(bare !== undefined && more.length === 0, 'ip -d link: one veth, no alias, in an attaching group');
    const about = (r: GcResult) => [
      ...r.removed.filter((e) => e.link === bare.ifname).map((e) => `removed ${e.reason}`),
      ...r.kept.filter((e) => e.link === bare.ifname).map((e) => `kept ${e.reason}`),
    ];
    assert.deepEqual(about(await q.gc({ graceSeconds: 0 })), ['kept in-flight']);
    assert.deepEqual(about(await p.gc()), ['kept attaching']);
    await assert.rejects(
      p.attach(spec(g, 9)),
      (e: unknown) => e instanceof NetplumbError && e.code === 'CONFLICT' && /grace period/.test(e.message),
    );
    assert.deepEqual(
      (await unrecordedLinks(sharedOvs())).map((l) => l.ifname),
      [bare.ifname],
      'still there, unrecorded',
    );
    release();
    await inFlight;
    const whole = (await ourLinks(sharedOvs())).find((l) => l.ifname === bare.ifname);
    assert.equal(whole?.group, 'default', 'the finished veth is back in group 0');
    assert.ok(whole?.ifalias?.startsWith('netplumb ') && !whole.ifalias.includes('"since"'), whole?.ifalias);
    await p.detach({ guest: { netns: g.name } });
    assert.deepEqual(await ourLinks(sharedOvs()), []);
  } finally {
    release();
    await inFlight?.catch(() => undefined);
    await p.detach({ guest: { netns: g.name } }).catch(() => undefined);
    await p.close();
    await q.close();
    await g.destroy();
  }
});

test('D2, dry run: the guest dies; gc --dry-run lists the port with its reason and removes nothing; gc removes it', async () => {
  const ovs = sharedOvs();
  const g = await TestNetns.create('gx');
  const p = Plumber.open(options());
  try {
    const name = (await p.attach(spec(g, 9))).record.hostIfname;
    await killGuest(g, name);
    const dry = await p.gc({ dryRun: true, graceSeconds: 0 });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(summary(dry), { removed: [`${name} guest-gone`], kept: [] });
    // The command: the same, for a script (--json) and for a person.
    const cli = (args: string[]) =>
      run(['ip', 'netns', 'exec', ovs.netns, process.execPath, NETPLUMB, 'gc', ...args, '--no-daemon'], {
        env: { ...process.env, OVS_DB: ovs.remote, NETPLUMB_LOG: '' },
      });
    const json = await cli(['--dry-run', '--grace', '0', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as {
      ok: boolean;
      dryRun: boolean;
      removed: { ports: string[]; reason: string; detail: string }[];
      kept: unknown[];
    };
    assert.deepEqual(
      {
        ok: parsed.ok,
        dryRun: parsed.dryRun,
        removed: parsed.removed.map((e) => [e.ports, e.reason]),
        kept: parsed.kept,
      },
      { ok: true, dryRun: true, removed: [[[name], 'guest-gone']], kept: [] },
    );
    const text = await cli(['--dry-run', '--grace', '0']);
    assert.match(
      text.stdout,
      new RegExp(
        `^would remove 1:\n  netns:cookie:\\d+ eth1 \\(OVS port ${name}\\): guest-gone: host veth gone: its container or namespace died\n`,
      ),
    );
    assert.match(
      (await cli(['--dry-run'])).stdout,
      /^nothing to collect\nleft alone \(under way or within the 60 s grace period\) 1:/,
      'the default grace period keeps a fresh one',
    );
    assert.deepEqual(
      (await ovsPorts(ovs)).map((x) => x.name),
      [name],
      'dry run: still there',
    );
    assert.deepEqual(summary(await p.gc({ graceSeconds: 0 })), { removed: [`${name} guest-gone`], kept: [] });
    assert.deepEqual(await ovsPorts(ovs), []);
  } finally {
    await p.close();
    await g.destroy();
  }
});

test("the daemon's periodic gc (serve --gc-interval) removes a dead guest's port and logs it", async () => {
  const ovs = sharedOvs();
  const top = mkdtempSync('/tmp/np-gc-');
  chmodSync(top, 0o755);
  const lines: Record<string, unknown>[] = [];
  const pino = require('pino') as typeof import('pino');
  const logger = pino.default(
    { level: 'info' },
    { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  const g = await TestNetns.create('gp');
  const d = await startDaemon({
    socketPath: join(top, 'run', 'netplumb.sock'),
    plumberOptions: options(),
    logger,
    gcIntervalSeconds: 1,
    gcGraceSeconds: 0,
  });
  const p = Plumber.open(options());
  try {
    // Both reconcile runs (at start, and after the grace period) are over: only the periodic one is left.
    await eventually(
      'the reconcile runs',
      async () => lines.filter((l) => l.msg === 'reconcile done').length === 2,
      5000,
    );
    const name = (await p.attach(spec(g, 7))).record.hostIfname;
    await killGuest(g, name);
    await eventually(`the periodic gc to remove ${name}`, async () => (await ovsPorts(ovs)).length === 0, 5000);
    const logged = lines.find((l) => l.msg === 'periodic gc removed an attachment');
    assert.deepEqual(logged && [logged.ports, logged.reason], [[name], 'guest-gone']);
  } finally {
    await p.close();
    await d.close();
    await g.destroy();
    rmSync(top, { recursive: true, force: true });
  }
});
