/**
 * The registry of link kinds. Adding a kind = one module + one line here; nothing else in
 * the link verbs knows about individual kinds.
 */
import type { LinkKind } from '../link-kind.js';
import { bridge, type BridgeInfo, type BridgeOptions } from './bridge.js';
import { dummy, type DummyInfo, type DummyOptions } from './dummy.js';
import { ipoib, type IpoibInfo, type IpoibOptions } from './ipoib.js';
import { macvlan, type MacvlanInfo, type MacvlanOptions } from './macvlan.js';
import { veth, type VethInfo, type VethOptions } from './veth.js';
import { vlan, type VlanInfo, type VlanOptions } from './vlan.js';
import { vxlan, type VxlanInfo, type VxlanOptions } from './vxlan.js';

export const LINK_KINDS = { veth, macvlan, vlan, bridge, vxlan, dummy, ipoib } as const;

export type LinkKindName = keyof typeof LINK_KINDS;
/** The kind-specific part of `link add` options, discriminated by `kind`. */
export type LinkKindOptions =
  | VethOptions
  | MacvlanOptions
  | VlanOptions
  | BridgeOptions
  | VxlanOptions
  | DummyOptions
  | IpoibOptions;
/** Decoded IFLA_INFO_DATA of a known kind. */
export type LinkKindInfo = VethInfo | MacvlanInfo | VlanInfo | BridgeInfo | VxlanInfo | DummyInfo | IpoibInfo;

type AnyKind = LinkKind<LinkKindOptions, LinkKindInfo>;

/** The kind module for `name`, or undefined for a kind netplumb does not model. */
export function linkKindFor(name: string): AnyKind | undefined {
  return Object.hasOwn(LINK_KINDS, name) ? (LINK_KINDS[name as LinkKindName] as unknown as AnyKind) : undefined;
}

export type { BridgeOptions, DummyOptions, IpoibOptions, MacvlanOptions, VethOptions, VlanOptions, VxlanOptions };
export type { BridgeInfo, DummyInfo, IpoibInfo, MacvlanInfo, VethInfo, VlanInfo, VxlanInfo };
export type { VethPeer } from './veth.js';
