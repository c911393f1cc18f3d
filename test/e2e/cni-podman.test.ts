/**
 * netplumb-cni under a real runtime: podman 4.3 with its CNI backend, all in a private
 * config (containers.conf with `network_backend = "cni"`, the plugin dir holding
 * `netplumb-cni` = the native front door, a conf dir of conflists written as for ovs-cni),
 * private storage, and busybox containers (`podman run --network NET --rootfs R`).
 * Each test has its own emulated host: a namespace with ovsdb-server + ovs-vswitchd
 * (bridge ovs0) and `netplumb serve` on a private socket, where podman, conmon and so the
 * plugin run; the plugin's calls go through the front door to that daemon.
 *
 * Oracles: ovs-vsctl (ports, tags), `ip -json` in the host's and the containers' namespaces
 * (the container's eth0 peer is the OVS port), ping from inside the containers, host-local's
 * lease files, podman's own view (inspect, ps).
 */
import { after, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must, run } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { PodmanSandbox, uniqueContainerName } from '../../sandbox/podman.js';
import {
  CNI_RESULTS_CACHE,
  CniBed,
  cachedCniResults,
  execCni,
  NETPLUMB_CNI,
  pluginInput,
  REFERENCE_PLUGINS,
  type NetworkSpec,
  type ServeDaemon,
  type Seen,
  hostLinkNames,
  ipOf,
  inParallel,
  ovsPorts,
  pingsFrom,
  seenInside,
} from '../helpers/cni.js';
import { waitUntil } from '../../sandbox/ovn-host.js';
import { useLeakCheck } from '../helpers/leak.js';

const NETPLUMB = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
/** The seed's two VLANs as two networks on one bridge, in one /24: only the VLANs isolate. */
const NETS: Record<'v100' | 'v200', NetworkSpec> = {
  v100: {
    name: 'np-cni-v100',
    type: NETPLUMB_CNI,
    bridge: 'ovs0',
    vlan: 100,
    subnet: '10.0.0.0/24',
    range: ['10.0.0.10', '10.0.0.119'],
  },
  v200: {
    name: 'np-cni-v200',
    type: NETPLUMB_CNI,
    bridge: 'ovs0',
    vlan: 200,
    subnet: '10.0.0.0/24',
    range: ['10.0.0.130', '10.0.0.239'],
  },
};

interface Bed {
  ovs: OvsInstance;
  cni: CniBed;
  daemon: ServeDaemon;
  podman: PodmanSandbox;
}

let shared: { ovs?: OvsInstance; cni?: CniBed; daemon?: ServeDaemon; podman?: PodmanSandbox } = {};

/** A fresh host for each test: OVS with ovs0, the conflists, the daemon, podman in the host's namespace. */
async function withBed(fn: (b: Bed) => Promise<void>): Promise<void> {
  shared = {};
  try {
    const ovs = await startOvs({ withVswitchd: true });
    shared.ovs = ovs;
    await ovs.addBridge('ovs0');
    const cni = CniBed.create(ovs);
    shared.cni = cni;
    for (const net of Object.values(NETS)) cni.writeConflist(net);
    shared.daemon = await cni.startServe();
    shared.podman = await PodmanSandbox.create({
      netns: ovs.netns,
      cni: { pluginDirs: [cni.pluginDir, REFERENCE_PLUGINS], configDir: cni.confDir },
      env: { NETPLUMB_SOCKET: cni.socket },
    });
    const listed = (await shared.podman.podman(['network', 'ls', '--format', '{{.Name}}'])).split('\n');
    for (const net of Object.values(NETS))
      assert.ok(listed.includes(net.name), `podman lists ${net.name} (its VERSION call passed): ${listed.join(' ')}`);
    await fn({ ovs, cni, daemon: shared.daemon, podman: shared.podman });
  } finally {
    await teardown();
  }
}

async function teardown(): Promise<void> {
  const { ovs, cni, daemon, podman } = shared;
  shared = {};
  const errors: unknown[] = [];
  await podman?.destroy().catch((e: unknown) => errors.push(e));
  await daemon?.stop().catch((e: unknown) => errors.push(e));
  await ovs?.stop().catch((e: unknown) => errors.push(e));
  cni?.remove();
  if (errors.length > 0) throw new AggregateError(errors, 'CNI podman bed cleanup failed');
}

after(teardown);
useLeakCheck();

