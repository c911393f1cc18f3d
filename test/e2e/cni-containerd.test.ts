/**
 * netplumb-cni under containerd (Debian's 1.6): a private containerd in an emulated host's
 * namespace (ovsdb-server + ovs-vswitchd, bridge ovs0, `netplumb serve` on a private socket),
 * and its client's CNI path, `ctr run --cni --rootfs R ID …` — ADD before the task starts,
 * DEL when the task has exited (its namespace already gone then). ctr reads its network from
 * /etc/cni/net.d and its plugins from /opt/cni/bin: each ctr runs in a mount namespace of its
 * own where those are this test's dirs (sandbox/containerd.ts), so nothing global is written.
 *
 * The seed's matrix: four containers, VLAN 100 and 200 conflists (written as for ovs-cni)
 * on one bridge in one /24; same-VLAN pings pass, cross-VLAN fail; then the tasks killed
 * and the containers deleted leave no port, veth or lease. Oracles: ovs-vsctl, `ip -json`
 * in the host's and the containers' namespaces, ping, host-local's lease files, ctr.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerdSandbox, type CtrTask } from '../../sandbox/containerd.js';
import { waitUntil } from '../../sandbox/ovn-host.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { buildBusyboxRoot, uniqueContainerName } from '../../sandbox/podman.js';
import {
  CNI_RESULTS_CACHE,
  CniBed,
  cachedCniResults,
  hostLinkNames,
  ipOf,
  NETPLUMB_CNI,
  type NetworkSpec,
  ovsPorts,
  pingsFrom,
  type Seen,
  seenInside,
  type ServeDaemon,
} from '../helpers/cni.js';
import { useLeakCheck } from '../helpers/leak.js';

const NETS: NetworkSpec[] = [
  {
    name: 'np-ctr-v100',
    type: NETPLUMB_CNI,
    bridge: 'ovs0',
    vlan: 100,
    subnet: '10.0.0.0/24',
    range: ['10.0.0.10', '10.0.0.119'],
  },
  {
    name: 'np-ctr-v200',
    type: NETPLUMB_CNI,
    bridge: 'ovs0',
    vlan: 200,
    subnet: '10.0.0.0/24',
    range: ['10.0.0.130', '10.0.0.239'],
  },
];

let ovs: OvsInstance | undefined;
let cni: CniBed | undefined;
let daemon: ServeDaemon | undefined;
let containerd: ContainerdSandbox | undefined;
let rootfs: string | undefined;

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge('ovs0');
  cni = CniBed.create(ovs);
  for (const net of NETS) cni.writeConflist(net, confDir(net));
  daemon = await cni.startServe();
  containerd = await ContainerdSandbox.start(ovs.netns);
  rootfs = mkdtempSync(join(tmpdir(), 'np-ctr-rootfs-'));
  buildBusyboxRoot(rootfs);
});
after(async () => {
  const errors: unknown[] = [];
  await containerd?.stop().catch((e: unknown) => errors.push(e));
  await daemon?.stop().catch((e: unknown) => errors.push(e));
  await ovs?.stop().catch((e: unknown) => errors.push(e));
  cni?.remove();
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
  if (errors.length > 0) throw new AggregateError(errors, 'CNI containerd bed cleanup failed');
});
useLeakCheck();

/** The directory ctr sees as /etc/cni/net.d for a container on `net`: that network alone. */
function confDir(net: NetworkSpec): string {
  return join((cni as CniBed).dir, `etc-${net.name}`);
}

