/**
 * The attach plan: an AttachSpec parsed once, where it comes in, into typed values. Names,
 * VLAN ids, the MTU, MACs and prefixes are branded types (src/validate.ts), the guest a
 * parsed reference, the MAC already derived from a `U:<seed>`. What runs below it — the
 * host side's detection, the attach modes, the guest's configuration, the announcement —
 * takes a plan and checks nothing again.
 *
 * Where a spec comes in:
 *  - a library call, `Plumber.attach(spec)`: `parseAttachSpec` (./parse-spec.ts);
 *  - the daemon: its params are checked for shape (src/daemon/params.ts), then the engine
 *    serving them is a library caller;
 *  - a command line (`netplumb attach`, `pipework`): its parser reads its own words (its own
 *    field names and messages) into a plan, and hands the engine `specOf(plan)`: the spec a
 *    daemon would be sent, bound to its plan, so that the engine in the same process takes
 *    the plan as it is instead of parsing the spec again (`boundPlan`).
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import { guestRefOf, type ParsedGuestRef } from '../guest/ref.js';
import {
  ifName,
  macAddress,
  vlanId,
  type IfName,
  type IpAddress,
  type IpFamily,
  type IpPrefix,
  type Mac,
  type Mtu,
  type VlanId,
} from '../validate.js';
import type { CniOwnerPlan } from './cni-owner.js';
import type { NetworkName } from './network-name.js';
import type { AttachMode, AttachSpec, IpConfig, MacvlanMode } from './spec.js';

export { networkName, type NetworkName } from './network-name.js';

/**
 * The host side as named: an interface, or the NIC with a hardware address (`mac:<hostmac>`;
 * `word` is the host as written, `mac:02:42:…`).
 */
export type HostRef = { name: IfName } | { mac: Mac; word: string };

export type DhcpConfig = Extract<IpConfig, { kind: 'dhcp' }>;

/** The guest interface's addressing: one address (and a gateway), none, or a DHCP client. */
export type IpPlan = { kind: 'static'; address: IpPrefix; gateway?: IpAddress } | { kind: 'none' } | DhcpConfig;

/** A MAC: the address to set, and the seed it was derived from when given as `U:<seed>`. */
export interface MacPlan {
  address: Mac;
  seed?: string;
}

export const STABLE_MAC_PREFIX = 'U:';

/** One attach, parsed. Optional fields are those the caller left out (defaults are the engine's). */
export interface AttachPlan {
  readonly host: HostRef;
  /** Asked for explicitly; absent: detected from the host side. */
  readonly mode?: AttachMode;
  readonly guest: ParsedGuestRef;
  /** The interface in the guest; absent: `eth1`. */
  readonly ifname?: IfName;
  readonly hostIfname?: IfName;
  /** pipework's `-a`: the family the address was read in. */
  readonly family?: IpFamily;
  readonly ip: IpPlan;
  readonly mac?: MacPlan;
  /** An OVN network (mode `ovn`). */
  readonly network?: NetworkName;
  readonly vlan?: VlanId;
  /** Distinct, ascending. */
  readonly trunks?: readonly VlanId[];
  readonly mtu?: Mtu;
  readonly ofportRequest?: number;
  readonly macvlanMode?: MacvlanMode;
  readonly createBridge?: true;
  readonly force?: true;
  readonly allowHostNetns?: true;
  readonly waitUpMs?: number;
  /** Also declare it: made again in each new run of the container (`--persist`). */
  readonly persist?: true;
  /** User external_ids for the OVS port (checked: no reserved keys). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** A CNI runtime's attachment: its container id and network. */
  readonly cni?: CniOwnerPlan;
}

/** The interface name in the guest when none is given. */
export const DEFAULT_IFNAME: IfName = ifName('ifname', 'eth1');

// ---------------------------------------------------------------- values every boundary reads alike

/** Trunk VLANs: each an id, none twice; ascending (the order means nothing to OVS). */
export function parseTrunks(ids: readonly unknown[], fieldOf: (index: number) => string): VlanId[] {
  const parsed = ids.map((t, i) => vlanId(fieldOf(i), t));
  const dup = parsed.find((v, i) => parsed.indexOf(v) !== i);
  if (dup !== undefined) throw invalidArgument('trunks', `VLAN ${dup} is listed twice`);
  return parsed.sort((a, b) => a - b);
}

/** IPoIB hardware addresses are 20 bytes. */
const IPOIB_HWADDR = /^[0-9a-f]{2}(?::[0-9a-f]{2}){19}$/;

