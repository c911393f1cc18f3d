/**
 * Input validators shared by the rtnl verbs, the plumbing engine and the CLI.
 *
 * Each takes the field name it is validating (for the error) and an `unknown` value, and
 * returns the value normalised, or throws `invalidArgument(field, reason)`. They run before
 * anything is sent to the kernel.
 *
 * What they return is branded (`IfName`, `VlanId`, `Mtu`, `Mac`, `Cidr`): a plain string or
 * number is not one, so a function that takes an `IfName` takes only a name that went
 * through `ifName` — code below a parser states in its types that it needs no check.
 */
import { invalidArgument } from './errors.js';
import { formatIpv4, formatIpv6 } from './netlink/inet.js';

declare const BRAND: unique symbol;
/** `T` that went through the validator of `B`: only this module makes one. */
export type Brand<T, B extends string> = T & { readonly [BRAND]: B };
/** An interface name the kernel accepts and no shell reads as syntax (see `ifName`). */
export type IfName = Brand<string, 'IfName'>;
/** An 802.1Q VLAN id, 1..4094. */
export type VlanId = Brand<number, 'VlanId'>;
/** An MTU, 68..65535. */
export type Mtu = Brand<number, 'Mtu'>;
/** A unicast Ethernet address, lowercase colon hex. */
export type Mac = Brand<string, 'Mac'>;
/** `address/prefixLen` in canonical text (dotted quad; RFC 5952 for IPv6). */
export type Cidr = Brand<string, 'Cidr'>;

/** IFNAMSIZ - 1: the kernel's limit on an interface name, in bytes. */
export const IFNAME_MAX_BYTES = 15;
/** IFALIASZ - 1 */
export const IFALIAS_MAX_BYTES = 255;
export const MTU_MIN = 68;
export const MTU_MAX = 65535;
export const VLAN_ID_MIN = 1;
export const VLAN_ID_MAX = 4094;

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null || v === undefined)
    return String(v);
  return typeof v;
}

/**
 * An integer in [min, max]: a JS integer, or a string of plain decimal digits without
 * leading zeros (what a CLI gives). Rejects 1.5, "10abc", "0x10", "", " 1", null.
 */
export function integer(field: string, v: unknown, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw invalidArgument(field, `${describeValue(v)} is not an integer`);
    n = v;
  } else if (typeof v === 'string') {
    if (!/^(0|-?[1-9][0-9]{0,15})$/.test(v))
      throw invalidArgument(field, `${describeValue(v)} is not a decimal integer`);
    n = Number(v);
  } else {
    throw invalidArgument(field, `${describeValue(v)} is not an integer`);
  }
  if (n < min || n > max) throw invalidArgument(field, `${n} is out of range ${min}..${max}`);
  return n;
}

export function u32(field: string, v: unknown): number {
  return integer(field, v, 0, 0xffffffff);
}

/**
 * An interface name: 1..15 bytes of printable ASCII, not `.` or `..`, without `/`, `:`,
 * whitespace or `%`. The kernel's dev_valid_name() forbids `/`, `:`, whitespace and the
 * dot names; we also refuse NUL and control characters (the kernel would truncate or store
 * them), non-ASCII (byte-length surprises), `%` (the kernel treats `eth%d` as a template
 * and picks a name itself) and shell syntax (`$`, backquote, `;`, `|`, quotes, globs…), so
 * that no name can mean anything else if it ever reaches a command line.
 */
/** Characters a shell gives a meaning to: never part of a name we accept (faults H5). */
const SHELL_SPECIAL = '$`;|&<>()\\\'"*?[]{}!#';

export function ifName(field: string, v: unknown): IfName {
  if (typeof v !== 'string') throw invalidArgument(field, `${describeValue(v)} is not a string`);
  if (v.length === 0) throw invalidArgument(field, 'is empty');
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > IFNAME_MAX_BYTES)
    throw invalidArgument(field, `${describeValue(v)} exceeds ${IFNAME_MAX_BYTES} bytes (${bytes})`);
  if (v === '.' || v === '..') throw invalidArgument(field, `${describeValue(v)} is not a valid interface name`);
  for (const ch of v) {
    const c = ch.codePointAt(0) ?? 0;
    if (c === 0) throw invalidArgument(field, `${describeValue(v)} contains NUL`);
    if (/\s/u.test(ch)) throw invalidArgument(field, `${describeValue(v)} contains whitespace`);
    if (c < 0x20 || c === 0x7f) throw invalidArgument(field, `${describeValue(v)} contains a control character`);
    if (c > 0x7e) throw invalidArgument(field, `${describeValue(v)} contains a non-ASCII character`);
    if (ch === '/' || ch === ':' || ch === '%' || SHELL_SPECIAL.includes(ch))
      throw invalidArgument(field, `${describeValue(v)} contains "${ch}"`);
  }
  return v as IfName;
}

