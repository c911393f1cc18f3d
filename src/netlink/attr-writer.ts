/**
 * The attribute writer tree: attributes are recorded, then laid out in one pass so that
 * every nla_len (including those of nests) and every 4-byte pad is computed, never patched.
 *
 *   const w = new AttrWriter().string(IFLA_IFNAME, 'h1')
 *     .nest(IFLA_LINKINFO, (li) => li.string(IFLA_INFO_KIND, 'veth'));
 *   const bytes = w.encode();
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { NLA_F, NLA_HDRLEN, align4 } from './constants.js';

type Part =
  | { readonly kind: 'attr'; readonly type: number; readonly data: Uint8Array }
  | { readonly kind: 'nest'; readonly type: number; readonly body: AttrWriter }
  | { readonly kind: 'raw'; readonly data: Uint8Array };

function encodingError(type: number, reason: string): NetplumbError {
  return new NetplumbError(ErrorCode.INTERNAL, `cannot encode netlink attribute ${type}: ${reason}`, {
    attrType: type,
  });
}

function checkInt(type: number, v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw encodingError(type, `${v} is not a ${what}`);
}

export interface NestOptions {
  /** Set NLA_F_NESTED in the nest's type (iproute2 leaves it clear for IFLA_LINKINFO). */
  nestedFlag?: boolean;
  /** Write nothing at all when `fill` writes no children. */
  omitIfEmpty?: boolean;
}

export class AttrWriter {
  private readonly parts: Part[] = [];

  private attr(type: number, data: Uint8Array): this {
    checkInt(type, type, 0, 0xffff, 'valid attribute type');
    if (NLA_HDRLEN + data.length > 0xffff) throw encodingError(type, `payload of ${data.length} bytes exceeds 65531`);
    this.parts.push({ kind: 'attr', type, data });
    return this;
  }

  u8(type: number, v: number): this {
    checkInt(type, v, 0, 0xff, 'u8');
    return this.attr(type, Uint8Array.of(v));
  }

  u16(type: number, v: number): this {
    checkInt(type, v, 0, 0xffff, 'u16');
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.attr(type, b);
  }

  u32(type: number, v: number): this {
    checkInt(type, v, 0, 0xffffffff, 'u32');
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return this.attr(type, b);
  }

  s32(type: number, v: number): this {
    checkInt(type, v, -0x80000000, 0x7fffffff, 's32');
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.attr(type, b);
  }

  u64(type: number, v: bigint | number): this {
    const big = BigInt(v);
    if (big < 0n || big > 0xffffffffffffffffn) throw encodingError(type, `${v} is not a u64`);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(big);
    return this.attr(type, b);
  }

  /** A 16-bit value in network byte order (ports, ethertypes). */
  be16(type: number, v: number): this {
    checkInt(type, v, 0, 0xffff, 'u16');
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.attr(type, b);
  }

  be32(type: number, v: number): this {
    checkInt(type, v, 0, 0xffffffff, 'u32');
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.attr(type, b);
  }

  /**
   * A string, NUL-terminated unless `terminate` is false (iproute2 sends IFLA_INFO_KIND
   * unterminated; the kernel's NLA_STRING accepts both).
   */
  string(type: number, v: string, terminate = true): this {
    if (v.includes('\0')) throw encodingError(type, 'string contains NUL');
    return this.attr(type, Buffer.from(terminate ? `${v}\0` : v, 'utf8'));
  }

  bytes(type: number, v: Uint8Array): this {
    return this.attr(type, v);
  }

  /** A zero-length attribute whose presence is the value (NLA_FLAG). */
  flag(type: number): this {
    return this.attr(type, new Uint8Array(0));
  }

  /** An IPv4 address (4 bytes, network order). */
  ipv4(type: number, v: Uint8Array): this {
    if (v.length !== 4) throw encodingError(type, `IPv4 address must be 4 bytes, got ${v.length}`);
    return this.attr(type, v);
  }

  /** An IPv6 address (16 bytes, network order). */
  ipv6(type: number, v: Uint8Array): this {
    if (v.length !== 16) throw encodingError(type, `IPv6 address must be 16 bytes, got ${v.length}`);
    return this.attr(type, v);
  }

  /** An address of either family: 4 or 16 bytes. */
  ip(type: number, v: Uint8Array): this {
    return v.length === 4 ? this.ipv4(type, v) : this.ipv6(type, v);
  }

  /** Raw bytes that are not an attribute (a struct that opens a nest, e.g. ifinfomsg in VETH_INFO_PEER), padded to 4. */
  raw(data: Uint8Array): this {
    this.parts.push({ kind: 'raw', data });
    return this;
  }

  /** A nested attribute; `fill` writes its children. */
  nest(type: number, fill: (w: AttrWriter) => void, options: NestOptions = {}): this {
    checkInt(type, type, 0, 0x3fff, 'valid nest type');
    const body = new AttrWriter();
    fill(body);
    if (options.omitIfEmpty === true && body.isEmpty) return this;
    if (NLA_HDRLEN + body.length > 0xffff) throw encodingError(type, `nest of ${body.length} bytes exceeds 65531`);
    this.parts.push({ kind: 'nest', type: options.nestedFlag ? type | NLA_F.NLA_F_NESTED : type, body });
    return this;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  /** Encoded size in bytes (every part padded to 4). */
  get length(): number {
    let n = 0;
    for (const p of this.parts) {
      n +=
        p.kind === 'nest'
          ? NLA_HDRLEN + p.body.length
          : p.kind === 'attr'
            ? align4(NLA_HDRLEN + p.data.length)
            : align4(p.data.length);
    }
    return n;
  }

  encode(): Buffer {
    const buf = Buffer.alloc(this.length);
    this.writeInto(buf, 0);
    return buf;
  }

  /** Lay the tree out into `buf` at `offset`; returns the offset after the last pad byte. */
  writeInto(buf: Buffer, offset: number): number {
    let off = offset;
    for (const p of this.parts) {
      if (p.kind === 'raw') {
        buf.set(p.data, off);
        off += align4(p.data.length);
      } else if (p.kind === 'attr') {
        buf.writeUInt16LE(NLA_HDRLEN + p.data.length, off);
        buf.writeUInt16LE(p.type, off + 2);
        buf.set(p.data, off + NLA_HDRLEN);
        off += align4(NLA_HDRLEN + p.data.length);
      } else {
        buf.writeUInt16LE(NLA_HDRLEN + p.body.length, off);
        buf.writeUInt16LE(p.type, off + 2);
        off = p.body.writeInto(buf, off + NLA_HDRLEN);
      }
    }
    return off;
  }
}