/** `podman run -d --name NAME --network NET --rootfs R sleep` (ADD). */
async function runOn(b: Bed, name: string, net: NetworkSpec): Promise<{ code: number | null; stderr: string }> {
  const r = await b.podman.tryPodman(
    ['run', '-d', '--name', name, '--network', net.name, '--rootfs', b.podman.rootfs, '/bin/sleep', '100000'],
    { timeoutMs: 120_000 },
  );
  return { code: r.code, stderr: r.stderr };
}

async function mustRun(b: Bed, name: string, net: NetworkSpec): Promise<void> {
  const r = await runOn(b, name, net);
  assert.equal(r.code, 0, `podman run ${name} on ${net.name}: ${r.stderr}`);
}

const ports = (b: Bed): Promise<string[]> => ovsPorts(b.ovs);
const hostLinks = (b: Bed): Promise<string[]> => hostLinkNames(b.ovs);
const seen = async (b: Bed, name: string): Promise<Seen> => seenInside(b.ovs, await b.podman.inspectPid(name));
const pings = async (b: Bed, from: string, to: string, tries = 1): Promise<boolean> =>
  pingsFrom(await b.podman.inspectPid(from), to, tries);
const waitFor = (cond: () => Promise<boolean>, what: string): Promise<void> => waitUntil(what, cond, 30_000);

/** What podman says the plugin answered: the address and mac of the container on `net`. */
async function podmanSays(b: Bed, name: string, net: NetworkSpec): Promise<{ address: string; mac: string }> {
  const nets = JSON.parse(
    await b.podman.podman(['inspect', '--format', '{{json .NetworkSettings.Networks}}', name]),
  ) as Record<string, { IPAddress: string; IPPrefixLen: number; MacAddress: string }>;
  const n = nets[net.name];
  assert.ok(n !== undefined, `podman inspect ${name} shows network ${net.name}`);
  return { address: `${n.IPAddress}/${n.IPPrefixLen}`, mac: n.MacAddress };
}

/** The container is on `net` exactly as podman (the plugin's result) says: address, mac, OVS port with the VLAN. */
async function assertAttached(b: Bed, name: string, net: NetworkSpec): Promise<Seen> {
  const s = await seen(b, name);
  const said = await podmanSays(b, name, net);
  assert.equal(s.address, said.address, `${name}: the address podman got from the plugin is on eth0`);
  assert.equal(s.mac, said.mac, `${name}: the mac podman got from the plugin is eth0's`);
  assert.equal(s.tag, net.vlan, `${name}: its port is on VLAN ${net.vlan}`);
  assert.ok(b.cni.leases(net.name).includes(s.address.split('/')[0] as string), `${name}: host-local holds its lease`);
  return s;
}

/** Nothing of any container is left on the host: no port, no host end, no lease. */
async function assertNothingLeft(b: Bed, what: string): Promise<void> {
  assert.deepEqual(await ports(b), [], `${what}: no port left on ovs0`);
  assert.deepEqual(await hostLinks(b), [], `${what}: no veth left on the host`);
  for (const net of Object.values(NETS))
    assert.deepEqual(b.cni.leases(net.name), [], `${what}: no lease left on ${net.name}`);
  assert.deepEqual(
    cachedCniResults(Object.values(NETS)),
    [],
    `${what}: podman dropped every cached CNI result of these networks`,
  );
}

