/**
 * Attribute parsing by declarative tables: one table per attribute set maps an attribute
 * type to a name and a decoder (possibly a nested table). Attributes a table does not know
 * are kept, as raw bytes by number, in `unknown`. Any malformed input is a typed parse error.
 *
 *   const LINKINFO = attrTable('IFLA_INFO', {
 *     [IFLA_INFO_KIND]: attr('kind', dec.string),
 *     [IFLA_INFO_DATA]: attr('data', dec.bytes),
 *   });
 *   const { kind, data, unknown } = parseAttrs(buf, LINKINFO);
 */
import { NLA_F, NLA_HDRLEN, align4 } from './constants.js';
import { formatHwAddr, formatIpv4, formatIpv6 } from './inet.js';
import { asParseError, guardParse, parseError } from './parse-error.js';

/** One attribute as found on the wire. `data` is a copy, independent of the datagram. */
export interface RawAttr {
  type: number;
  /** NLA_F_NESTED was set. */
  nested: boolean;
  data: Buffer;
}

export type Decoder<T> = (data: Buffer) => T;

export interface AttrSpec<N extends string = string, T = unknown, M extends boolean = boolean> {
  readonly name: N;
  readonly decode: Decoder<T>;
  /** The attribute may repeat; its values are collected in an array. */
  readonly multi: M;
}

export type AttrSpecs = { readonly [type: number]: AttrSpec };

export interface AttrTable<S extends AttrSpecs = AttrSpecs> {
  /** The set's name for error messages (`IFLA`, `IFLA_INFO`). */
  readonly name: string;
  readonly specs: S;
}

type ValueOf<P> =
  P extends AttrSpec<string, infer V, true> ? V[] : P extends AttrSpec<string, infer V, false> ? V : never;

/** What `parseAttrs` returns for a table: each known attribute under its name, plus the unknown ones. */
export type ParsedAttrs<S extends AttrSpecs> = {
  -readonly [K in keyof S as S[K] extends AttrSpec<infer N> ? N : never]?: ValueOf<S[K]>;
} & { unknown: RawAttr[] };

/** A single-valued attribute. */
export function attr<N extends string, T>(name: N, decode: Decoder<T>): AttrSpec<N, T, false> {
  return { name, decode, multi: false };
}

/** A repeated attribute (values collected in wire order). */
export function multiAttr<N extends string, T>(name: N, decode: Decoder<T>): AttrSpec<N, T, true> {
  return { name, decode, multi: true };
}

export function attrTable<const S extends AttrSpecs>(name: string, specs: S): AttrTable<S> {
  for (const spec of Object.values(specs)) {
    if (spec.name === 'unknown') throw new Error(`attribute table ${name}: the name "unknown" is reserved`);
  }
  return { name, specs };
}

/** Split an attribute stream. Every attribute must fit; trailing bytes shorter than a header are an error. */
export function splitAttrs(buf: Buffer, what = 'attributes'): RawAttr[] {
  return guardParse(what, () => {
    const out: RawAttr[] = [];
    let off = 0;
    while (off < buf.length) {
      if (off + NLA_HDRLEN > buf.length)
        throw parseError(what, `${buf.length - off} trailing bytes, shorter than an attribute header`, { offset: off });
      const len = buf.readUInt16LE(off);
      const rawType = buf.readUInt16LE(off + 2);
      if (len < NLA_HDRLEN)
        throw parseError(what, `nla_len ${len} is shorter than the header`, {
          offset: off,
          attrType: rawType & NLA_F.NLA_TYPE_MASK,
        });
      if (off + len > buf.length)
        throw parseError(
          what,
          `attribute ${rawType & NLA_F.NLA_TYPE_MASK}: nla_len ${len} runs past the end (${buf.length - off} bytes left)`,
          { offset: off, attrType: rawType & NLA_F.NLA_TYPE_MASK },
        );
      out.push({
        type: rawType & NLA_F.NLA_TYPE_MASK,
        nested: (rawType & NLA_F.NLA_F_NESTED) !== 0,
        data: buf.subarray(off + NLA_HDRLEN, off + len),
      });
      off += align4(len);
    }
    return out;
  });
}

