/** Address verbs (`ip addr …`) and RTM_NEWADDR decoding. */
import { invalidArgument } from '../errors.js';
import { AttrWriter } from '../netlink/attr-writer.js';
import { attr, attrTable, dec, parseAttrs, type RawAttr } from '../netlink/attr-reader.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NetlinkMessage } from '../netlink/header.js';
import { NLM_F } from '../netlink/constants.js';
import { RTM } from '../netlink/message-types.js';
import { guardParse, parseError } from '../netlink/parse-error.js';
import { ipPrefix, ipv4Broadcast, ifName, type IpFamily, type IpPrefix } from '../validate.js';
import { IFA, IFA_F } from './constants/if-addr.js';
import { afOf, familyOf } from './family.js';
import { describeLinkRef, linkRef, type LinkRef } from './link-ref.js';
import { dump, payload, send, type RtnlRequest } from './request.js';
import { scopeName, scopeValue, type Scope, type ScopeName } from './scope.js';
import { IFADDRMSG } from './structs.js';

export interface AddressOptions {
  dev: LinkRef;
  /** `10.0.0.2/24`, `fd00::2/64` */
  address: string;
  /** IPv6: skip duplicate address detection (IFA_F_NODAD). */
  nodad?: boolean;
  /** IPv6: do not add the prefix route (IFA_F_NOPREFIXROUTE). */
  noprefixroute?: boolean;
  /** IPv4: set the broadcast address computed from the prefix, as `brd +` (default true). */
  broadcast?: boolean;
  /** IPv4 label (`eth0:1`). */
  label?: string;
  scope?: Scope;
}

export interface AddressListFilter {
  dev?: LinkRef;
  family?: IpFamily;
}

export interface Address {
  family: IpFamily;
  /** ifindex */
  index: number;
  address: string;
  prefixLen: number;
  /** `address/prefixLen` */
  cidr: string;
  /** IFA_ADDRESS when it differs from the local address (point-to-point peer). */
  peer?: string;
  broadcast?: string;
  label?: string;
  scope: ScopeName | number;
  /** IFA_F_* (IFA_FLAGS when present, else ifa_flags) */
  flags: number;
  nodad: boolean;
  permanent: boolean;
  tentative: boolean;
  /** Seconds; 0xffffffff = forever. */
  validLft?: number;
  preferredLft?: number;
  unknownAttrs: RawAttr[];
}

const CACHEINFO = dec.struct('ifa_cacheinfo', 16, (d) => ({ preferred: d.readUInt32LE(0), valid: d.readUInt32LE(4) }));

const ADDR_TABLE = attrTable('IFA', {
  [IFA.IFA_ADDRESS]: attr('address', dec.ip),
  [IFA.IFA_LOCAL]: attr('local', dec.ip),
  [IFA.IFA_LABEL]: attr('label', dec.string),
  [IFA.IFA_BROADCAST]: attr('broadcast', dec.ipv4),
  [IFA.IFA_CACHEINFO]: attr('cacheinfo', CACHEINFO),
  [IFA.IFA_FLAGS]: attr('flags', dec.u32),
});

export function decodeAddress(msg: NetlinkMessage): Address {
  return guardParse('RTM_NEWADDR', () => {
    if (msg.type !== RTM.RTM_NEWADDR) throw parseError('RTM_NEWADDR', `unexpected message type ${msg.type}`);
    const h = IFADDRMSG.decode(msg.payload);
    const family = familyOf(h.family, 'ifaddrmsg');
    const a = parseAttrs(msg.payload.subarray(IFADDRMSG.size), ADDR_TABLE);
    const local = a.local ?? a.address;
    if (local === undefined) throw parseError('RTM_NEWADDR', 'no IFA_LOCAL or IFA_ADDRESS');
    const flags = a.flags ?? h.flags;
    const out: Address = {
      family,
      index: h.index,
      address: local,
      prefixLen: h.prefixlen,
      cidr: `${local}/${h.prefixlen}`,
      scope: scopeName(h.scope),
      flags,
      nodad: (flags & IFA_F.IFA_F_NODAD) !== 0,
      permanent: (flags & IFA_F.IFA_F_PERMANENT) !== 0,
      tentative: (flags & IFA_F.IFA_F_TENTATIVE) !== 0,
      unknownAttrs: a.unknown,
    };
    if (a.address !== undefined && a.local !== undefined && a.address !== a.local) out.peer = a.address;
    if (a.broadcast !== undefined) out.broadcast = a.broadcast;
    if (a.label !== undefined) out.label = a.label;
    if (a.cacheinfo !== undefined) {
      out.validLft = a.cacheinfo.valid;
      out.preferredLft = a.cacheinfo.preferred;
    }
    return out;
  });
}

