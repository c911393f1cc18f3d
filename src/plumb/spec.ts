/**
 * What an attachment is, as a caller writes it: the input type of the engine, produced by
 * the library caller, the `netplumb attach` parser and the `pipework` parser alike, and
 * sent to the daemon as it is. ./plan.ts is what it is parsed into.
 */

import type { GuestRef } from '../guest/ref.js';
import type { CniOwner } from './cni-owner.js';

export type { GuestRef } from '../guest/ref.js';

/**
 * How the guest's interface reaches the host: an OVS port, a Linux bridge port, a macvlan, a
 * dummy, the NIC itself, or a port of an OVN network (an OVS port bound by ovn-controller).
 */
export const ATTACH_MODES = ['ovs', 'bridge', 'macvlan', 'dummy', 'phys', 'ovn'] as const;
export type AttachMode = (typeof ATTACH_MODES)[number];

export const MACVLAN_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

export type IpConfig =
  /** A static address with prefix, e.g. `10.0.0.1/24` or `2001:db8::1/64`. */
  | { kind: 'static'; address: string; gateway?: string }
  /** `0/0`: the interface is created with no address. */
  | { kind: 'none' }
  /** A DHCP client run inside the guest's namespace. */
  | { kind: 'dhcp'; client: 'udhcpc' | 'dhclient' | 'dhcpcd'; foreground: boolean; options: string[] };

export interface AttachSpec {
  /** Bridge (OVS or Linux), parent NIC (macvlan), or the NIC itself (phys); with `network`, the integration bridge (`br-int`). */
  host: string;
  /** `mac:<hostmac>`: pick the host NIC by its MAC instead of its name. */
  hostMac?: string;
  /** Omitted: detect from what `host` is (OVS bridge, Linux bridge, NIC…), like pipework. */
  mode?: AttachMode;
  /** The container (Docker Engine API: name, id, id prefix), `{ netns }`, `{ pid }` or `{ path }`, or a word (see GuestRef). */
  guest: GuestRef;
  /** Interface name inside the guest (default `eth1`). */
  ifname?: string;
  /** Host-side interface name (default: generated, ≤ 15 bytes, traceable). */
  hostIfname?: string;
  /** Address family pipework's `-a` selects (4 or 6); informs parsing only. */
  family?: 4 | 6;
  ip: IpConfig;
  /** Literal unicast MAC or `U:<seed>`. */
  mac?: string;
  /**
   * An OVN network (a logical switch of the northbound database, `netplumb network create`):
   * the attachment is a port of it, bound by this host's ovn-controller. Implies mode `ovn`.
   */
  network?: string;
  /** Access VLAN (OVS tag, 802.1Q sub-interface for macvlan). */
  vlan?: number;
  /** OVS trunk VLANs (a trunk port instead of an access port). */
  trunks?: number[];
  /** MTU; default: inherited from the host interface or bridge. */
  mtu?: number;
  /** OVS: the OpenFlow port number asked for (the Interface's ofport_request, 1..65279). */
  ofportRequest?: number;
  macvlanMode?: MacvlanMode;
  /** Create the bridge when it does not exist (pipework does so for `br*` and `ovs*`). */
  createBridge?: boolean;
  /** Replace a conflicting existing attachment instead of failing. */
  force?: boolean;
  /** Proceed even when the guest is the caller's own namespace. */
  allowHostNetns?: boolean;
  /** Wait until the guest interface is UP (with carrier), at most this many ms. */
  waitUpMs?: number;
  /**
   * Also declare the attachment (kept in the state file): the engine's start events make it
   * again, with the same name, MAC, addresses, routes and VLAN, in each new run of the
   * container (netplumb serve follows them). A container only, not a namespace.
   */
  persist?: boolean;
  /** Free-form metadata written to OVS external_ids (validated; reserved keys refused). */
  metadata?: Record<string, string>;
  /**
   * A CNI runtime's attachment (netplumb-cni): recorded under its container id
   * (`cni:<containerId>`) and its network, as DEL, CHECK and GC find it.
   */
  cni?: CniOwner;
}