interface Running {
  name: string;
  net: NetworkSpec;
  ctr: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `ctr run --cni --rootfs R NAME sleep`, with `net` as ctr's network; resolves once the task runs (ADD done). */
async function runOn(name: string, net: NetworkSpec): Promise<Running> {
  const c = containerd as ContainerdSandbox;
  const child = c.runCni(
    name,
    rootfs as string,
    ['/bin/sleep', '100000'],
    { confDir: confDir(net), pluginDir: (cni as CniBed).pluginDir },
    { NETPLUMB_SOCKET: (cni as CniBed).socket },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const r: Running = { name, net, ctr: child, stderr: () => err, exited };
  await waitUntil(
    `${name}'s task runs`,
    async () => {
      if (child.exitCode !== null) assert.fail(`ctr run --cni ${name} exited ${child.exitCode}: ${err}`);
      return (await task(name))?.status === 'RUNNING';
    },
    60_000,
  );
  return r;
}

async function task(name: string): Promise<CtrTask | undefined> {
  return (await (containerd as ContainerdSandbox).tasks()).find((t) => t.id === name);
}

async function seen(r: Running): Promise<Seen> {
  const s = await seenInside(ovs as OvsInstance, (await task(r.name))?.pid ?? 0);
  assert.equal(s.tag, r.net.vlan, `${r.name}: its port is on VLAN ${r.net.vlan}`);
  assert.ok((cni as CniBed).leases(r.net.name).includes(ipOf(s)), `${r.name}: host-local holds its lease`);
  return s;
}

async function pings(from: Running, to: Seen, tries = 1): Promise<boolean> {
  return pingsFrom((await task(from.name))?.pid ?? 0, ipOf(to), tries);
}

test('the seed under ctr run --cni: same-VLAN pings pass, cross-VLAN fail; killed tasks and deleted containers leave nothing', async () => {
  const o = ovs as OvsInstance;
  const c = containerd as ContainerdSandbox;
  const [v100, v200] = NETS as [NetworkSpec, NetworkSpec];
  const runs: Running[] = [];
  try {
    for (const [i, net] of [v100, v100, v200, v200].entries())
      runs.push(await runOn(uniqueContainerName(`ctr${i + 1}`), net));
    const s = await Promise.all(runs.map(seen));
    assert.deepEqual(await ovsPorts(o), s.map((x) => x.hostEnd).sort(), 'one port per container, nothing else');
    assert.equal(new Set(s.map(ipOf)).size, 4, 'four distinct addresses in the one /24');
    const [r1, r2, r3, r4] = runs as [Running, Running, Running, Running];
    const [s1, s2, s3, s4] = s as [Seen, Seen, Seen, Seen];
    assert.ok(await pings(r1, s2, 3), 'con1 → con2 (VLAN 100)');
    assert.ok(await pings(r3, s4, 3), 'con3 → con4 (VLAN 200)');
    assert.ok(await pings(r4, s3, 3), 'con4 → con3 (VLAN 200)');
    for (const [from, to] of [
      [r1, s3],
      [r1, s4],
      [r2, s3],
      [r4, s1],
    ] as const)
      assert.equal(await pings(from, to), false, `${from.name} ↛ ${ipOf(to)} (other VLAN)`);

    // The tasks killed: each ctr runs DEL after the task's exit (its namespace is gone by then), then exits.
    for (const r of runs) await c.ctr(['task', 'kill', '-s', 'SIGKILL', r.name]);
    for (const r of runs) {
      await r.exited;
      assert.doesNotMatch(r.stderr(), /network review|level=error/, `ctr's DEL for ${r.name} succeeded`);
    }
    assert.deepEqual(await c.tasks(), [], 'no task left');
    const d = daemon as ServeDaemon;
    assert.ok(
      d.logged('front-door call', NETPLUMB_CNI) >= 8,
      'the ADDs and DELs ran in the daemon, through the front door',
    );
    assert.equal(d.logged('front-door call handed back'), 0, 'no call was handed back to Node.js');
    for (const r of runs) await c.ctr(['containers', 'delete', r.name]);
    assert.deepEqual(await c.containers(), [], 'no container left');
    assert.deepEqual(await ovsPorts(o), [], 'no port left on ovs0');
    assert.deepEqual(await hostLinkNames(o), [], 'no veth left on the host');
    for (const net of NETS) assert.deepEqual((cni as CniBed).leases(net.name), [], `no lease left on ${net.name}`);
    assert.deepEqual(cachedCniResults(NETS), [], "ctr's libcni dropped every cached result of these networks");
  } finally {
    for (const r of runs) if (r.ctr.exitCode === null) r.ctr.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
    // A ctr killed before its DEL leaves libcni's cache file (global): this run's own go.
    for (const f of cachedCniResults(NETS))
      if (runs.some((r) => f.includes(`-${r.name}-`))) rmSync(join(CNI_RESULTS_CACHE, f), { force: true });
  }
});
