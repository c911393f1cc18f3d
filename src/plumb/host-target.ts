/**
 * What the host interface of an attach is — OVS bridge, Linux bridge, a NIC for macvlan —
 * detected as pipework does, and the bridge created when pipework would create it.
 */
import { existsSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Link, Rtnl } from '../rtnl/index.js';
import type { Vswitch } from '../ovsdb/index.js';
import type { AttachPlan } from './plan.js';
import type { AttachMode } from './spec.js';

export interface HostTarget {
  mode: AttachMode;
  /** The bridge or parent NIC name. */
  name: string;
  /** Its kernel link, when it has one in the host namespace. */
  link?: Link;
  /** MTU the guest interface inherits (pipework PR #68). */
  mtu: number;
  created: boolean;
  /** OVS bridges: the datapath (`netdev` is the userspace one). */
  datapathType?: string;
}

export interface HostTargetDeps {
  rtnl: Rtnl;
  /** Connect to OVSDB on demand (only when the target may be an OVS bridge). */
  vswitch: () => Promise<Vswitch>;
  /** The datapath of a bridge this call creates (read only then). */
  datapathType: () => string;
  /** How long ovs-vswitchd may take to apply a bridge this call creates (ms). */
  applyTimeoutMs: number;
}

/** `netdev` (userspace) when the kernel has no Open vSwitch datapath module. */
export function defaultDatapathType(): string {
  return existsSync('/sys/module/openvswitch') ? 'system' : 'netdev';
}

/**
 * Equivalent to pipework's detection: /sys/class/net/X/bridge → Linux bridge;
 * `ovs-vsctl list-br` → OVS; anything else that exists → NIC (macvlan); absent, with
 * `createBridge` (the pipework command sets it for `br*` and `ovs*`): create it. An
 * InfiniBand NIC (type 32), where pipework would make an IPoIB child, is refused.
 */
export async function resolveHostTarget(plan: AttachPlan, deps: HostTargetDeps): Promise<HostTarget> {
  const { rtnl } = deps;
  const name = await hostName(plan, rtnl);
  const link = await rtnl.link.find(name);
  const mtuOf = (l: Link | undefined) => l?.mtu ?? 1500;
  const explicit = plan.mode;
  const createBridge = plan.createBridge === true;

  const newLinuxBridge = link === undefined && createBridge && name.startsWith('br');
  if (explicit === 'bridge' || (explicit === undefined && (link?.kind === 'bridge' || newLinuxBridge))) {
    if (link !== undefined) {
      if (link.kind !== 'bridge')
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `host interface "${name}" is a ${link.kind ?? 'device'}, not a Linux bridge`,
          { field: 'host' },
        );
      return { mode: 'bridge', name, link, mtu: mtuOf(link), created: false };
    }
    if (!createBridge) throw bridgeNotFound(name, 'Linux bridge');
    // Equivalent to: ip link add NAME type bridge ; ip link set NAME up
    await rtnl.link.add({ name, kind: 'bridge', up: true });
    return { mode: 'bridge', name, link: await rtnl.link.get(name), mtu: 1500, created: true };
  }

  if (
    explicit === 'ovs' ||
    (explicit === undefined && (link === undefined || link.kind === 'tun' || link.kind === 'openvswitch'))
  ) {
    const mayBeOvs = explicit === 'ovs' || link !== undefined || name.startsWith('ovs') || createBridge;
    if (mayBeOvs) {
      const vs = await deps.vswitch();
      const bridge = await vs.getBridge(name);
      if (bridge !== undefined)
        return {
          mode: 'ovs',
          name,
          ...(link ? { link } : {}),
          mtu: mtuOf(link),
          created: false,
          datapathType: bridge.datapathType,
        };
      if (link === undefined && createBridge) {
        // Equivalent to: ovs-vsctl --may-exist add-br NAME -- set bridge NAME datapath_type=netdev
        const datapathType = deps.datapathType();
        await vs.addBridge(name, { mayExist: true, datapathType, wait: deps.applyTimeoutMs });
        const created = await rtnl.link.find(name);
        return {
          mode: 'ovs',
          name,
          ...(created ? { link: created } : {}),
          mtu: mtuOf(created),
          created: true,
          datapathType,
        };
      }
      if (explicit === 'ovs') throw bridgeNotFound(name, 'Open vSwitch bridge', vs.remote);
    }
  }

  if (link === undefined) {
    // A NIC already moved into its guest by an earlier --direct-phys: the engine finds its record there.
    if (explicit === 'phys') return { mode: 'phys', name, mtu: 0, created: false };
    if (explicit === 'dummy' || name.startsWith('dummy')) return { mode: 'dummy', name, mtu: 1500, created: false };
    throw new NetplumbError(
      ErrorCode.NOT_FOUND,
      `host interface "${name}" does not exist, and netplumb does not know how to set it up: name an existing bridge or NIC, or a new bridge starting with "br" (Linux) or "ovs" (Open vSwitch)`,
      { field: 'host' },
    );
  }
  if (explicit === 'phys') return { mode: 'phys', name, link, mtu: mtuOf(link), created: false };
  if (link.type === ARPHRD_INFINIBAND) throw ipoibUnsupported(name);
  return { mode: 'macvlan', name, link, mtu: mtuOf(link), created: false };
}

/** The link type (`/sys/class/net/X/type`) of an InfiniBand NIC, which carries IP as IPoIB. */
const ARPHRD_INFINIBAND = 32;

/**
 * pipework's IPoIB mode (an IPoIB child interface with the @VID as its partition key) is not
 * implemented: a macvlan cannot sit on an InfiniBand NIC, so the attach is refused, saying so.
 */
function ipoibUnsupported(name: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.UNSUPPORTED,
    `host interface "${name}" is an InfiniBand (IPoIB) NIC; netplumb does not attach containers to IPoIB (pipework's IPoIB child interfaces are not supported): use an Ethernet NIC, a bridge, or --direct-phys to move the NIC itself`,
    { field: 'host' },
  );
}

/** The host interface's name: as given, or the one of the NIC with the given MAC. */
async function hostName(plan: AttachPlan, rtnl: Rtnl): Promise<string> {
  const host = plan.host;
  if ('name' in host) return host.name;
  const found = (await rtnl.link.list()).find((l) => l.mac === host.mac);
  if (found === undefined)
    throw new NetplumbError(ErrorCode.NOT_FOUND, `no host interface has MAC ${host.mac}`, { field: 'hostMac' });
  return found.name;
}

function bridgeNotFound(name: string, what: string, where?: string): NetplumbError {
  const fix = what.startsWith('Open')
    ? `create it with --create-bridge or ovs-vsctl add-br ${name}`
    : `create it with --create-bridge or ip link add ${name} type bridge`;
  return new NetplumbError(ErrorCode.NOT_FOUND, `${what} "${name}" not found${where ? ` in ${where}` : ''}; ${fix}`, {
    field: 'host',
  });
}
