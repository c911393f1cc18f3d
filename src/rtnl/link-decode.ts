/** RTM_NEWLINK messages → `Link` objects. */
import { RTM } from '../netlink/message-types.js';
import type { NetlinkMessage } from '../netlink/header.js';
import { parseAttrs, type RawAttr } from '../netlink/attr-reader.js';
import { guardParse, parseError } from '../netlink/parse-error.js';
import { IFF, IF_OPER } from './constants/if-link.js';
import { LINK_TABLE } from './link-attrs.js';
import { linkKindFor, type LinkKindInfo } from './kinds/index.js';
import { IFINFOMSG } from './structs.js';

export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

const OPER_STATES: readonly OperState[] = [
  'unknown',
  'notpresent',
  'down',
  'lowerlayerdown',
  'testing',
  'dormant',
  'up',
];

export interface LinkFlags {
  up: boolean;
  broadcast: boolean;
  loopback: boolean;
  pointopoint: boolean;
  running: boolean;
  noarp: boolean;
  promisc: boolean;
  allmulti: boolean;
  master: boolean;
  slave: boolean;
  multicast: boolean;
  lowerUp: boolean;
  dormant: boolean;
}

const FLAG_BITS: Readonly<Record<keyof LinkFlags, number>> = {
  up: IFF.IFF_UP,
  broadcast: IFF.IFF_BROADCAST,
  loopback: IFF.IFF_LOOPBACK,
  pointopoint: IFF.IFF_POINTOPOINT,
  running: IFF.IFF_RUNNING,
  noarp: IFF.IFF_NOARP,
  promisc: IFF.IFF_PROMISC,
  allmulti: IFF.IFF_ALLMULTI,
  master: IFF.IFF_MASTER,
  slave: IFF.IFF_SLAVE,
  multicast: IFF.IFF_MULTICAST,
  lowerUp: IFF.IFF_LOWER_UP,
  dormant: IFF.IFF_DORMANT,
};

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND (`veth`, `bridge`…); absent for physical and loopback devices. */
  kind?: string;
  /** Kind-specific data (IFLA_INFO_DATA) when netplumb models the kind. */
  info?: LinkKindInfo;
  /** IFLA_INFO_DATA as raw bytes when it does not. */
  infoData?: Buffer;
  /** IFLA_INFO_SLAVE_KIND when the link is a port (`bridge`, `bond`…). */
  slaveKind?: string;
  /** ARPHRD_* */
  type: number;
  flags: LinkFlags;
  rawFlags: number;
  operstate: OperState;
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  mac?: string;
  broadcast?: string;
  permMac?: string;
  /** IFLA_MASTER: the bridge/bond this link is a port of. */
  master?: number;
  group: number;
  alias?: string;
  /** IFLA_LINK: a veth's peer, a macvlan's or vlan's parent (an index in `linkNetnsId`'s namespace when set). */
  peerIndex?: number;
  /** IFLA_LINK_NETNSID: the namespace (as this namespace's nsid) `peerIndex` lives in. */
  linkNetnsId?: number;
  txqlen?: number;
  promiscuity?: number;
  carrier?: boolean;
  numTxQueues?: number;
  numRxQueues?: number;
  altNames?: string[];
  /** IFLA attributes netplumb does not decode, raw by number. */
  unknownAttrs: RawAttr[];
}

export function decodeLinkFlags(raw: number): LinkFlags {
  const out = {} as LinkFlags;
  for (const [name, bit] of Object.entries(FLAG_BITS) as [keyof LinkFlags, number][]) out[name] = (raw & bit) !== 0;
  return out;
}

/** Decode one RTM_NEWLINK message. */
export function decodeLink(msg: NetlinkMessage): Link {
  return guardParse('RTM_NEWLINK', () => {
    if (msg.type !== RTM.RTM_NEWLINK) throw parseError('RTM_NEWLINK', `unexpected message type ${msg.type}`);
    const hdr = IFINFOMSG.decode(msg.payload);
    const a = parseAttrs(msg.payload.subarray(IFINFOMSG.size), LINK_TABLE);
    if (a.ifname === undefined) throw parseError('RTM_NEWLINK', `link ${hdr.index} has no IFLA_IFNAME`);
    const link: Link = {
      index: hdr.index,
      name: a.ifname,
      type: hdr.type,
      flags: decodeLinkFlags(hdr.flags),
      rawFlags: hdr.flags,
      operstate: OPER_STATES[a.operstate ?? IF_OPER.IF_OPER_UNKNOWN] ?? 'unknown',
      group: a.group ?? 0,
      unknownAttrs: a.unknown,
    };
    const optional = {
      mtu: a.mtu,
      minMtu: a.minMtu,
      maxMtu: a.maxMtu,
      mac: a.address,
      broadcast: a.broadcast,
      permMac: a.permAddress,
      master: a.master,
      alias: a.alias,
      peerIndex: a.link,
      linkNetnsId: a.linkNetnsId,
      txqlen: a.txqlen,
      promiscuity: a.promiscuity,
      carrier: a.carrier,
      numTxQueues: a.numTxQueues,
      numRxQueues: a.numRxQueues,
      altNames: a.propList?.altNames,
      kind: a.linkinfo?.kind,
      slaveKind: a.linkinfo?.slaveKind,
    };
    for (const [k, v] of Object.entries(optional))
      if (v !== undefined) (link as unknown as Record<string, unknown>)[k] = v;
    const data = a.linkinfo?.data;
    if (data !== undefined && link.kind !== undefined) {
      const kind = linkKindFor(link.kind);
      if (kind?.decodeData !== undefined) link.info = kind.decodeData(data);
      else link.infoData = data;
    }
    return link;
  });
}