test('the seed on two CNI networks: same-VLAN pings pass, cross-VLAN fail; stop, start and rm', async () => {
  await withBed(async (b) => {
    const names = [1, 2, 3, 4].map((i) => uniqueContainerName(`cni${i}`));
    const nets = [NETS.v100, NETS.v100, NETS.v200, NETS.v200];
    for (const [i, n] of names.entries()) await mustRun(b, n, nets[i] as NetworkSpec);
    const s = await Promise.all(names.map((n, i) => assertAttached(b, n, nets[i] as NetworkSpec)));
    assert.deepEqual(await ports(b), s.map((x) => x.hostEnd).sort(), 'one port per container, nothing else');
    const [c1, c2, c3, c4] = names as [string, string, string, string];
    const [s1, s2, s3, s4] = s as [Seen, Seen, Seen, Seen];
    assert.ok(await pings(b, c1, ipOf(s2), 3), 'con1 → con2 (VLAN 100)');
    assert.ok(await pings(b, c3, ipOf(s4), 3), 'con3 → con4 (VLAN 200)');
    for (const [from, to] of [
      [c1, s3],
      [c1, s4],
      [c2, s3],
      [c4, s2],
    ] as const)
      assert.equal(await pings(b, from, ipOf(to)), false, `${from} ↛ ${ipOf(to)} (other VLAN)`);

    assert.ok(
      b.daemon.logged('front-door call', NETPLUMB_CNI) >= 4,
      'the four ADDs ran in the daemon, through the front door',
    );
    assert.equal(b.daemon.logged('front-door call handed back'), 0, 'no call was handed back to Node.js');

    // podman stop: DEL; the port, the host end and the lease are gone; the others stay.
    await b.podman.stopContainer(c2);
    assert.deepEqual(await ports(b), [s1, s3, s4].map((x) => x.hostEnd).sort(), 'stop removed its port');
    assert.equal((await hostLinks(b)).includes(s2.hostEnd), false, 'stop removed its host end');
    assert.equal(b.cni.leases(NETS.v100.name).includes(ipOf(s2)), false, 'stop released its lease');
    // podman start: ADD again, working.
    await b.podman.podman(['start', c2]);
    const again = await assertAttached(b, c2, NETS.v100);
    assert.equal((await ports(b)).length, 4);
    assert.ok(await pings(b, c2, ipOf(s1), 3), 'restarted con2 → con1');
    assert.ok(await pings(b, c1, ipOf(again), 3), 'con1 → restarted con2');
    assert.equal(await pings(b, c2, ipOf(s3)), false, 'restarted con2 ↛ con3');

    // podman rm: nothing of them left.
    for (const n of names) await b.podman.removeContainer(n);
    await assertNothingLeft(b, 'podman rm');
    assert.equal((await b.podman.podman(['ps', '-a', '--quiet'])).trim(), '');
  });
});

test('50 containers started in parallel (16 at a time) are all attached, then all removed cleanly', async () => {
  await withBed(async (b) => {
    const names = Array.from({ length: 50 }, (_, i) => uniqueContainerName(`par${i}`));
    const netOf = (i: number): NetworkSpec => (i % 2 === 0 ? NETS.v100 : NETS.v200);
    const runs = await inParallel([...names.keys()], 16, (i) => runOn(b, names[i] as string, netOf(i)));
    for (const [i, r] of runs.entries()) assert.equal(r.code, 0, `podman run ${names[i]}: ${r.stderr}`);
    const s = await inParallel([...names.keys()], 8, (i) => assertAttached(b, names[i] as string, netOf(i)));
    assert.deepEqual(await ports(b), s.map((x) => x.hostEnd).sort(), '50 ports, one per container');
    assert.equal(new Set(s.map(ipOf)).size, 50, 'fifty distinct addresses');
    assert.ok(await pings(b, names[0] as string, ipOf(s[48] as Seen), 3), 'two of VLAN 100 ping');
    assert.ok(await pings(b, names[1] as string, ipOf(s[49] as Seen), 3), 'two of VLAN 200 ping');
    await inParallel(names, 16, (n) => b.podman.removeContainer(n));
    await assertNothingLeft(b, '50 removed in parallel');
  });
});

