/**
 * A host's state as the topology reader would find it, made up: links, OVSDB rows,
 * netplumb's records and guests, for the seed scenario (4 guests, VLANs 100 and 200) or
 * any number of guests. Tests break it the way another tool would.
 */
import type { Attachment } from '../../../src/plumb/plumber.js';
import { aliasFor, type AttachmentRecord } from '../../../src/plumb/record.js';
import type { InterfaceRow, PortRow } from '../../../src/ovsdb/index.js';
import type { Link } from '../../../src/rtnl/index.js';
import { decodeLinkFlags } from '../../../src/rtnl/link-decode.js';
import { buildTopology, type HostSnapshot } from '../../../src/topology/build.js';
import type { GuestFacts } from '../../../src/topology/guests.js';
import type { Topology } from '../../../src/topology/model.js';

const UP = 0x1 | 0x10000 | 0x40; // IFF_UP | IFF_LOWER_UP | IFF_RUNNING

export function link(index: number, name: string, extra: Partial<Link> = {}): Link {
  return {
    index,
    name,
    type: 1,
    flags: decodeLinkFlags(UP),
    rawFlags: UP,
    operstate: 'up',
    group: 0,
    unknownAttrs: [],
    kind: 'veth',
    mac: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`,
    mtu: 1500,
    ...extra,
  };
}

export function record(i: number, vlan: number): AttachmentRecord {
  return {
    id: `id${i}`,
    guestId: `${String(i).repeat(64)}`.slice(0, 64),
    ifname: 'eth1',
    mode: 'ovs',
    host: 'ovs0',
    hostIfname: `np${i}h`,
    guestName: `con${i}`,
    pid: 100 + i,
    addresses: [`10.0.0.${i}/24`],
    mac: '',
    vlan,
    mtu: 1500,
  };
}

/** The alias form of a record: what a host veth carries (no addresses, no VLAN). */
export function short(r: AttachmentRecord): AttachmentRecord {
  const alias = JSON.parse(aliasFor(r).slice('netplumb '.length)) as AttachmentRecord;
  return alias;
}

export function portRow(r: AttachmentRecord, tag: number | undefined): { row: PortRow; iface: InterfaceRow } {
  return {
    row: {
      uuid: `p-${r.id}`,
      name: r.hostIfname,
      interfaces: [`i-${r.id}`],
      tag,
      trunks: [],
      vlanMode: undefined,
      externalIds: { 'netplumb.owner': 'netplumb', 'netplumb.attachment': r.id },
    },
    iface: {
      uuid: `i-${r.id}`,
      name: r.hostIfname,
      type: '',
      options: {},
      ofport: Number(r.id.slice(2)),
      error: undefined,
      externalIds: {},
      mtuRequest: undefined,
      adminState: 'up',
      linkState: 'up',
    },
  };
}

export function running(r: AttachmentRecord, addresses = r.addresses): GuestFacts {
  return {
    kind: 'container',
    state: 'running',
    name: r.guestName as string,
    pid: r.pid as number,
    iface: { link: link(2, 'eth1', { alias: aliasFor(r) }), addresses },
  };
}

export const seed = [record(1, 100), record(2, 100), record(3, 200), record(4, 200)];

/** The seed's host, healthy; `edit` breaks it the way another tool would. */
export function host(
  edit: (s: HostSnapshot) => void = () => undefined,
  records: readonly AttachmentRecord[] = seed,
): Topology {
  const s: HostSnapshot = {
    ovsRemote: 'unix:/run/openvswitch/db.sock',
    ovsBridges: [
      {
        name: 'ovs0',
        datapathType: 'netdev',
        ports: [
          ...records.map((r) => portRow(r, r.vlan)),
          {
            row: {
              uuid: 'p-vx',
              name: 'vx0',
              interfaces: ['i-vx'],
              tag: undefined,
              trunks: [],
              vlanMode: undefined,
              externalIds: {},
            },
            iface: {
              uuid: 'i-vx',
              name: 'vx0',
              type: 'vxlan',
              options: { remote_ip: '127.0.0.2', key: '42' },
              ofport: 9,
              error: undefined,
              externalIds: {},
              mtuRequest: undefined,
              adminState: 'up',
              linkState: 'up',
            },
          },
        ],
      },
    ],
    links: [
      link(1, 'lo', { kind: undefined }),
      ...records.map((r, i) => link(10 + i, r.hostIfname, { alias: aliasFor(r) })),
    ],
    attachments: records.map(
      (r, i): Attachment => ({ record: r, hostLinkPresent: true, hostLinkUp: true, ofport: i + 1, orphaned: false }),
    ),
    guests: new Map(records.map((r) => [r.id, running(r)])),
    now: new Date('2026-12-02T12:00:00Z'),
  };
  edit(s);
  return buildTopology(s);
}

/** `n` guests spread over `vlans` in turn, addressed 10.0.0.1 upwards (a /16). */
export function crowd(n: number, vlans: readonly number[]): Topology {
  const records = Array.from({ length: n }, (_, k) => {
    const r = record(k + 1, vlans[k % vlans.length] as number);
    return {
      ...r,
      guestId: `g${k + 1}`.padEnd(64, '0'),
      addresses: [`10.0.${Math.floor((k + 1) / 256)}.${(k + 1) % 256}/16`],
    };
  });
  return host(() => undefined, records);
}
