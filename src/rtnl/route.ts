/** Route verbs (`ip route …`) and RTM_NEWROUTE decoding. */
import { invalidArgument } from '../errors.js';
import { AttrWriter } from '../netlink/attr-writer.js';
import { attr, attrTable, dec, parseAttrs, type RawAttr } from '../netlink/attr-reader.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NetlinkMessage } from '../netlink/header.js';
import { NLM_F } from '../netlink/constants.js';
import { RTM } from '../netlink/message-types.js';
import { guardParse, parseError } from '../netlink/parse-error.js';
import { integer, ipAddress, ipPrefix, u32, type IpAddress, type IpFamily, type IpPrefix } from '../validate.js';
import { RTA, RTN, RTNH_F, RTPROT, RT_SCOPE, RT_TABLE } from './constants/rtnetlink.js';
import { afOf, familyOf } from './family.js';
import { describeLinkRef, linkRef, type LinkRef } from './link-ref.js';
import { dump, payload, send, type RtnlRequest } from './request.js';
import { scopeName, scopeValue, type Scope, type ScopeName } from './scope.js';
import { RTMSG } from './structs.js';

const TABLES = {
  main: RT_TABLE.RT_TABLE_MAIN,
  local: RT_TABLE.RT_TABLE_LOCAL,
  default: RT_TABLE.RT_TABLE_DEFAULT,
} as const;
export type TableName = keyof typeof TABLES;
export type Table = TableName | number;

const TYPES = {
  unicast: RTN.RTN_UNICAST,
  local: RTN.RTN_LOCAL,
  broadcast: RTN.RTN_BROADCAST,
  anycast: RTN.RTN_ANYCAST,
  multicast: RTN.RTN_MULTICAST,
  blackhole: RTN.RTN_BLACKHOLE,
  unreachable: RTN.RTN_UNREACHABLE,
  prohibit: RTN.RTN_PROHIBIT,
  throw: RTN.RTN_THROW,
} as const;
export type RouteType = keyof typeof TYPES;

/** A routing table id: `main`, `local`, `default` or 1..2^32-1. */
export function tableValue(field: string, v: unknown): number {
  if (typeof v === 'string' && Object.hasOwn(TABLES, v)) return TABLES[v as TableName];
  return integer(field, v, 1, 0xffffffff);
}

/** `main`, `local`, `default`, or the number. */
export function tableName(v: number): TableName | number {
  return nameOf(TABLES, v);
}

function nameOf<T extends string>(table: Readonly<Record<T, number>>, v: number): T | number {
  const hit = (Object.entries(table) as [T, number][]).find(([, n]) => n === v);
  return hit === undefined ? v : hit[0];
}

export interface RouteOptions {
  /** `default`, or a network prefix (`10.5.0.0/16`, `fd01::/64`). */
  dst: string;
  /** Gateway. */
  via?: string;
  dev?: LinkRef;
  /** Pretend the gateway is directly reachable on `dev` (RTNH_F_ONLINK). */
  onlink?: boolean;
  /** Default: `link` for a route without a gateway, else `global` (as `ip`). */
  scope?: Scope;
  /** Default `main`. */
  table?: Table;
  /** RTA_PRIORITY */
  metric?: number;
  /** Preferred source address (RTA_PREFSRC). */
  src?: string;
  /** Default `unicast`. */
  type?: RouteType;
  /** Routing protocol id (RTPROT_*); default boot (3), as `ip`. */
  protocol?: number;
  /** Needed only for `dst: 'default'` without `via`. */
  family?: IpFamily;
}

export interface RouteListFilter {
  family?: IpFamily;
  /** Default `main`; `all` for every table. */
  table?: Table | 'all';
  dev?: LinkRef;
}

export interface Route {
  family: IpFamily;
  /** `default` or `prefix/len` */
  dst: string;
  dstLen: number;
  table: TableName | number;
  protocol: number;
  scope: ScopeName | number;
  type: RouteType | number;
  flags: number;
  onlink: boolean;
  gateway?: string;
  /** ifindex (RTA_OIF) */
  oif?: number;
  iif?: number;
  metric?: number;
  prefsrc?: string;
  src?: string;
  unknownAttrs: RawAttr[];
}