/**
 * A unicast Ethernet MAC address: six 2-digit hex octets separated by `:` or `-` (one kind),
 * not multicast/broadcast (bit 0 of the first octet) and not all-zero. Returns the
 * lowercase colon form.
 */
export function macAddress(field: string, v: unknown): Mac {
  if (typeof v !== 'string') throw invalidArgument(field, `${describeValue(v)} is not a string`);
  const m =
    /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(
      v,
    );
  if (m === null)
    throw invalidArgument(
      field,
      `${describeValue(v)} is not a MAC address (expected six hex octets like 02:42:ac:11:00:02)`,
    );
  const octets = [m[1], m[3], m[4], m[5], m[6], m[7]].map((o) => parseInt(o ?? '', 16));
  if (((octets[0] ?? 0) & 1) === 1)
    throw invalidArgument(field, `${describeValue(v)} is a multicast or broadcast address`);
  if (octets.every((o) => o === 0)) throw invalidArgument(field, `${describeValue(v)} is the all-zero address`);
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':') as Mac;
}

/** The 6 bytes of a MAC address already normalised by `macAddress`. */
export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(/[:-]/).map((o) => parseInt(o, 16)));
}

/** An MTU for an IPv4-capable link: 68..65535. (IPv6 needs ≥ 1280: the caller's matter.) */
export function mtu(field: string, v: unknown): Mtu {
  return integer(field, v, MTU_MIN, MTU_MAX) as Mtu;
}

/** An 802.1Q VLAN id: 1..4094 (0 means "priority tag only", 4095 is reserved). */
export function vlanId(field: string, v: unknown): VlanId {
  return integer(field, v, VLAN_ID_MIN, VLAN_ID_MAX) as VlanId;
}

/** An interface alias (IFLA_IFALIAS): up to 255 bytes, no NUL. */
export function ifAlias(field: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidArgument(field, `${describeValue(v)} is not a string`);
  if (v.includes('\0')) throw invalidArgument(field, 'contains NUL');
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > IFALIAS_MAX_BYTES) throw invalidArgument(field, `exceeds ${IFALIAS_MAX_BYTES} bytes (${bytes})`);
  return v;
}

/** A file descriptor (e.g. a namespace fd): a non-negative integer. */
export function fd(field: string, v: unknown): number {
  return integer(field, v, 0, 0x7fffffff);
}

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** Canonical text (dotted quad; RFC 5952 for IPv6). */
  address: string;
  bytes: Buffer;
}

export interface IpPrefix extends IpAddress {
  prefixLen: number;
  /** `address/prefixLen` in canonical text. */
  cidr: Cidr;
}

function parseIpv4(field: string, s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) {
      if (/^0[0-9]+$/.test(p))
        throw invalidArgument(
          field,
          `${JSON.stringify(s)} has an octet with a leading zero (${p}): ambiguous (octal in some tools)`,
        );
      return undefined;
    }
    const n = Number(p);
    if (n > 255) throw invalidArgument(field, `${JSON.stringify(s)} has an octet above 255`);
    out[i] = n;
  }
  return out;
}

function parseIpv6(field: string, s: string): Buffer | undefined {
  if (s.includes('%'))
    throw invalidArgument(field, `${JSON.stringify(s)} has a zone id (%…): give the address and the device separately`);
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(field, p);
        if (v4 === undefined) return undefined;
        out.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  // An embedded dotted quad may only end the address.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  return out;
}

