/**
 * An attach mode: how a guest's interface reaches the host — an OVS port, a Linux bridge
 * port, a macvlan, a dummy, the NIC itself. Each mode is one module of this directory with
 * this interface, in the table of ./index.ts under the name its attachments record; the
 * engine (../plumber.ts) looks a mode up and calls it, and never asks which one it holds.
 * A new mode is a new module and a line in that table.
 *
 * What a mode may own: a kernel link on the host side or in the guest (its record goes in
 * the link's alias), and objects elsewhere (`stores`: OVS ports; a Logical_Switch_Port in an
 * OVN Northbound database would be one more) that list, gc and detach find through the
 * store, not through the mode's name.
 */
import type { Link, Rtnl } from '../../rtnl/index.js';
import type { GuestSockets } from '../../netns/sockets.js';
import type { Netns } from '../../netns/index.js';
import type { GuestIpPlan } from '../guest-config.js';
import type { HostServices } from '../host-services.js';
import type { AttachPlan } from '../plan.js';
import type { AttachmentRecord } from '../record.js';
import type { Rollback } from '../rollback.js';
import type { AttachMode, MacvlanMode } from '../spec.js';

/**
 * Where an attachment lives, and so where its record is kept:
 *  - 'host': a host-side link (a veth's host end) carries it; `list` and `gc` see it, and it
 *    outlives its guest until detach or gc removes it;
 *  - 'guest': only the guest's interface carries it; it goes with the guest's namespace.
 */
export type Side = 'host' | 'guest';

/** The host side of an attach, as its mode found or made it. */
export interface HostTarget {
  mode: AttachMode;
  /** The bridge or NIC name. */
  name: string;
  /** Its kernel link, when it has one in the host namespace. */
  link?: Link;
  /** MTU the guest interface inherits (pipework PR #68). */
  mtu: number;
  created: boolean;
  /** OVS bridges: the datapath (`netdev` is the userspace one). */
  datapathType?: string;
}

/** What a mode looks at to say whether, and how, it takes the host interface named. */
export interface HostProbe {
  readonly name: string;
  /** Its link in the host namespace, if there is one. */
  readonly link: Link | undefined;
  /** Create the bridge if it does not exist (`--create-bridge`; pipework for `br*` and `ovs*`). */
  readonly createBridge: boolean;
  /** The OVN network asked for (mode `ovn`). */
  readonly network?: string;
  readonly host: HostServices;
}

/** The record fields a mode decides for a plan: its defaults. */
export interface ModeSettings {
  /** 0: leave the MTU as it is (a moved NIC). */
  mtu: number;
  macvlanMode?: MacvlanMode;
  /** The MAC when none is asked for, from the attachment id (a logical port's MAC is known before the link exists). */
  macFor?: (attachmentId: string) => string;
}

/** The guest as an attach holds it: its namespace, and sockets made in it. */
export interface GuestHandle {
  readonly netns: Netns;
  /** For messages: `container "web1"`, `netns:blue`. */
  readonly label: string;
  readonly rtnl: Rtnl;
  readonly sockets: GuestSockets;
}

/** One attach under way: what a mode needs to make it. */
export interface Attaching {
  readonly record: AttachmentRecord;
  readonly plan: AttachPlan;
  readonly target: HostTarget;
  readonly guest: GuestHandle;
  /** The static addresses and gateway to configure in the guest. */
  readonly addresses: GuestIpPlan;
  readonly host: HostServices;
}

/** What an attach made that its caller reports or reuses. */
export interface Applied {
  ofport?: number;
  /** Time spent only waiting for other daemons to finish the attachment (ovs-vswitchd applying, ovn-controller binding), ms. */
  waitedMs?: number;
  /** The guest interface, when it was read anyway (the announcement needs its index and MAC). */
  guestLink?: Link;
}

/** An attachment found where its mode keeps its record. */
export interface Found {
  record: AttachmentRecord;
  /** Its attach began then (ms) and has not finished (the host link still carries its stamp). */
  attachingSince?: number;
}

/** Where a mode looks for, or removes, an attachment. */
export interface Place {
  readonly host: HostServices;
  /** Netlink in the guest's namespace; absent when the guest is gone. */
  readonly guest?: Rtnl;
  /** Called as each object goes (a test hook counts the steps of a removal). */
  done(step: string): Promise<void>;
}

/** An object of ours in a store (an OVS port), with its state. */
export interface PortView {
  uuid: string;
  name: string;
  attachment: string;
  record?: AttachmentRecord;
  /** When the attach that wrote it began (ms); absent on ports written before that was kept. */
  created?: number;
  /** OVS: Interface.ofport, unset until ovs-vswitchd configured it, -1 when that failed. */
  ofport?: number;
  error?: string;
  /** OVS: no Interface row of that name at all. */
  interfaceMissing?: boolean;
  /** The store it is in (its `what`: `OVS port`, `OVN logical port`); absent: the mode's first store. */
  store?: string;
  /** Its host is gone, not only its guest (an OVN port of a chassis removed from the cluster): why. */
  gone?: string;
}

/**
 * Objects that attachments own outside the kernel's links, found by netplumb's marks in the
 * store itself (OVS ports with `netplumb.owner`), so that list, gc and a detach find them
 * even when the link that recorded them is gone.
 */
export interface RemoteStore {
  /** What one object is called in messages: `OVS port`. */
  readonly what: string;
  /** Can it be read now? (An unreachable OVSDB is no error on a host without OVS attachments.) */
  reachable(host: HostServices): Promise<boolean>;
  /** Every object of ours, with its state. */
  ours(host: HostServices): Promise<PortView[]>;
  /** The records of this guest's attachments kept there. */
  recordsOf(host: HostServices, guestId: string): Promise<AttachmentRecord[]>;
  /** Remove exactly these objects (not whatever now has their names). */
  removePorts(host: HostServices, ports: readonly PortView[]): Promise<void>;
}

export interface Mode {
  readonly name: AttachMode;
  readonly side: Side;
  /** The stores this mode's attachments own objects in (empty: links only). */
  readonly stores: readonly RemoteStore[];
  /** Unasked, is the host interface this mode's? Its target if so (modes without it are never detected). */
  detect?(probe: HostProbe): Promise<HostTarget | undefined>;
  /** The host side when this mode is asked for (created when the mode creates, and asked to). */
  target(probe: HostProbe): Promise<HostTarget>;
  /** Its defaults for the record, and its refusals of the plan (a VLAN on a Linux bridge …). */
  settings(plan: AttachPlan, target: HostTarget): ModeSettings;
  /** Make the attachment: every step through `rb`, so that a failure undoes the ones done. */
  apply(a: Attaching, rb: Rollback): Promise<Applied>;
  /** The attach's last step: mark the attachment whole where it was marked unfinished. */
  complete?(a: Attaching): Promise<void>;
  /** The attachment of this key, if one exists (CONFLICT if its name is taken by something else). */
  find(wanted: AttachmentRecord, at: Place & { readonly guest: Rtnl }): Promise<Found | undefined>;
  /** Remove one attachment; concurrent removals share OVSDB transactions and bulk link deletes. */
  remove(r: AttachmentRecord, at: Place): Promise<void>;
}
