/**
 * The host's state as read (OVSDB rows, host links, netplumb's records, the guests) →
 * the topology tree: bridges → VLANs → ports → guests, each of netplumb's attachments
 * diagnosed in place, other tools' ports shown read-only. Pure: no I/O.
 */
import type { InterfaceRow, PortRow } from '../ovsdb/index.js';
import type { Attachment as PlumbAttachment } from '../plumb/plumber.js';
import { OWNER, decodeAlias } from '../plumb/record.js';
import type { Link } from '../rtnl/index.js';
import { diagnose, linkStateWord } from './diagnose.js';
import type { GuestFacts } from './guests.js';
import {
  TOPOLOGY_SCHEMA,
  type Attachment,
  type Bridge,
  type Issue,
  type LinkState,
  type Port,
  type PortRole,
  type Topology,
} from './model.js';

export interface OvsBridgeView {
  name: string;
  datapathType: string;
  /** Its ports but its own local port, each with its (first) interface. */
  ports: { row: PortRow; iface?: InterfaceRow }[];
}

export interface HostSnapshot {
  ovsRemote: string;
  /** Why OVSDB could not be read, if it could not. */
  ovsError?: string;
  ovsBridges: OvsBridgeView[];
  /** Links of the host namespace. */
  links: Link[];
  /** netplumb's attachments (Plumber.list()). */
  attachments: PlumbAttachment[];
  /** Each attachment's guest, by attachment id. */
  guests: ReadonlyMap<string, GuestFacts>;
  now: Date;
}

const TUNNEL_TYPES = new Set([
  'vxlan',
  'geneve',
  'gre',
  'ip6gre',
  'stt',
  'lisp',
  'erspan',
  'ip6erspan',
  'gtpu',
  'bareudp',
  'srv6',
]);

function roleOf(ovsType: string, link: Link | undefined): PortRole {
  if (ovsType === 'internal') return 'internal';
  if (ovsType === 'patch') return 'patch';
  if (TUNNEL_TYPES.has(ovsType)) return 'tunnel';
  if (link?.kind === 'veth') return 'guest';
  return 'uplink';
}

export function linkState(l: Link): LinkState {
  return {
    name: l.name,
    index: l.index,
    ...(l.mac !== undefined ? { mac: l.mac } : {}),
    state: linkStateWord(l),
    ...(l.mtu !== undefined ? { mtu: l.mtu } : {}),
    ...(l.kind !== undefined ? { kind: l.kind } : {}),
  };
}

const UNKNOWN_GUEST: GuestFacts = { kind: 'container', state: 'unknown', detail: 'not looked up' };