function isV4Mapped(b: Buffer): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** An IP address (no prefix), of `family` when given. Rejects zone ids and IPv4-mapped IPv6. */
export function ipAddress(field: string, v: unknown, family?: IpFamily): IpAddress {
  if (typeof v !== 'string') throw invalidArgument(field, `${describeValue(v)} is not a string`);
  if (v.includes('/')) throw invalidArgument(field, `${JSON.stringify(v)} has a prefix length; expected an address`);
  const v4 = v.includes(':') ? undefined : parseIpv4(field, v);
  if (v4 !== undefined) {
    if (family === 6) throw invalidArgument(field, `${JSON.stringify(v)} is IPv4; expected IPv6`);
    return { family: 4, address: formatIpv4(v4), bytes: v4 };
  }
  const v6 = v.includes(':') || v.includes('%') ? parseIpv6(field, v) : undefined;
  if (v6 === undefined) throw invalidArgument(field, `${JSON.stringify(v)} is not an IP address`);
  if (isV4Mapped(v6))
    throw invalidArgument(
      field,
      `${JSON.stringify(v)} is an IPv4-mapped IPv6 address; give the IPv4 address ${formatIpv4(v6.subarray(12))}`,
    );
  if (family === 4) throw invalidArgument(field, `${JSON.stringify(v)} is IPv6; expected IPv4`);
  return { family: 6, address: formatIpv6(v6), bytes: v6 };
}

export interface PrefixOptions {
  family?: IpFamily;
  /** Reject host bits below the prefix (route destinations, rule selectors). */
  network?: boolean;
}

function hostBitsSet(b: Buffer, prefixLen: number): boolean {
  for (let bit = prefixLen; bit < b.length * 8; bit++) {
    if (((b[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

/** `address/len`: v4 with len 0..32, v6 with len 0..128. The length is required. */
export function ipPrefix(field: string, v: unknown, options: PrefixOptions = {}): IpPrefix {
  if (typeof v !== 'string') throw invalidArgument(field, `${describeValue(v)} is not a string`);
  const slash = v.indexOf('/');
  if (slash < 0) {
    const guess = v.includes(':') ? `${v}/64` : `${v}/24`;
    throw invalidArgument(field, `${JSON.stringify(v)} has no prefix length (maybe you meant ${guess}?)`);
  }
  const addr = ipAddress(field, v.slice(0, slash), options.family);
  const lenText = v.slice(slash + 1);
  const max = addr.family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText))
    throw invalidArgument(
      field,
      `${JSON.stringify(v)}: prefix length ${JSON.stringify(lenText)} is not a number 0..${max}`,
    );
  const prefixLen = Number(lenText);
  if (prefixLen > max) throw invalidArgument(field, `${JSON.stringify(v)}: prefix length ${prefixLen} exceeds ${max}`);
  if (options.network === true && hostBitsSet(addr.bytes, prefixLen))
    throw invalidArgument(field, `${JSON.stringify(v)} has host bits set below /${prefixLen}`);
  return { ...addr, prefixLen, cidr: `${addr.address}/${prefixLen}` as Cidr };
}

/** Is `g` inside the subnet of `p` (same family, the first prefixLen bits equal)? */
export function inPrefix(p: IpPrefix, g: IpAddress): boolean {
  if (p.family !== g.family) return false;
  for (let bit = 0; bit < p.prefixLen; bit++) {
    const m = 7 - (bit & 7);
    if ((((p.bytes[bit >> 3] ?? 0) >> m) & 1) !== (((g.bytes[bit >> 3] ?? 0) >> m) & 1)) return false;
  }
  return true;
}

/** The host prefix of an address: `/32`, or `/128` for IPv6. */
export function hostPrefix(a: IpAddress): IpPrefix {
  const prefixLen = a.family === 4 ? 32 : 128;
  return { ...a, prefixLen, cidr: `${a.address}/${prefixLen}` as Cidr };
}

/** A gateway for `address`: same family, and not the address itself. */
export function gateway(field: string, v: unknown, address?: IpAddress): IpAddress {
  const gw = ipAddress(field, v, address?.family);
  if (address !== undefined && gw.bytes.equals(address.bytes))
    throw invalidArgument(field, `${gw.address} is the interface's own address`);
  return gw;
}

/** The IPv4 broadcast address of a prefix (what `ip addr add … brd +` computes). */
export function ipv4Broadcast(p: IpPrefix): Buffer {
  const host = p.prefixLen === 32 ? 0 : 0xffffffff >>> p.prefixLen;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((p.bytes.readUInt32BE(0) | host) >>> 0);
  return b;
}
