/**
 * An uplink: a host NIC put into an OVS bridge, so that the bridge reaches the physical
 * network (the seed's scenario 2: `ovs-vsctl add-port ovs0 eth1` on both hosts, the switch
 * ports between them trunks). What a caller writes (UplinkSpec), parsed once into its plan.
 */
import { invalidArgument } from '../errors.js';
import { validateString } from '../ovsdb/notation.js';
import { ifName, vlanId, type IfName, type VlanId } from '../validate.js';
import { parseTrunks } from './plan.js';

export interface UplinkSpec {
  /** The OVS bridge. */
  bridge: string;
  /** The host NIC (its name in the host namespace). */
  nic: string;
  /** An access port of this VLAN (untagged on the wire); absent: a trunk. */
  vlan?: number;
  /** Trunk: only these VLANs pass tagged (absent: every VLAN). */
  trunks?: number[];
  /** Trunk: untagged frames belong to this VLAN (OVS `vlan_mode=native-untagged`). */
  nativeVlan?: number;
  /** Create the bridge when it does not exist. */
  createBridge?: boolean;
  /** OVN: map this physical network name to the bridge on this chassis (`ovn-bridge-mappings`). */
  physnet?: string;
  /** Accept the NIC carrying the host's default route; replace an uplink of other settings. */
  force?: boolean;
}

/** How the NIC's port passes VLANs. */
export type UplinkVlans =
  | { kind: 'trunk'; trunks?: readonly VlanId[]; nativeVlan?: VlanId }
  | { kind: 'access'; vlan: VlanId };

export interface UplinkPlan {
  bridge: IfName;
  nic: IfName;
  vlans: UplinkVlans;
  createBridge: boolean;
  physnet?: string;
  force: boolean;
}

/** A physical network name as ovn-bridge-mappings lists it (`physnet1:br-phys,physnet2:…`). */
const PHYSNET_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function physnetName(field: string, v: unknown): string {
  const s = validateString(field, v, { maxBytes: 64 });
  if (!PHYSNET_RE.test(s))
    throw invalidArgument(field, `${JSON.stringify(s)}: letters, digits, "_", "." and "-", at most 64`);
  return s;
}

export function parseUplinkSpec(spec: UplinkSpec): UplinkPlan {
  const bridge = ifName('bridge', spec.bridge);
  const nic = ifName('nic', spec.nic);
  if (nic === bridge) throw invalidArgument('nic', `"${nic}" is the bridge itself`);
  let vlans: UplinkVlans;
  if (spec.vlan !== undefined) {
    if (spec.trunks !== undefined || spec.nativeVlan !== undefined)
      throw invalidArgument('vlan', 'an access uplink (vlan) has no trunks and no native VLAN');
    vlans = { kind: 'access', vlan: vlanId('vlan', spec.vlan) };
  } else {
    const trunks = spec.trunks === undefined ? undefined : parseTrunks(spec.trunks, (i) => `trunks[${i}]`);
    if (trunks !== undefined && trunks.length === 0)
      throw invalidArgument('trunks', 'an empty list would carry no VLAN; leave it out to carry every VLAN');
    const nativeVlan = spec.nativeVlan === undefined ? undefined : vlanId('nativeVlan', spec.nativeVlan);
    vlans = {
      kind: 'trunk',
      ...(trunks !== undefined ? { trunks } : {}),
      ...(nativeVlan !== undefined ? { nativeVlan } : {}),
    };
  }
  return {
    bridge,
    nic,
    vlans,
    createBridge: spec.createBridge === true,
    ...(spec.physnet !== undefined ? { physnet: physnetName('physnet', spec.physnet) } : {}),
    force: spec.force === true,
  };
}

/**
 * The OVS Port columns of an uplink. A native VLAN is carried untagged, and also among the
 * trunks when they are listed (OVS would drop its frames otherwise).
 */
export function portVlansOf(v: UplinkVlans): {
  tag?: number;
  trunks?: number[];
  vlanMode: 'access' | 'trunk' | 'native-untagged';
} {
  if (v.kind === 'access') return { tag: v.vlan, vlanMode: 'access' };
  const trunks =
    v.trunks === undefined
      ? undefined
      : [...new Set([...v.trunks, ...(v.nativeVlan !== undefined ? [v.nativeVlan] : [])])].sort((a, b) => a - b);
  if (v.nativeVlan === undefined) return { ...(trunks ? { trunks } : {}), vlanMode: 'trunk' };
  return { tag: v.nativeVlan, ...(trunks ? { trunks } : {}), vlanMode: 'native-untagged' };
}

/** `ovn-bridge-mappings` as a list of pairs, in order. */
export function parseBridgeMappings(text: string | undefined): [string, string][] {
  if (text === undefined || text.trim() === '') return [];
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const colon = p.indexOf(':');
      return colon < 0 ? [p, ''] : [p.slice(0, colon), p.slice(colon + 1)];
    });
}

export function formatBridgeMappings(pairs: readonly [string, string][]): string {
  return pairs.map(([n, b]) => `${n}:${b}`).join(',');
}