const ROUTE_TABLE = attrTable('RTA', {
  [RTA.RTA_DST]: attr('dst', dec.ip),
  [RTA.RTA_SRC]: attr('src', dec.ip),
  [RTA.RTA_IIF]: attr('iif', dec.u32),
  [RTA.RTA_OIF]: attr('oif', dec.u32),
  [RTA.RTA_GATEWAY]: attr('gateway', dec.ip),
  [RTA.RTA_PRIORITY]: attr('priority', dec.u32),
  [RTA.RTA_PREFSRC]: attr('prefsrc', dec.ip),
  [RTA.RTA_TABLE]: attr('table', dec.u32),
});

export function decodeRoute(msg: NetlinkMessage): Route {
  return guardParse('RTM_NEWROUTE', () => {
    if (msg.type !== RTM.RTM_NEWROUTE) throw parseError('RTM_NEWROUTE', `unexpected message type ${msg.type}`);
    const h = RTMSG.decode(msg.payload);
    const family = familyOf(h.family, 'rtmsg');
    const a = parseAttrs(msg.payload.subarray(RTMSG.size), ROUTE_TABLE);
    const out: Route = {
      family,
      dst:
        a.dst === undefined
          ? h.dst_len === 0
            ? 'default'
            : `${family === 4 ? '0.0.0.0' : '::'}/${h.dst_len}`
          : `${a.dst}/${h.dst_len}`,
      dstLen: h.dst_len,
      table: nameOf(TABLES, a.table ?? h.table),
      protocol: h.protocol,
      scope: scopeName(h.scope),
      type: nameOf(TYPES, h.type),
      flags: h.flags,
      onlink: (h.flags & RTNH_F.RTNH_F_ONLINK) !== 0,
      unknownAttrs: a.unknown,
    };
    if (a.gateway !== undefined) out.gateway = a.gateway;
    if (a.oif !== undefined) out.oif = a.oif;
    if (a.iif !== undefined) out.iif = a.iif;
    if (a.priority !== undefined) out.metric = a.priority;
    if (a.prefsrc !== undefined) out.prefsrc = a.prefsrc;
    if (a.src !== undefined) out.src = `${a.src}/${h.src_len}`;
    return out;
  });
}

export interface ValidRoute {
  family: IpFamily;
  dst: IpPrefix | undefined;
  via?: IpAddress;
  dev?: LinkRef;
  onlink: boolean;
  scope?: number;
  table: number;
  metric?: number;
  src?: IpAddress;
  type: number;
  protocol: number;
}

export function validateRoute(o: RouteOptions): ValidRoute {
  let family: IpFamily | undefined = o.family;
  const dst = o.dst === 'default' ? undefined : ipPrefix('dst', o.dst, { family, network: true });
  family = dst?.family ?? family;
  const via = o.via === undefined ? undefined : ipAddress('via', o.via, family);
  family = via?.family ?? family ?? 4;
  const out: ValidRoute = {
    family,
    dst,
    onlink: o.onlink === true,
    table: o.table === undefined ? RT_TABLE.RT_TABLE_MAIN : tableValue('table', o.table),
    type: o.type === undefined ? RTN.RTN_UNICAST : ((TYPES as Record<string, number>)[o.type] ?? -1),
    protocol: o.protocol === undefined ? RTPROT.RTPROT_BOOT : integer('protocol', o.protocol, 0, 255),
  };
  if (out.type < 0)
    throw invalidArgument('type', `${JSON.stringify(o.type)} is not one of ${Object.keys(TYPES).join(', ')}`);
  if (via !== undefined) out.via = via;
  if (o.dev !== undefined) out.dev = linkRef('dev', o.dev);
  if (o.scope !== undefined) out.scope = scopeValue('scope', o.scope);
  if (o.metric !== undefined) out.metric = u32('metric', o.metric);
  if (o.src !== undefined) out.src = ipAddress('src', o.src, family);
  if (out.onlink && out.dev === undefined) throw invalidArgument('onlink', 'needs dev');
  return out;
}

/**
 * RTM_NEWROUTE / RTM_DELROUTE, as iproute2 builds them: rtmsg; RTA_DST, RTA_GATEWAY,
 * RTA_PRIORITY, RTA_PREFSRC, RTA_TABLE (ids ≥ 256), RTA_OIF.
 */
