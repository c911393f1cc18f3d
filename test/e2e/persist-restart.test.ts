/**
 * Declared attachments (`netplumb attach --persist`) through real podman restarts: the
 * daemon follows podman's events on its Docker-compatible service and makes the attachment
 * again in each new run of the container — same interface name, MAC, address and VLAN, as
 * `ip -json` inside the container's new namespace says, and its VLAN peer answers a ping.
 * `podman restart`; `podman stop` + `start` (list shows it waiting meanwhile); the
 * container's process SIGKILLed and restarted by podman's restart policy; the daemon
 * stopped while the container restarts (fixed when it starts again); `podman rm` (the
 * declaration and the OVS port go). One bed per test, nothing left after each.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { uniqueContainerName } from '../../sandbox/podman.js';
import { useLeakCheck } from '../helpers/leak.js';
import { PersistBed, eventually, type LinkJson } from '../helpers/persist-bed.js';

useLeakCheck();

interface Seen {
  pid: number;
  mac: string;
  ip: string;
}

async function withBed(fn: (bed: PersistBed) => Promise<void>): Promise<void> {
  const bed = await PersistBed.create();
  try {
    await fn(bed);
  } finally {
    await bed.destroy();
  }
}

function ipv4(l: LinkJson): string | undefined {
  const a = l.addr_info?.find((x) => x.family === 'inet');
  return a ? `${a.local}/${a.prefixlen}` : undefined;
}

/** eth1 in the container's current run, when it is there, up and addressed — and the only interface. */
async function eth1(bed: PersistBed, name: string): Promise<Seen | undefined> {
  const pid = await bed.podman.inspectPid(name);
  const links = await bed.links(name);
  const l = links.find((x) => x.ifname === 'eth1');
  if (l === undefined || l.operstate !== 'UP' || ipv4(l) === undefined || l.address === undefined) return undefined;
  assert.equal(links.length, 1, `${name} has exactly one interface besides lo: ${links.map((x) => x.ifname)}`);
  return { pid, mac: l.address, ip: ipv4(l) as string };
}

/** eth1 back in a new run of the container (another pid than `before`'s). */
function backAfter(bed: PersistBed, name: string, before: Seen, timeoutMs = 60_000): Promise<Seen> {
  return eventually(
    `${name}'s eth1 back in its new namespace`,
    async () => {
      const now = await eth1(bed, name);
      return now !== undefined && now.pid !== before.pid ? now : undefined;
    },
    timeoutMs,
  );
}

async function pingsEventually(bed: PersistBed, from: string, to: string): Promise<void> {
  await eventually(`${from} pings ${to}`, async () => ((await bed.pings(from, to)) ? true : undefined), 30_000);
}

interface ListJson {
  declared: { containerId: string; ifname: string; state: string; reason?: string }[];
}

async function declaredStates(bed: PersistBed): Promise<string[]> {
  const l = JSON.parse(await bed.ok(['list', '--json'])) as ListJson;
  return l.declared.map((d) => d.state);
}

/** Two containers on VLAN 100, attached with --persist (the first through pipework --persist if asked). */
async function pair(bed: PersistBed, opts: { restart?: string; pipework?: true } = {}): Promise<[string, string]> {
  const a = uniqueContainerName('pa');
  const b = uniqueContainerName('pb');
  await bed.podman.runContainer(a, opts.restart !== undefined ? { restart: opts.restart } : {});
  await bed.podman.runContainer(b);
  if (opts.pipework) await bed.ok(['--persist', 'ovs0', a, '10.9.0.1/24', '@100'], 'pipework');
  else
    await bed.ok(['attach', '--bridge', 'ovs0', '--container', a, '--ip', '10.9.0.1/24', '--vlan', '100', '--persist']);
  await bed.ok(['attach', '--bridge', 'ovs0', '--container', b, '--ip', '10.9.0.2/24', '--vlan', '100', '--persist']);
  return [a, b];
}

