/**
 * An emulated OVN chassis: a private Open vSwitch (./ovs.ts: its namespace, ovsdb-server,
 * ovs-vswitchd with the userspace datapath) joined to the central's underlay, and
 * ovn-controller. As measured on this kind of machine (shared/docs/environment.md):
 *  - the underlay address sits on an OVS bridge's internal port (`br-phy`, holding the
 *    underlay veth `eth0`): on a plain kernel veth tunnelled packets are dropped;
 *  - the central's end of the underlay veth sends with TX checksum offload off (its frames
 *    enter the userspace datapath, which forwards them as they are);
 *  - ovn-controller makes `br-int` with `ovn-bridge-datapath-type=netdev`.
 */
import { openNetns } from '../src/netns/index.js';
import { openGuestSockets } from '../src/netns/sockets.js';
import { setTxChecksum } from '../src/ethtool.js';
import { requireCommands } from './commands.js';
import { must, run } from './exec.js';
import { inNetns } from './netns.js';
import { ovsDaemon, type OvsDaemon } from './ovs-daemon.js';
import { ovnEnv, UNDERLAY_BRIDGE, type OvnCentral } from './ovn-central.js';
import { startOvs, type OvsInstance } from './ovs.js';
import { delay } from './process.js';

export interface OvnHost {
  /** The chassis name (`external_ids:system-id`). */
  name: string;
  ovs: OvsInstance;
  /** Its Geneve endpoint on the underlay. */
  encapIp: string;
  controller: OvsDaemon;
  /** `ovs-vsctl` on the host's own database. */
  vsctl(args: string[]): Promise<string>;
  /** Start ovn-controller (again) and wait until its chassis is registered and br-int exists. */
  startController(): Promise<void>;
  stopController(signal?: NodeJS.Signals): Promise<void>;
  alivePids(): number[];
  stop(): Promise<void>;
}

export const UNDERLAY_PREFIX = '192.168.240';
const SETUP_HINT = 'an emulated OVN chassis needs the Debian package ovn-host: bash .ci/setup';

/**
 * Equivalent to (host number I, namespace N, central namespace C):
 *   (a private Open vSwitch in N, ./ovs.ts)
 *   ip -n C link add ulI type veth peer name eth0 netns N ; ip -n C link set ulI master underlay up
 *   ip netns exec C ethtool -K ulI tx off
 *   ovs-vsctl add-br br-phy -- set Bridge br-phy datapath_type=netdev -- add-port br-phy eth0
 *   ip -n N link set eth0 up ; ip -n N addr add 192.168.240.I/24 dev br-phy ; ip -n N link set br-phy up
 *   ovs-vsctl set Open_vSwitch . external_ids:system-id=NAME external_ids:ovn-remote=SB
 *     external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=192.168.240.I
 *     external_ids:ovn-bridge-datapath-type=netdev
 *   ip netns exec N ovn-controller unix:DIR/db.sock --pidfile … --detach
 */
export async function startOvnHost(
  central: OvnCentral,
  o: { name: string; index: number; netnsName: string },
): Promise<OvnHost> {
  requireCommands(['ovn-controller'], 'an OVN chassis', SETUP_HINT);
  const ovs = await startOvs({ netnsName: o.netnsName });
  const ns = ovs.netns;
  const controller = ovsDaemon({
    name: 'ovn-controller',
    program: 'ovn-controller',
    args: [ovs.remote],
    dir: ovs.dir,
    netns: inNetns(ns),
    env: ovnEnv(ovs.dir),
  });
  const encapIp = `${UNDERLAY_PREFIX}.${o.index}`;
  const cable = `ul${o.index}`;
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    await controller.reap().catch((e: unknown) => errors.push(e));
    await ovs.stop().catch((e: unknown) => errors.push(e));
    await run(['ip', '-n', central.netns.name, 'link', 'del', cable]);
    if (errors.length) throw new AggregateError(errors, `OVN chassis ${o.name} cleanup failed`);
  };
  try {
    const c = central.netns.name;
    await must(['ip', '-n', c, 'link', 'add', cable, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await must(['ip', '-n', c, 'link', 'set', cable, 'master', UNDERLAY_BRIDGE, 'up']);
    await txChecksumOff(c, cable);
    await ovs.vsctl(['add-br', 'br-phy', '--', 'set', 'Bridge', 'br-phy', 'datapath_type=netdev']);
    await ovs.vsctl(['add-port', 'br-phy', 'eth0']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await must(['ip', '-n', ns, 'addr', 'add', `${encapIp}/24`, 'dev', 'br-phy']);
    await must(['ip', '-n', ns, 'link', 'set', 'br-phy', 'up']);
    await ovs.vsctl([
      'set',
      'Open_vSwitch',
      '.',
      `external_ids:system-id=${o.name}`,
      `external_ids:ovn-remote=${central.sbRemote}`,
      'external_ids:ovn-encap-type=geneve',
      `external_ids:ovn-encap-ip=${encapIp}`,
      'external_ids:ovn-bridge-datapath-type=netdev',
    ]);
    const startController = async (): Promise<void> => {
      await controller.start();
      await waitUntil(`ovn-controller of ${o.name} registered its chassis and made br-int`, async () => {
        const chassis = await central.sbctl(['--bare', '--columns=name', 'find', 'Chassis', `name=${o.name}`]);
        const br = await run(['ovs-vsctl', `--db=${ovs.remote}`, 'br-exists', 'br-int']);
        return chassis.trim() === o.name && br.code === 0;
      });
    };
    await startController();
    return {
      name: o.name,
      ovs,
      encapIp,
      controller,
      vsctl: ovs.vsctl,
      startController,
      stopController: (signal) => controller.stop(signal),
      alivePids: () => [...ovs.alivePids(), ...controller.alivePids()],
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** Equivalent to: ip netns exec NETNS ethtool -K IF tx off */
async function txChecksumOff(netns: string, ifname: string): Promise<void> {
  const ns = openNetns({ name: netns });
  try {
    const sockets = await openGuestSockets(ns);
    try {
      await setTxChecksum(sockets, ifname, false);
    } finally {
      sockets.route.close();
      sockets.closeExtras();
    }
  } finally {
    ns.close();
  }
}

/** Poll `check` every 50 ms for up to `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(50);
  }
}