/** Parse an attribute stream with a table. */
export function parseAttrs<S extends AttrSpecs>(buf: Buffer, table: AttrTable<S>): ParsedAttrs<S> {
  const attrs = splitAttrs(buf, `${table.name} attributes`);
  const out: Record<string, unknown> = {};
  const unknown: RawAttr[] = [];
  for (const a of attrs) {
    const spec: AttrSpec | undefined = Object.hasOwn(table.specs, a.type) ? table.specs[a.type] : undefined;
    if (spec === undefined) {
      unknown.push(a);
      continue;
    }
    const value = decodeAttr(table, spec, a);
    if (spec.multi) {
      const list = (out[spec.name] as unknown[] | undefined) ?? [];
      list.push(value);
      out[spec.name] = list;
    } else {
      out[spec.name] = value;
    }
  }
  out.unknown = unknown;
  return out as ParsedAttrs<S>;
}

function decodeAttr(table: AttrTable, spec: AttrSpec, a: RawAttr): unknown {
  try {
    return spec.decode(a.data);
  } catch (e) {
    // Name the attribute (and keep the innermost reason) so a nested failure says where it was.
    // The name is built only here: decoding is on every reply's path, failing is not.
    const what = `${table.name} attribute ${spec.name} (${a.type})`;
    throw parseError(what, asParseError(what, e).message.replace(/^malformed netlink /, ''), { attrType: a.type });
  }
}

function exact(n: number, kind: string): (data: Buffer) => void {
  return (data) => {
    if (data.length !== n) throw parseError(kind, `expected ${n} bytes, got ${data.length}`);
  };
}
const len1 = exact(1, 'u8');
const len2 = exact(2, 'u16');
const len4 = exact(4, 'u32');
const len8 = exact(8, 'u64');

/** Stateless between calls (no `stream` option): one serves every string attribute. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decoders for the common attribute payloads. Scalars must have their exact size. */
export const dec = {
  u8: (d: Buffer): number => {
    len1(d);
    return d.readUInt8(0);
  },
  u16: (d: Buffer): number => {
    len2(d);
    return d.readUInt16LE(0);
  },
  u32: (d: Buffer): number => {
    len4(d);
    return d.readUInt32LE(0);
  },
  s32: (d: Buffer): number => {
    len4(d);
    return d.readInt32LE(0);
  },
  u64: (d: Buffer): bigint => {
    len8(d);
    return d.readBigUInt64LE(0);
  },
  be16: (d: Buffer): number => {
    len2(d);
    return d.readUInt16BE(0);
  },
  be32: (d: Buffer): number => {
    len4(d);
    return d.readUInt32BE(0);
  },
  /** A u8 used as a boolean. */
  bool8: (d: Buffer): boolean => {
    len1(d);
    return d.readUInt8(0) !== 0;
  },
  /** Up to the first NUL (or the whole payload when unterminated). Must be valid UTF-8. */
  string: (d: Buffer): string => {
    const nul = d.indexOf(0);
    return UTF8.decode(nul < 0 ? d : d.subarray(0, nul));
  },
  bytes: (d: Buffer): Buffer => d,
  flag: (d: Buffer): true => {
    if (d.length !== 0) throw parseError('flag', `expected 0 bytes, got ${d.length}`);
    return true;
  },
  ipv4: (d: Buffer): string => {
    len4(d);
    return formatIpv4(d);
  },
  ipv6: (d: Buffer): string => {
    if (d.length !== 16) throw parseError('IPv6 address', `expected 16 bytes, got ${d.length}`);
    return formatIpv6(d);
  },
  /** 4 or 16 bytes. */
  ip: (d: Buffer): string => {
    if (d.length === 4) return formatIpv4(d);
    if (d.length === 16) return formatIpv6(d);
    throw parseError('IP address', `expected 4 or 16 bytes, got ${d.length}`);
  },
  /** A link-layer address (any length; 6 for Ethernet). */
  hwaddr: (d: Buffer): string => formatHwAddr(d),
  nested:
    <S extends AttrSpecs>(table: AttrTable<S>): Decoder<ParsedAttrs<S>> =>
    (d) =>
      parseAttrs(d, table),
  /** A fixed C struct of at least `size` bytes (kernels may append fields). */
  struct:
    <T>(what: string, size: number, read: (d: Buffer) => T): Decoder<T> =>
    (d) => {
      if (d.length < size) throw parseError(what, `expected at least ${size} bytes, got ${d.length}`);
      return read(d);
    },
} as const;
