/**
 * The IFLA attributes a link carries that are not kind-specific: one encoder used by
 * `link add`, `link set` and the veth peer, and the parse table used to decode links.
 */
import type { AttrWriter } from '../netlink/attr-writer.js';
import { attr, attrTable, dec, multiAttr } from '../netlink/attr-reader.js';
import { invalidArgument } from '../errors.js';
import { fd, ifAlias, integer, macAddress, macBytes, mtu, u32 } from '../validate.js';
import { IFLA, IFLA_INFO } from './constants/if-link.js';

const {
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_LINK,
  IFLA_QDISC,
  IFLA_MASTER,
  IFLA_TXQLEN,
  IFLA_OPERSTATE,
  IFLA_LINKMODE,
  IFLA_LINKINFO,
  IFLA_NET_NS_PID,
  IFLA_IFALIAS,
  IFLA_GROUP,
  IFLA_NET_NS_FD,
  IFLA_PROMISCUITY,
  IFLA_NUM_TX_QUEUES,
  IFLA_NUM_RX_QUEUES,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_LINK_NETNSID,
  IFLA_NEW_NETNSID,
  IFLA_MIN_MTU,
  IFLA_MAX_MTU,
  IFLA_PROP_LIST,
  IFLA_ALT_IFNAME,
  IFLA_PERM_ADDRESS,
  IFLA_PARENT_DEV_NAME,
  IFLA_ALLMULTI,
} = IFLA;
const { IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_XSTATS, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA } = IFLA_INFO;

/** Settable attributes shared by a new link, a veth peer and `link set`. */
export interface LinkCommonOptions {
  mtu?: number;
  /** Unicast MAC, `aa:bb:cc:dd:ee:ff` or `AA-BB-…`. */
  mac?: string;
  /** Link group (IFLA_GROUP), u32; 0 is the default group. */
  group?: number;
  /** Interface alias (IFLA_IFALIAS); `""` removes it. */
  alias?: string;
  txqlen?: number;
  /** Put the link in the network namespace of this fd (IFLA_NET_NS_FD). */
  netnsFd?: number;
  /** Put the link in the network namespace of this process (IFLA_NET_NS_PID). */
  netnsPid?: number;
}

/** Validate and normalise the common options (MAC to lowercase colon form). */
export function validateLinkCommon<T extends LinkCommonOptions>(o: T, prefix = ''): T {
  const out: T = { ...o };
  if (o.mtu !== undefined) out.mtu = mtu(`${prefix}mtu`, o.mtu);
  if (o.mac !== undefined) out.mac = macAddress(`${prefix}mac`, o.mac);
  if (o.group !== undefined) out.group = u32(`${prefix}group`, o.group);
  if (o.alias !== undefined) out.alias = ifAlias(`${prefix}alias`, o.alias);
  if (o.txqlen !== undefined) out.txqlen = u32(`${prefix}txqlen`, o.txqlen);
  if (o.netnsFd !== undefined) out.netnsFd = fd(`${prefix}netnsFd`, o.netnsFd);
  if (o.netnsPid !== undefined) out.netnsPid = integer(`${prefix}netnsPid`, o.netnsPid, 1, 0x7fffffff);
  if (o.netnsFd !== undefined && o.netnsPid !== undefined)
    throw invalidArgument(`${prefix}netnsFd`, 'give netnsFd or netnsPid, not both');
  return out;
}

/** Everything `encodeLinkAttrs` can write, with link references already resolved to ifindexes. */
export interface LinkAttrValues extends LinkCommonOptions {
  name?: string;
  /** IFLA_LINK: the parent (macvlan, vlan) */
  link?: number;
  /** IFLA_MASTER; 0 detaches (nomaster). */
  master?: number;
}

/**
 * Write the common attributes in the order iproute2 emits them for the usual command lines
 * (parent, address, mtu, netns, master, group, alias, txqlen, then the name), so that our
 * requests can be compared byte for byte with what `ip` sends.
 */