/** Detach both (the declarations go with it) and check nothing of them is left. */
async function detachBoth(bed: PersistBed, names: string[]): Promise<void> {
  for (const n of names) await bed.ok(['detach', '--container', n]);
  assert.deepEqual(bed.declarations(), [], 'detach removed the declarations');
  assert.deepEqual(await bed.ovsPorts(), [], 'detach removed the OVS ports');
}

test('podman restart: eth1 is back with the same MAC and IP and pings its VLAN peer', { timeout: 180_000 }, () =>
  withBed(async (bed) => {
    await bed.startDaemon();
    const [a, b] = await pair(bed);
    const before = (await eth1(bed, a)) as Seen;
    assert.ok(before, 'attached');
    assert.equal(bed.declarations().length, 2, 'two declarations in the state file');
    assert.deepEqual(await declaredStates(bed), ['applied', 'applied']);
    await pingsEventually(bed, a, '10.9.0.2');

    await bed.podman.podman(['restart', '-t', '0', a]);
    const after = await backAfter(bed, a, before);
    assert.equal(after.mac, before.mac, 'the same MAC');
    assert.equal(after.ip, '10.9.0.1/24', 'the same address');
    await pingsEventually(bed, a, '10.9.0.2');
    const id = bed.declarations().find((d) => d.containerId.length === 64)?.containerId;
    assert.ok(id);
    assert.equal((await bed.ovsPorts()).length, 2, 'one OVS port per container');
    assert.deepEqual(await declaredStates(bed), ['applied', 'applied']);
    // The daemon's history, one JSON event a line.
    const history = (await bed.ok(['events', '--json']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; guest?: string; result: string; why: string });
    const reapplied = history.filter((e) => e.kind === 'reapply' && e.guest === a);
    assert.ok(reapplied.length >= 1 && reapplied.every((e) => e.result === 'ok'), 'the history says it was put back');
    assert.match(reapplied[0]?.why ?? '', /attach --persist/);
    await detachBoth(bed, [a, b]);
  }),
);

test('podman stop + start: list says waiting while it is stopped; back on start', { timeout: 180_000 }, () =>
  withBed(async (bed) => {
    await bed.startDaemon();
    const [a, b] = await pair(bed);
    const before = (await eth1(bed, a)) as Seen;
    await bed.podman.stopContainer(a);
    const l = await eventually('list shows the stopped container waiting', async () => {
      const d = (JSON.parse(await bed.ok(['list', '--json'])) as ListJson).declared;
      return d.some((x) => x.state === 'waiting') ? d : undefined;
    });
    assert.deepEqual(l.map((x) => x.state).sort(), ['applied', 'waiting']);
    assert.match(l.find((x) => x.state === 'waiting')?.reason ?? '', /exited|stopped/);
    assert.match(await bed.ok(['list']), /waiting \(container (exited|stopped)\)/, 'the table says so too');
    await bed.podman.podman(['start', a]);
    const after = await backAfter(bed, a, before);
    assert.equal(after.mac, before.mac);
    assert.equal(after.ip, '10.9.0.1/24');
    await pingsEventually(bed, a, '10.9.0.2');
    assert.deepEqual(await declaredStates(bed), ['applied', 'applied']);
    assert.equal((await bed.ovsPorts()).length, 2, 'one OVS port per container, none left from the stopped run');
    await detachBoth(bed, [a, b]);
  }),
);

test(
  "SIGKILL of the container's process, restarted by podman's restart policy: back (declared by pipework --persist)",
  {
    timeout: 180_000,
  },
  () =>
    withBed(async (bed) => {
      await bed.startDaemon();
      const [a, b] = await pair(bed, { restart: 'always', pipework: true });
      assert.equal(bed.declarations().length, 2, 'pipework --persist declared it');
      const before = (await eth1(bed, a)) as Seen;
      process.kill(before.pid, 'SIGKILL');
      const after = await backAfter(bed, a, before);
      assert.equal(after.mac, before.mac);
      assert.equal(after.ip, '10.9.0.1/24');
      await pingsEventually(bed, a, '10.9.0.2');
      assert.equal((await bed.ovsPorts()).length, 2);
      await detachBoth(bed, [a, b]);
    }),
);