/**
 * The hardware address a host NIC is picked by. A 20-byte one is an InfiniBand NIC's:
 * pipework's IPoIB mode (a child interface, @VID as its partition key) is not implemented,
 * so it is refused as such rather than looked for and treated as an Ethernet NIC.
 */
export function parseHostMac(field: string, text: string): Mac {
  if (IPOIB_HWADDR.test(text.toLowerCase()))
    throw new NetplumbError(
      ErrorCode.UNSUPPORTED,
      `${text} is the 20-byte hardware address of an InfiniBand (IPoIB) NIC; netplumb does not attach containers to IPoIB (pipework's IPoIB child interfaces are not supported)`,
      { field },
    );
  return macAddress(field, text);
}

// ---------------------------------------------------------------- a spec bound to its plan

/** Specs made by `specOf`, each bound to the plan it was made from. */
const bound = new WeakMap<AttachSpec, AttachPlan>();

/** The plan `spec` was made from by `specOf`, if it was (it is frozen: it cannot have changed since). */
export function boundPlan(spec: AttachSpec): AttachPlan | undefined {
  return bound.get(spec);
}

/**
 * The AttachSpec of a plan — what a daemon is sent, and what a library caller would have
 * written — frozen and bound to the plan. Parsing it gives the plan back.
 */
export function specOf(plan: AttachPlan): AttachSpec {
  const host = 'name' in plan.host ? { host: plan.host.name } : { host: plan.host.word, hostMac: plan.host.mac };
  const mac = plan.mac && (plan.mac.seed !== undefined ? `${STABLE_MAC_PREFIX}${plan.mac.seed}` : plan.mac.address);
  const spec: AttachSpec = {
    ...host,
    ...(plan.mode !== undefined ? { mode: plan.mode } : {}),
    guest: guestRefOf(plan.guest),
    ...(plan.ifname !== undefined ? { ifname: plan.ifname } : {}),
    ...(plan.hostIfname !== undefined ? { hostIfname: plan.hostIfname } : {}),
    ...(plan.family !== undefined ? { family: plan.family } : {}),
    ip: ipConfigOf(plan.ip),
    ...(mac !== undefined ? { mac } : {}),
    ...(plan.network !== undefined ? { network: plan.network } : {}),
    ...(plan.vlan !== undefined ? { vlan: plan.vlan } : {}),
    ...(plan.trunks !== undefined ? { trunks: [...plan.trunks] } : {}),
    ...(plan.mtu !== undefined ? { mtu: plan.mtu } : {}),
    ...(plan.ofportRequest !== undefined ? { ofportRequest: plan.ofportRequest } : {}),
    ...(plan.macvlanMode !== undefined ? { macvlanMode: plan.macvlanMode } : {}),
    ...(plan.createBridge ? { createBridge: true } : {}),
    ...(plan.force ? { force: true } : {}),
    ...(plan.allowHostNetns ? { allowHostNetns: true } : {}),
    ...(plan.waitUpMs !== undefined ? { waitUpMs: plan.waitUpMs } : {}),
    ...(plan.persist ? { persist: true } : {}),
    ...(plan.metadata !== undefined ? { metadata: { ...plan.metadata } } : {}),
    ...(plan.cni !== undefined ? { cni: { ...plan.cni } } : {}),
  };
  bound.set(deepFreeze(spec), plan);
  return spec;
}

/** `spec` with a flag set (createBridge, persist): a bound spec stays bound, its plan not read again. */
function withFlag(spec: AttachSpec, flag: 'createBridge' | 'persist'): AttachSpec {
  const plan = boundPlan(spec);
  return plan === undefined ? { ...spec, [flag]: true } : specOf({ ...plan, [flag]: true });
}

/** `spec` with `createBridge` (pipework's `br*` and `ovs*` hosts). */
export function withCreateBridge(spec: AttachSpec): AttachSpec {
  return withFlag(spec, 'createBridge');
}

/** `spec` with `persist` (pipework's `--persist`). */
export function withPersist(spec: AttachSpec): AttachSpec {
  return withFlag(spec, 'persist');
}

/** The IpConfig of a spec for an IpPlan (canonical text). */
export function ipConfigOf(ip: IpPlan): IpConfig {
  if (ip.kind !== 'static') return ip.kind === 'none' ? { kind: 'none' } : { ...ip, options: [...ip.options] };
  return {
    kind: 'static',
    address: ip.address.cidr,
    ...(ip.gateway !== undefined ? { gateway: ip.gateway.address } : {}),
  };
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(o);
}