function attachmentNode(a: PlumbAttachment, g: GuestFacts, complete: boolean): Attachment {
  const r = a.record;
  const kind = r.guestId.startsWith('netns:') ? 'netns' : 'container';
  const name = g.name ?? r.guestName?.replace(/^\//, '');
  return {
    id: r.id,
    ifname: r.ifname,
    mode: r.mode,
    guest: {
      id: r.guestId,
      ...(name !== undefined ? { name } : {}),
      kind,
      state: g.state,
      ...(g.pid !== undefined ? { pid: g.pid } : {}),
      ...(g.detail !== undefined ? { detail: g.detail } : {}),
    },
    recorded: {
      bridge: r.host,
      ...(r.vlan !== undefined ? { vlan: r.vlan } : {}),
      ...(r.trunks !== undefined ? { trunks: r.trunks } : {}),
      addresses: Array.isArray(r.addresses) ? [...r.addresses] : [],
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(r.dhcp !== undefined ? { dhcp: r.dhcp } : {}),
      ...(typeof r.mac === 'string' && r.mac !== '' ? { mac: r.mac } : {}),
      ...(typeof r.mtu === 'number' && r.mtu > 0 ? { mtu: r.mtu } : {}),
      complete,
    },
    ...(g.iface !== undefined ? { interface: { ...linkState(g.iface.link), addresses: g.iface.addresses } } : {}),
    ...(a.attachingSince !== undefined ? { attachingSince: a.attachingSince } : {}),
  };
}

/** Is this record whole (read from the OVS port), or the veth alias's short form? */
function isComplete(a: PlumbAttachment): boolean {
  return Array.isArray(a.record.addresses);
}

class TreeBuilder {
  readonly bridges = new Map<string, Bridge>();

  bridge(name: string, init: () => Bridge): Bridge {
    let b = this.bridges.get(name);
    if (b === undefined) {
      b = init();
      this.bridges.set(name, b);
    }
    return b;
  }

  /** Place a port: guests by VLAN (trunk ports apart), the rest as uplinks. */
  place(b: Bridge, p: Port, groupTag: number | undefined): void {
    if (p.role !== 'guest') {
      b.uplinks.push(p);
      return;
    }
    if (p.trunks !== undefined && p.trunks.length > 0 && groupTag === undefined) {
      b.trunks.push(p);
      return;
    }
    const tag = groupTag ?? 0;
    let g = b.vlans.find((v) => v.tag === tag);
    if (g === undefined) {
      g = { tag, ports: [] };
      b.vlans.push(g);
    }
    g.ports.push(p);
  }
}

/** The whole host's topology (scope `host`); select.ts narrows it. */
export function buildTopology(s: HostSnapshot): Topology {
  const linksByName = new Map(s.links.map((l) => [l.name, l]));
  const byHostIf = new Map(s.attachments.map((a) => [a.record.hostIfname, a]));
  const placed = new Set<string>();
  const t = new TreeBuilder();

  const ours = (
    a: PlumbAttachment,
    port: Omit<Port, 'attachment' | 'issues' | 'owner' | 'role'>,
    bridgePresent: boolean,
    row?: { row: PortRow; iface?: InterfaceRow },
  ): Port => {
    const g = s.guests.get(a.record.id) ?? UNKNOWN_GUEST;
    const complete = isComplete(a);
    const link = linksByName.get(a.record.hostIfname);
    const issues = diagnose({
      record: a.record,
      complete,
      ...(a.attachingSince !== undefined ? { attachingSince: a.attachingSince } : {}),
      bridgePresent,
      ...(s.ovsError !== undefined ? { ovsUnknown: true } : {}),
      ...(row !== undefined ? { port: row.row } : {}),
      ...(row?.iface !== undefined ? { iface: row.iface } : {}),
      ...(link !== undefined ? { hostLink: link } : {}),
      guest: g,
    });
    return { ...port, owner: 'netplumb', role: 'guest', attachment: attachmentNode(a, g, complete), issues };
  };

  for (const br of s.ovsBridges) {
    const b = t.bridge(br.name, () => ({
      name: br.name,
      type: 'ovs',
      present: true,
      datapathType: br.datapathType || 'system',
      uplinks: [],
      vlans: [],
      trunks: [],
      missing: [],
    }));
    for (const pr of br.ports) {
      const { row, iface } = pr;
      const link = linksByName.get(row.name);
      const base = {
        name: row.name,
        type: iface?.type ?? '',
        ...(iface?.ofport !== undefined ? { ofport: iface.ofport } : {}),
        ...(row.tag !== undefined ? { tag: row.tag } : {}),
        ...(row.trunks.length > 0 ? { trunks: row.trunks } : {}),
        ...(row.vlanMode !== undefined ? { vlanMode: row.vlanMode } : {}),
        ovs: {
          present: true,
          ...(iface?.adminState !== undefined ? { adminState: iface.adminState } : {}),
          ...(iface?.linkState !== undefined ? { linkState: iface.linkState } : {}),
          ...(iface?.error !== undefined ? { error: iface.error } : {}),
          ...(iface !== undefined && Object.keys(iface.options).length > 0 ? { options: iface.options } : {}),
        },
        link: link !== undefined ? linkState(link) : null,
      };
      const a = row.externalIds['netplumb.owner'] === OWNER ? byHostIf.get(row.name) : undefined;
      if (a !== undefined) {
        placed.add(a.record.hostIfname);
        t.place(b, ours(a, base, true, pr), row.tag);
      } else {
        const p: Port = { ...base, owner: 'foreign', role: roleOf(iface?.type ?? '', link), issues: [] };
        t.place(b, p, row.tag);
      }
    }
  }

  // Linux bridges: their member links; netplumb's by the record in the alias.
  const linksByIndex = new Map(s.links.map((l) => [l.index, l]));
  for (const l of s.links) {
    if (l.master === undefined) continue;
    const master = linksByIndex.get(l.master);
    if (master?.kind !== 'bridge') continue;
    const b = t.bridge(master.name, () => ({
      name: master.name,
      type: 'linux',
      present: true,
      uplinks: [],
      vlans: [],
      trunks: [],
      missing: [],
    }));
    const base = { name: l.name, type: l.kind ?? 'device', link: linkState(l) };
    const a = decodeAlias(l.alias) !== undefined ? byHostIf.get(l.name) : undefined;
    if (a !== undefined) {
      placed.add(a.record.hostIfname);
      t.place(b, ours(a, base, true), undefined);
    } else
      t.place(b, { ...base, owner: 'foreign', role: l.kind === 'veth' ? 'guest' : 'uplink', issues: [] }, undefined);
  }
  // Linux bridges with no member yet.
  for (const l of s.links)
    if (l.kind === 'bridge')
      t.bridge(l.name, () => ({
        name: l.name,
        type: 'linux',
        present: true,
        uplinks: [],
        vlans: [],
        trunks: [],
        missing: [],
      }));

  // netplumb's attachments whose port is not on any bridge: the port or the whole bridge is gone.
  for (const a of s.attachments) {
    if (placed.has(a.record.hostIfname)) continue;
    const r = a.record;
    const isOvs = r.mode === 'ovs';
    const present = t.bridges.get(r.host)?.present === true || (!isOvs && linksByName.has(r.host));
    const b = t.bridge(r.host, () => ({
      name: r.host,
      type: isOvs ? 'ovs' : 'linux',
      present: false,
      uplinks: [],
      vlans: [],
      trunks: [],
      missing: [],
    }));
    const link = linksByName.get(r.hostIfname);
    const port = ours(
      a,
      {
        name: r.hostIfname,
        type: link?.kind ?? 'veth',
        ...(isOvs ? { ovs: { present: false } } : {}),
        link: link !== undefined ? linkState(link) : null,
      },
      present,
    );
    b.missing.push(port);
  }

  const bridges = [...t.bridges.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const b of bridges) {
    b.vlans.sort((x, y) => x.tag - y.tag);
    for (const g of b.vlans) g.ports.sort(portOrder);
    b.trunks.sort(portOrder);
    b.uplinks.sort(portOrder);
    b.missing.sort(portOrder);
  }
  return finish({
    schema: TOPOLOGY_SCHEMA,
    generatedAt: s.now.toISOString(),
    scope: { kind: 'host' },
    ovsdb: {
      remote: s.ovsRemote,
      reachable: s.ovsError === undefined,
      ...(s.ovsError !== undefined ? { error: s.ovsError } : {}),
    },
    bridges,
    issues: [],
    summary: { bridges: 0, vlans: 0, ports: 0, attachments: 0, foreignPorts: 0, issues: 0, broken: 0 },
  });
}

/** Guests by name, then port name. */
function portOrder(a: Port, b: Port): number {
  const ga = a.attachment?.guest.name ?? a.attachment?.guest.id ?? '~';
  const gb = b.attachment?.guest.name ?? b.attachment?.guest.id ?? '~';
  return ga.localeCompare(gb, undefined, { numeric: true }) || a.name.localeCompare(b.name);
}

/** Every port of a bridge, in tree order. */
export function bridgePorts(b: Bridge): Port[] {
  return [...b.vlans.flatMap((v) => v.ports), ...b.trunks, ...b.missing, ...b.uplinks];
}

/** Fill in the flat issue list and the summary from the tree. */
export function finish(t: Topology): Topology {
  const ports = t.bridges.flatMap(bridgePorts);
  const ovsIssue: Issue[] =
    t.ovsdb.reachable || t.ovsdb.error === undefined
      ? []
      : [
          {
            code: 'ovsdb-unreachable',
            severity: 'notice',
            where: `OVSDB ${t.ovsdb.remote}`,
            reason: t.ovsdb.error,
            fix: 'start ovsdb-server, or name it with --ovs-db',
          },
        ];
  const issues = [...ovsIssue, ...ports.flatMap((p) => p.issues)];
  const vlanTags = new Set(
    t.bridges.flatMap((b) => [
      ...b.vlans.map((v) => `${b.name}:${v.tag}`),
      ...b.trunks.flatMap((p) => (p.trunks ?? []).map((v) => `${b.name}:${v}`)),
    ]),
  );
  return {
    ...t,
    issues,
    summary: {
      bridges: t.bridges.length,
      vlans: vlanTags.size,
      ports: ports.length,
      attachments: ports.filter((p) => p.owner === 'netplumb').length,
      foreignPorts: ports.filter((p) => p.owner === 'foreign').length,
      issues: issues.length,
      broken: ports.filter((p) => p.issues.some((i) => i.severity === 'broken')).length,
    },
  };
}