export function encodeLinkAttrs(w: AttrWriter, a: LinkAttrValues): void {
  if (a.link !== undefined) w.u32(IFLA_LINK, a.link);
  if (a.mac !== undefined) w.bytes(IFLA_ADDRESS, macBytes(a.mac));
  if (a.mtu !== undefined) w.u32(IFLA_MTU, a.mtu);
  if (a.netnsFd !== undefined) w.u32(IFLA_NET_NS_FD, a.netnsFd);
  if (a.netnsPid !== undefined) w.u32(IFLA_NET_NS_PID, a.netnsPid);
  if (a.master !== undefined) w.u32(IFLA_MASTER, a.master);
  if (a.group !== undefined) w.u32(IFLA_GROUP, a.group);
  // Unterminated, as `ip link set … alias` sends it: an empty alias is a zero-length attribute, which clears it.
  if (a.alias !== undefined) w.string(IFLA_IFALIAS, a.alias, false);
  if (a.txqlen !== undefined) w.u32(IFLA_TXQLEN, a.txqlen);
  if (a.name !== undefined) w.string(IFLA_IFNAME, a.name);
}

export const LINKINFO_TABLE = attrTable('IFLA_INFO', {
  [IFLA_INFO_KIND]: attr('kind', dec.string),
  [IFLA_INFO_DATA]: attr('data', dec.bytes),
  [IFLA_INFO_XSTATS]: attr('xstats', dec.bytes),
  [IFLA_INFO_SLAVE_KIND]: attr('slaveKind', dec.string),
  [IFLA_INFO_SLAVE_DATA]: attr('slaveData', dec.bytes),
});

const PROP_LIST_TABLE = attrTable('IFLA_PROP_LIST', {
  [IFLA_ALT_IFNAME]: multiAttr('altNames', dec.string),
});

/** IFLA attributes decoded into a Link; the others are kept raw in `unknown`. */
export const LINK_TABLE = attrTable('IFLA', {
  [IFLA_ADDRESS]: attr('address', dec.hwaddr),
  [IFLA_BROADCAST]: attr('broadcast', dec.hwaddr),
  [IFLA_IFNAME]: attr('ifname', dec.string),
  [IFLA_MTU]: attr('mtu', dec.u32),
  [IFLA_LINK]: attr('link', dec.u32),
  [IFLA_QDISC]: attr('qdisc', dec.string),
  [IFLA_MASTER]: attr('master', dec.u32),
  [IFLA_TXQLEN]: attr('txqlen', dec.u32),
  [IFLA_OPERSTATE]: attr('operstate', dec.u8),
  [IFLA_LINKMODE]: attr('linkmode', dec.u8),
  [IFLA_LINKINFO]: attr('linkinfo', dec.nested(LINKINFO_TABLE)),
  [IFLA_IFALIAS]: attr('alias', dec.string),
  [IFLA_GROUP]: attr('group', dec.u32),
  [IFLA_PROMISCUITY]: attr('promiscuity', dec.u32),
  [IFLA_ALLMULTI]: attr('allmulti', dec.u32),
  [IFLA_NUM_TX_QUEUES]: attr('numTxQueues', dec.u32),
  [IFLA_NUM_RX_QUEUES]: attr('numRxQueues', dec.u32),
  [IFLA_CARRIER]: attr('carrier', dec.bool8),
  [IFLA_CARRIER_CHANGES]: attr('carrierChanges', dec.u32),
  [IFLA_LINK_NETNSID]: attr('linkNetnsId', dec.s32),
  [IFLA_NEW_NETNSID]: attr('newNetnsId', dec.s32),
  [IFLA_MIN_MTU]: attr('minMtu', dec.u32),
  [IFLA_MAX_MTU]: attr('maxMtu', dec.u32),
  [IFLA_PROP_LIST]: attr('propList', dec.nested(PROP_LIST_TABLE)),
  [IFLA_PERM_ADDRESS]: attr('permAddress', dec.hwaddr),
  [IFLA_PARENT_DEV_NAME]: attr('parentDevName', dec.string),
});