test('a container killed with SIGKILL, and one whose namespace is gone before DEL: rm leaves nothing', async () => {
  await withBed(async (b) => {
    const [killed, gone, other] = ['kill', 'gone', 'other'].map((p) => uniqueContainerName(p)) as [
      string,
      string,
      string,
    ];
    for (const n of [killed, gone, other]) await mustRun(b, n, NETS.v100);
    const sk = await assertAttached(b, killed, NETS.v100);
    const sg = await assertAttached(b, gone, NETS.v100);
    const so = await assertAttached(b, other, NETS.v100);

    // SIGKILL to the container's process: conmon's cleanup runs DEL.
    process.kill(await b.podman.inspectPid(killed), 'SIGKILL');
    await waitFor(async () => !(await ports(b)).includes(sk.hostEnd), `${killed}'s port removed after SIGKILL`);

    // The namespace gone before DEL (a runtime that crashed, a node rebooted): the handle podman
    // keeps is unmounted, the process killed, so the kernel deletes the namespace and the veth.
    // Podman 4.3 then skips DEL ("unknown FS magic"): the runtime's DEL is run as it would run
    // it, with podman's container id, the conflist from podman's dir, and the path now gone.
    const id = (await b.podman.podman(['inspect', '--format', '{{.Id}}', gone])).trim();
    const nsPath = (await b.podman.podman(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', gone])).trim();
    assert.match(nsPath, /^\/run\/netns\//, 'podman keeps the namespace as a named one');
    await must(['umount', nsPath]);
    process.kill(await b.podman.inspectPid(gone), 'SIGKILL');
    await waitFor(async () => !(await hostLinks(b)).includes(sg.hostEnd), `${gone}'s veth gone with its namespace`);
    assert.ok((await ports(b)).includes(sg.hostEnd), 'its port outlives the namespace until DEL');
    const conf = pluginInput(JSON.parse(readFileSync(join(b.cni.confDir, `${NETS.v100.name}.conflist`), 'utf8')));
    const del = await execCni(b.cni, join(b.cni.pluginDir, NETPLUMB_CNI), {
      command: 'DEL',
      containerId: id,
      netns: nsPath,
      conf,
    });
    assert.deepEqual([del.code, del.stdout], [0, ''], `DEL without a namespace succeeds: ${del.stderr}`);
    assert.equal((await ports(b)).includes(sg.hostEnd), false, 'DEL without a namespace removed the port');
    assert.equal(b.cni.leases(NETS.v100.name).includes(ipOf(sg)), false, 'and released the lease');
    const again = await execCni(b.cni, join(b.cni.pluginDir, NETPLUMB_CNI), {
      command: 'DEL',
      containerId: id,
      netns: nsPath,
      conf,
    });
    assert.deepEqual([again.code, again.stdout], [0, ''], `DEL again succeeds (idempotent): ${again.stderr}`);
    rmSync(nsPath, { force: true });
    rmSync(join(CNI_RESULTS_CACHE, `${NETS.v100.name}-${id}-eth0`), { force: true });

    for (const n of [killed, gone]) await b.podman.removeContainer(n);
    assert.deepEqual(await ports(b), [so.hostEnd], 'only the untouched container keeps its port');
    assert.deepEqual(await hostLinks(b), [so.hostEnd]);
    assert.deepEqual(b.cni.leases(NETS.v100.name), [ipOf(so)], 'only its lease is held');
    await b.podman.removeContainer(other);
    await assertNothingLeft(b, 'after SIGKILL and a gone namespace');
  });
});

test('the daemon killed (SIGKILL) during a burst of ADDs: each ADD answered true or failed cleanly; nothing half-made after restart', async () => {
  await withBed(async (b) => {
    const names = Array.from({ length: 16 }, (_, i) => uniqueContainerName(`burst${i}`));
    const burst = inParallel(names, 8, (n) => runOn(b, n, NETS.v100));
    await waitFor(async () => (await ports(b)).length >= 2, 'the burst under way (two ports made)');
    await b.daemon.stop('SIGKILL');
    const runs = await burst;
    // Restarted on the same socket: a stale socket file is no obstacle.
    shared.daemon = await b.cni.startServe();
    const portsBeforeGc = (await ports(b)).length;
    const gc = await run(['nsenter', `--net=/run/netns/${b.ovs.netns}`, NETPLUMB, 'gc', '--grace', '0'], {
      env: { ...process.env, NETPLUMB_SOCKET: b.cni.socket, OVS_DB: b.ovs.remote },
      timeoutMs: 60_000,
    });
    assert.equal(gc.code, 0, `netplumb gc: ${gc.stderr}`);

    const ok = names.filter((_, i) => runs[i]?.code === 0);
    const failed = names.filter((_, i) => runs[i]?.code !== 0);
    const okSeen: Seen[] = [];
    for (const n of ok) okSeen.push(await assertAttached(b, n, NETS.v100));
    for (const n of failed) {
      const state = (await b.podman.tryPodman(['inspect', '--format', '{{.State.Status}}', n])).stdout.trim();
      assert.notEqual(state, 'running', `${n}: its ADD failed, it does not run`);
    }
    assert.deepEqual(await ports(b), okSeen.map((x) => x.hostEnd).sort(), 'a port for each answered ADD, none else');
    assert.deepEqual(
      await hostLinks(b),
      okSeen.map((x) => x.hostEnd).sort(),
      'a veth for each answered ADD, none else',
    );
    assert.deepEqual(b.cni.leases(NETS.v100.name), okSeen.map(ipOf).sort(), 'a lease for each answered ADD, none else');
    if (okSeen.length >= 2)
      assert.ok(await pings(b, ok[0] as string, ipOf(okSeen[1] as Seen), 3), 'answered ADDs work');
    process.stdout.write(
      `# burst: ${ok.length} answered, ${failed.length} failed; ${portsBeforeGc - okSeen.length} port(s) left for gc\n`,
    );
    await inParallel(names, 8, (n) => b.podman.tryPodman(['rm', '-f', '-t', '0', n]));
    await assertNothingLeft(b, 'after the daemon was killed and restarted');
  });
});
