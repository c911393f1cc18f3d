/**
 * What `netplumb show` reports: the host's wiring as a tree — bridges → VLANs → ports →
 * guests — with every inconsistency found placed where it is, with its reason and the
 * command that fixes it. This is also the `--json` output (`topology` in
 * `{"ok":true,"topology":…}`); its JSON Schema is docs/topology.schema.json, and a change
 * here is a change there (the unit tests check the one against the other).
 */

/** The version of this shape; a field renamed or removed makes it `/2`. */
export const TOPOLOGY_SCHEMA = 'netplumb.topology/1';

export interface Topology {
  schema: typeof TOPOLOGY_SCHEMA;
  /** When the state was read (ISO 8601). */
  generatedAt: string;
  /** What was asked for: the whole host, or one bridge, VLAN or guest. */
  scope: Scope;
  ovsdb: { remote: string; reachable: boolean; error?: string };
  bridges: Bridge[];
  /** Every issue of the tree, in tree order (each is also on its port). */
  issues: Issue[];
  summary: Summary;
}

export type Scope =
  | { kind: 'host' }
  | { kind: 'bridge'; bridge: string }
  | { kind: 'vlan'; vlan: number }
  | { kind: 'guest'; guest: string; ifname?: string };

export interface Summary {
  bridges: number;
  vlans: number;
  ports: number;
  /** netplumb's attachments shown. */
  attachments: number;
  foreignPorts: number;
  issues: number;
  /** Attachments with at least one issue of severity "broken". */
  broken: number;
}

export interface Bridge {
  name: string;
  /** `ovs`: an Open vSwitch bridge; `linux`: a Linux bridge (kernel). */
  type: 'ovs' | 'linux';
  /** False when records name the bridge but it is not there (deleted). */
  present: boolean;
  /** OVS datapath (`system`, `netdev`). */
  datapathType?: string;
  /** Ports that are not guests: NICs, tunnels, patch and internal ports. Read-only. */
  uplinks: Port[];
  /** Guest ports grouped by access VLAN, ascending; tag 0 is "untagged". */
  vlans: VlanGroup[];
  /** Guest ports carrying several VLANs (OVS trunk ports). */
  trunks: Port[];
  /** netplumb's attachments recorded on this bridge that it has no port for (the port, or the bridge, is gone). */
  missing: Port[];
}

export interface VlanGroup {
  /** The access VLAN (OVS tag); 0: no tag (untagged, or a Linux bridge). */
  tag: number;
  ports: Port[];
}

export type PortRole = 'guest' | 'uplink' | 'tunnel' | 'patch' | 'internal';

export interface Port {
  /** The OVS port name, or the host link's name for a Linux bridge port. */
  name: string;
  /** `netplumb`: netplumb's attachment; `foreign`: another tool's, shown read-only. */
  owner: 'netplumb' | 'foreign';
  role: PortRole;
  /** OVS Interface type (`` system, `internal`, `vxlan`, `patch` …) or the Linux link kind. */
  type: string;
  ofport?: number;
  /** The access VLAN OVS forwards it in (its `tag`). */
  tag?: number;
  trunks?: number[];
  vlanMode?: string;
  /** OVS's row for it; `present: false` when netplumb's record has a veth but OVS no port. */
  ovs?: { present: boolean; adminState?: string; linkState?: string; error?: string; options?: Record<string, string> };
  /** The host-side link; null when it is not there. */
  link: LinkState | null;
  attachment?: Attachment;
  issues: Issue[];
}

export interface LinkState {
  name: string;
  index: number;
  mac?: string;
  /** The kernel's operstate (`up`, `down`, `lowerlayerdown` …); `admin-down` when not set up. */
  state: string;
  mtu?: number;
  kind?: string;
}

export interface Attachment {
  /** The attachment id (`netplumb.attachment`). */
  id: string;
  /** The interface in the guest. */
  ifname: string;
  mode: string;
  guest: GuestState;
  /** What netplumb recorded when it attached (the intent). Absent fields were not recorded where still readable. */
  recorded: {
    bridge: string;
    vlan?: number;
    trunks?: number[];
    addresses: string[];
    gateway?: string;
    dhcp?: string;
    mac?: string;
    mtu?: number;
    /** False when only the veth's short record survives (its OVS port is gone): VLAN and addresses are unknown. */
    complete: boolean;
  };
  /** The guest's interface as read inside its namespace; absent when it could not be read or is gone. */
  interface?: LinkState & { addresses: string[] };
  /** An attach that has not finished: when it began (ISO 8601). */
  attachingSince?: string;
}

export interface GuestState {
  /** Container id, or `netns:cookie:N` for a bare namespace. */
  id: string;
  /** Container name, or the /run/netns name. */
  name?: string;
  kind: 'container' | 'netns';
  /**
   * `running`: its namespace was opened and read; `stopped`: the container exists but does not
   * run; `restarted`: it runs in another namespace than the one attached; `gone`: no such
   * container or namespace; `unknown`: it could not be asked (see detail).
   */
  state: 'running' | 'stopped' | 'restarted' | 'gone' | 'unknown';
  pid?: number;
  detail?: string;
}

export type IssueCode =
  | 'ovsdb-unreachable'
  | 'bridge-gone'
  | 'port-gone'
  | 'veth-gone'
  | 'guest-gone'
  | 'guest-stopped'
  | 'guest-restarted'
  | 'guest-interface-gone'
  | 'interface-error'
  | 'unfinished'
  | 'vlan-drift'
  | 'address-drift'
  | 'link-down'
  | 'guest-unreadable';

/**
 * `broken`: the attachment cannot carry traffic as recorded (check skips it);
 * `drift`: it carries traffic, but not as recorded (check probes it: a leak shows);
 * `notice`: worth knowing, nothing is wrong with the wiring itself.
 */
export type Severity = 'broken' | 'drift' | 'notice';

export interface Issue {
  code: IssueCode;
  severity: Severity;
  /** What it is about, in words: `port np…h on ovs0 (con1 eth1)`. */
  where: string;
  reason: string;
  /** The command (or commands, joined by &&) that fixes it. */
  fix: string;
}