interface ValidAddress {
  dev: LinkRef;
  prefix: IpPrefix;
  flags: number;
  broadcast: boolean;
  label?: string;
  scope: number;
}

export function validateAddress(o: AddressOptions): ValidAddress {
  const dev = linkRef('dev', o.dev);
  const prefix = ipPrefix('address', o.address);
  let flags = 0;
  if (o.nodad === true) {
    if (prefix.family !== 6) throw invalidArgument('nodad', 'applies to IPv6 addresses only');
    flags |= IFA_F.IFA_F_NODAD;
  }
  if (o.noprefixroute === true) flags |= IFA_F.IFA_F_NOPREFIXROUTE;
  const out: ValidAddress = {
    dev,
    prefix,
    flags,
    broadcast: prefix.family === 4 && o.broadcast !== false,
    scope: o.scope === undefined ? 0 : scopeValue('scope', o.scope),
  };
  if (o.label !== undefined) {
    if (prefix.family !== 4) throw invalidArgument('label', 'applies to IPv4 addresses only');
    out.label = ifName('label', o.label);
  }
  return out;
}

/**
 * RTM_NEWADDR / RTM_DELADDR: ifaddrmsg, IFA_LOCAL, IFA_ADDRESS, [IFA_BROADCAST], [IFA_LABEL], [IFA_FLAGS].
 * Flags go in IFA_FLAGS (u32, which the kernel prefers) and, when they fit, in ifa_flags too.
 */
export function addressRequest(
  type: typeof RTM.RTM_NEWADDR | typeof RTM.RTM_DELADDR,
  v: ValidAddress,
  index: number,
): RtnlRequest {
  const p = v.prefix;
  const w = new AttrWriter().ip(IFA.IFA_LOCAL, p.bytes).ip(IFA.IFA_ADDRESS, p.bytes);
  const add = type === RTM.RTM_NEWADDR;
  // `brd +` on /31 and /32 has no broadcast address (RFC 3021), as in iproute2.
  if (add && v.broadcast && p.prefixLen <= 30) w.ipv4(IFA.IFA_BROADCAST, ipv4Broadcast(p));
  if (v.label !== undefined) w.string(IFA.IFA_LABEL, v.label);
  if (add && v.flags !== 0) w.u32(IFA.IFA_FLAGS, v.flags);
  const hdr = IFADDRMSG.encode({
    family: afOf(p.family),
    prefixlen: p.prefixLen,
    flags: add ? v.flags & 0xff : 0,
    scope: v.scope,
    index,
  });
  return {
    type,
    flags: add ? NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL : 0,
    payload: payload(hdr, w),
    describe: `addr ${add ? 'add' : 'del'} ${p.cidr} dev ${describeLinkRef(v.dev)}`,
  };
}

export function addressDumpRequest(family?: IpFamily): RtnlRequest {
  return {
    type: RTM.RTM_GETADDR,
    flags: 0,
    payload: IFADDRMSG.encode({ family: afOf(family) }),
    describe: 'addr show',
  };
}

export class AddressVerbs {
  constructor(
    private readonly engine: NetlinkEngine,
    private readonly index: (dev: LinkRef) => Promise<number>,
  ) {}

  /** Equivalent to: ip addr add ADDRESS/LEN [brd +] dev DEV [nodad] [noprefixroute] [label L] [scope S] */
  async add(o: AddressOptions): Promise<void> {
    const v = validateAddress(o);
    await send(this.engine, addressRequest(RTM.RTM_NEWADDR, v, await this.index(v.dev)));
  }

  /** Equivalent to: ip addr del ADDRESS/LEN dev DEV */
  async del(o: AddressOptions): Promise<void> {
    const v = validateAddress(o);
    await send(this.engine, addressRequest(RTM.RTM_DELADDR, v, await this.index(v.dev)));
  }

  /** Equivalent to: ip [-4|-6] addr show [dev DEV] */
  async list(filter: AddressListFilter = {}): Promise<Address[]> {
    const index = filter.dev === undefined ? undefined : await this.index(linkRef('dev', filter.dev));
    const replies = await dump(this.engine, addressDumpRequest(filter.family));
    return replies
      .filter((m) => m.type === RTM.RTM_NEWADDR)
      .map(decodeAddress)
      .filter(
        (a) =>
          (index === undefined || a.index === index) && (filter.family === undefined || a.family === filter.family),
      );
  }
}