test('the daemon stopped, the container restarted, the daemon started: fixed at its start', { timeout: 180_000 }, () =>
  withBed(async (bed) => {
    await bed.startDaemon();
    const [a, b] = await pair(bed);
    const before = (await eth1(bed, a)) as Seen;
    assert.equal(await bed.stopDaemon(), 0, 'the daemon stops cleanly');
    await bed.podman.podman(['restart', '-t', '0', a]);
    const pid = await bed.podman.inspectPid(a);
    assert.notEqual(pid, before.pid);
    assert.deepEqual(await bed.links(a), [], 'nobody re-attached it while the daemon was down');
    // Without the daemon, list (acting alone on the same state dir) says what is missing.
    const alone = (JSON.parse(await bed.ok(['list', '--json'])) as ListJson).declared;
    assert.deepEqual(alone.map((d) => d.state).sort(), ['applied', 'failed']);
    assert.match(alone.find((d) => d.state === 'failed')?.reason ?? '', /netplumb serve/);
    await bed.startDaemon();
    const after = await backAfter(bed, a, before);
    assert.equal(after.mac, before.mac);
    await pingsEventually(bed, a, '10.9.0.2');
    await detachBoth(bed, [a, b]);
  }),
);

test('podman rm: the declaration and the OVS port go', { timeout: 180_000 }, () =>
  withBed(async (bed) => {
    await bed.startDaemon();
    const [a, b] = await pair(bed);
    const idA = (await bed.podman.podman(['inspect', '--format', '{{.Id}}', a])).trim();
    await bed.podman.removeContainer(a);
    await eventually('the declaration of the removed container dropped', async () =>
      bed.declarations().every((d) => d.containerId !== idA) ? true : undefined,
    );
    await eventually('its OVS port removed', async () =>
      (await bed.ovsPorts()).every((p) => p.containerId !== idA) ? true : undefined,
    );
    assert.equal(bed.declarations().length, 1, "the other container's declaration stays");
    assert.equal((await bed.ovsPorts()).length, 1);
    await detachBoth(bed, [b]);
  }),
);

test("gc keeps the declaration of a stopped container and drops a removed container's", { timeout: 180_000 }, () =>
  withBed(async (bed) => {
    // No daemon: the commands act alone on the same state directory, and nothing follows the events.
    const [a, b] = await pair(bed);
    const idOf = async (n: string) => (await bed.podman.podman(['inspect', '--format', '{{.Id}}', n])).trim();
    const [idA, idB] = [await idOf(a), await idOf(b)];
    await bed.podman.stopContainer(a);
    await bed.podman.removeContainer(b);
    const dry = JSON.parse(await bed.ok(['gc', '--grace', '0', '--dry-run', '--json'])) as {
      undeclared?: { containerId: string }[];
    };
    assert.deepEqual(
      dry.undeclared?.map((d) => d.containerId),
      [idB],
      'dry run: would drop the removed one',
    );
    assert.equal(bed.declarations().length, 2, 'a dry run changes nothing');
    assert.match(await bed.ok(['gc', '--grace', '0']), /dropped 1 declaration/);
    assert.deepEqual(
      bed.declarations().map((d) => d.containerId),
      [idA],
      "the stopped container's declaration stays",
    );
    assert.deepEqual(
      (await bed.ovsPorts()).filter((p) => p.containerId === idB),
      [],
      "the removed container's port is gone",
    );
    // It comes back when the daemon starts and the container does.
    await bed.startDaemon();
    await bed.podman.podman(['start', a]);
    await eventually(`${a} attached again`, async () => eth1(bed, a));
    await detachBoth(bed, [a]);
  }),
);