export function routeRequest(
  type: typeof RTM.RTM_NEWROUTE | typeof RTM.RTM_DELROUTE,
  v: ValidRoute,
  oif: number | undefined,
  flags = NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL,
): RtnlRequest {
  const add = type === RTM.RTM_NEWROUTE;
  // A route without a gateway is on-link: scope link, unless told otherwise. A delete matches any scope.
  const scope =
    v.scope ??
    (add
      ? v.via === undefined && v.type === RTN.RTN_UNICAST
        ? RT_SCOPE.RT_SCOPE_LINK
        : RT_SCOPE.RT_SCOPE_UNIVERSE
      : RT_SCOPE.RT_SCOPE_NOWHERE);
  const hdr = RTMSG.encode({
    family: afOf(v.family),
    dst_len: v.dst?.prefixLen ?? 0,
    table: v.table < 256 ? v.table : RT_TABLE.RT_TABLE_UNSPEC,
    protocol: add ? v.protocol : 0,
    scope,
    type: add ? v.type : 0,
    flags: v.onlink ? RTNH_F.RTNH_F_ONLINK : 0,
  });
  const w = new AttrWriter();
  if (v.dst !== undefined) w.ip(RTA.RTA_DST, v.dst.bytes);
  if (v.via !== undefined) w.ip(RTA.RTA_GATEWAY, v.via.bytes);
  if (v.metric !== undefined) w.u32(RTA.RTA_PRIORITY, v.metric);
  if (v.src !== undefined) w.ip(RTA.RTA_PREFSRC, v.src.bytes);
  if (v.table >= 256) w.u32(RTA.RTA_TABLE, v.table);
  if (oif !== undefined) w.u32(RTA.RTA_OIF, oif);
  const what = `${v.dst?.cidr ?? 'default'}${v.via === undefined ? '' : ` via ${v.via.address}`}${v.dev === undefined ? '' : ` dev ${describeLinkRef(v.dev)}`}`;
  return {
    type,
    flags: add ? flags : 0,
    payload: payload(hdr, w),
    describe: `route ${add ? (flags & NLM_F.NLM_F_REPLACE ? 'replace' : 'add') : 'del'} ${what}`,
  };
}

export function routeDumpRequest(family?: IpFamily): RtnlRequest {
  return { type: RTM.RTM_GETROUTE, flags: 0, payload: RTMSG.encode({ family: afOf(family) }), describe: 'route show' };
}

export class RouteVerbs {
  constructor(
    private readonly engine: NetlinkEngine,
    private readonly index: (dev: LinkRef) => Promise<number>,
  ) {}

  private async oif(v: ValidRoute): Promise<number | undefined> {
    return v.dev === undefined ? undefined : this.index(v.dev);
  }

  /** Equivalent to: ip route add DST [via GW] [dev DEV] [onlink] [scope S] [table T] [metric M] [src A] */
  async add(o: RouteOptions): Promise<void> {
    const v = validateRoute(o);
    await send(this.engine, routeRequest(RTM.RTM_NEWROUTE, v, await this.oif(v)));
  }

  /** Equivalent to: ip route replace DST [via GW] [dev DEV] [onlink] [scope S] [table T] [metric M] [src A] */
  async replace(o: RouteOptions): Promise<void> {
    const v = validateRoute(o);
    await send(
      this.engine,
      routeRequest(RTM.RTM_NEWROUTE, v, await this.oif(v), NLM_F.NLM_F_CREATE | NLM_F.NLM_F_REPLACE),
    );
  }

  /** Equivalent to: ip route del DST [via GW] [dev DEV] [table T] [metric M] */
  async del(o: RouteOptions): Promise<void> {
    const v = validateRoute(o);
    await send(this.engine, routeRequest(RTM.RTM_DELROUTE, v, await this.oif(v)));
  }

  /** Equivalent to: ip [-4|-6] route show [table T|all] [dev DEV] */
  async list(filter: RouteListFilter = {}): Promise<Route[]> {
    const table = filter.table === 'all' ? undefined : tableValue('table', filter.table ?? 'main');
    const oif = filter.dev === undefined ? undefined : await this.index(linkRef('dev', filter.dev));
    const replies = await dump(this.engine, routeDumpRequest(filter.family));
    return replies
      .filter((m) => m.type === RTM.RTM_NEWROUTE)
      .map(decodeRoute)
      .filter(
        (r) =>
          (table === undefined || (typeof r.table === 'number' ? r.table : TABLES[r.table]) === table) &&
          (oif === undefined || r.oif === oif),
      );
  }
}
