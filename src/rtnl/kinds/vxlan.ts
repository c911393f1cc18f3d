/** vxlan: a VXLAN tunnel endpoint (`ip link add vx0 type vxlan id 42 remote … local … dstport 4789 dev eth0`). */
import { invalidArgument } from '../../errors.js';
import { attr, attrTable, dec, parseAttrs } from '../../netlink/attr-reader.js';
import { integer, ipAddress, type IpAddress } from '../../validate.js';
import { linkRef, type LinkRef } from '../link-ref.js';
import { linkKind } from '../link-kind.js';

export const IFLA_VXLAN = {
  IFLA_VXLAN_UNSPEC: 0,
  IFLA_VXLAN_ID: 1,
  IFLA_VXLAN_GROUP: 2,
  IFLA_VXLAN_LINK: 3,
  IFLA_VXLAN_LOCAL: 4,
  IFLA_VXLAN_TTL: 5,
  IFLA_VXLAN_TOS: 6,
  IFLA_VXLAN_LEARNING: 7,
  IFLA_VXLAN_AGEING: 8,
  IFLA_VXLAN_LIMIT: 9,
  IFLA_VXLAN_PORT_RANGE: 10,
  IFLA_VXLAN_PROXY: 11,
  IFLA_VXLAN_RSC: 12,
  IFLA_VXLAN_L2MISS: 13,
  IFLA_VXLAN_L3MISS: 14,
  IFLA_VXLAN_PORT: 15,
  IFLA_VXLAN_GROUP6: 16,
  IFLA_VXLAN_LOCAL6: 17,
  IFLA_VXLAN_UDP_CSUM: 18,
} as const;

export interface VxlanOptions {
  kind: 'vxlan';
  /** VNI, 0..16777215 */
  id: number;
  /** Unicast remote endpoint (or a multicast group) */
  remote?: string;
  local?: string;
  /** UDP destination port (IANA: 4789; the kernel's default is 8472). */
  dstPort?: number;
  /** Underlay device. */
  dev?: LinkRef;
  ttl?: number;
  learning?: boolean;
}

export interface VxlanInfo {
  id?: number;
  remote?: string;
  local?: string;
  dstPort?: number;
  dev?: number;
  ttl?: number;
  learning?: boolean;
}

const VXLAN_TABLE = attrTable('IFLA_VXLAN', {
  [IFLA_VXLAN.IFLA_VXLAN_ID]: attr('id', dec.u32),
  [IFLA_VXLAN.IFLA_VXLAN_GROUP]: attr('group', dec.ipv4),
  [IFLA_VXLAN.IFLA_VXLAN_GROUP6]: attr('group6', dec.ipv6),
  [IFLA_VXLAN.IFLA_VXLAN_LINK]: attr('dev', dec.u32),
  [IFLA_VXLAN.IFLA_VXLAN_LOCAL]: attr('local', dec.ipv4),
  [IFLA_VXLAN.IFLA_VXLAN_LOCAL6]: attr('local6', dec.ipv6),
  [IFLA_VXLAN.IFLA_VXLAN_TTL]: attr('ttl', dec.u8),
  [IFLA_VXLAN.IFLA_VXLAN_LEARNING]: attr('learning', dec.bool8),
  [IFLA_VXLAN.IFLA_VXLAN_PORT]: attr('dstPort', dec.be16),
});

function endpoint(field: string, v: string | undefined, family?: 4 | 6): IpAddress | undefined {
  return v === undefined ? undefined : ipAddress(field, v, family);
}

export const vxlan = linkKind<VxlanOptions, VxlanInfo>({
  kind: 'vxlan',
  validate(o) {
    const out: VxlanOptions = { ...o, id: integer('id', o.id, 0, 0xffffff) };
    const remote = endpoint('remote', o.remote);
    const local = endpoint('local', o.local, remote?.family);
    if (remote !== undefined) out.remote = remote.address;
    if (local !== undefined) out.local = local.address;
    if (o.dstPort !== undefined) out.dstPort = integer('dstPort', o.dstPort, 1, 0xffff);
    if (o.ttl !== undefined) out.ttl = integer('ttl', o.ttl, 0, 255);
    if (o.dev !== undefined) out.dev = linkRef('dev', o.dev);
    if (remote !== undefined && local !== undefined && remote.family !== local.family)
      throw invalidArgument('local', 'family differs from remote');
    return out;
  },
  refs: (o) => (o.dev === undefined ? [] : [o.dev]),
  encodeData(w, o, ctx) {
    const remote = endpoint('remote', o.remote);
    const local = endpoint('local', o.local);
    // iproute2's order: link, id, local, group, ttl, learning, port.
    if (o.dev !== undefined) w.u32(IFLA_VXLAN.IFLA_VXLAN_LINK, ctx.index(o.dev));
    w.u32(IFLA_VXLAN.IFLA_VXLAN_ID, o.id);
    if (local !== undefined)
      w.bytes(local.family === 4 ? IFLA_VXLAN.IFLA_VXLAN_LOCAL : IFLA_VXLAN.IFLA_VXLAN_LOCAL6, local.bytes);
    if (remote !== undefined)
      w.bytes(remote.family === 4 ? IFLA_VXLAN.IFLA_VXLAN_GROUP : IFLA_VXLAN.IFLA_VXLAN_GROUP6, remote.bytes);
    if (o.ttl !== undefined) w.u8(IFLA_VXLAN.IFLA_VXLAN_TTL, o.ttl);
    if (o.learning !== undefined) w.u8(IFLA_VXLAN.IFLA_VXLAN_LEARNING, o.learning ? 1 : 0);
    if (o.dstPort !== undefined) w.be16(IFLA_VXLAN.IFLA_VXLAN_PORT, o.dstPort);
  },
  decodeData(data) {
    const a = parseAttrs(data, VXLAN_TABLE);
    const info: VxlanInfo = {};
    const remote = a.group ?? a.group6;
    const local = a.local ?? a.local6;
    if (a.id !== undefined) info.id = a.id;
    if (remote !== undefined && remote !== '0.0.0.0' && remote !== '::') info.remote = remote;
    if (local !== undefined && local !== '0.0.0.0' && local !== '::') info.local = local;
    if (a.dstPort !== undefined) info.dstPort = a.dstPort;
    if (a.dev !== undefined) info.dev = a.dev;
    if (a.ttl !== undefined) info.ttl = a.ttl;
    if (a.learning !== undefined) info.learning = a.learning;
    return info;
  },
});
