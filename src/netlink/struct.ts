/**
 * Fixed C structs that open netlink messages (ifinfomsg, ifaddrmsg, rtmsg, fib_rule_hdr),
 * declared as field lists: one declaration gives both the encoder and the decoder.
 *
 *   const IFADDRMSG = struct('ifaddrmsg', [['family', 'u8'], ['prefixlen', 'u8'], …]);
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { guardParse, parseError } from './parse-error.js';

type FieldType = 'u8' | 'u16' | 's32' | 'u32' | 'pad8' | 'pad16';
type Field = readonly [name: string, type: FieldType];

const SIZE: Record<FieldType, number> = { u8: 1, u16: 2, s32: 4, u32: 4, pad8: 1, pad16: 2 };
const RANGE: Record<FieldType, readonly [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  s32: [-0x80000000, 0x7fffffff],
  u32: [0, 0xffffffff],
  pad8: [0, 0],
  pad16: [0, 0],
};

type Named<F extends readonly Field[]> = {
  [I in keyof F]: F[I] extends readonly [infer N, infer T] ? (T extends 'pad8' | 'pad16' ? never : N) : never;
}[number];

export type StructValue<F extends readonly Field[]> = { [K in Named<F> & string]: number };

export interface StructCodec<F extends readonly Field[]> {
  readonly name: string;
  readonly size: number;
  /** Encode; fields left out are 0. */
  encode(v: Partial<StructValue<F>>): Buffer;
  /** Decode the struct at the start of `buf` (which may continue with attributes). */
  decode(buf: Buffer): StructValue<F>;
}

export function struct<const F extends readonly Field[]>(name: string, fields: F): StructCodec<F> {
  const size = fields.reduce((n, [, t]) => n + SIZE[t], 0);
  return {
    name,
    size,
    encode(v) {
      const buf = Buffer.alloc(size);
      let off = 0;
      for (const [field, type] of fields) {
        const x = (v as Record<string, number | undefined>)[field] ?? 0;
        const [min, max] = RANGE[type];
        if (!Number.isInteger(x) || x < min || x > max) {
          throw new NetplumbError(ErrorCode.INTERNAL, `cannot encode ${name}.${field}: ${x} is not a ${type}`, {
            field,
          });
        }
        if (type === 'u8') buf.writeUInt8(x, off);
        else if (type === 'u16') buf.writeUInt16LE(x, off);
        else if (type === 's32') buf.writeInt32LE(x, off);
        else if (type === 'u32') buf.writeUInt32LE(x, off);
        off += SIZE[type];
      }
      return buf;
    },
    decode(buf) {
      return guardParse(name, () => {
        if (buf.length < size) throw parseError(name, `truncated: ${buf.length} of ${size} bytes`);
        const out: Record<string, number> = {};
        let off = 0;
        for (const [field, type] of fields) {
          if (type === 'u8') out[field] = buf.readUInt8(off);
          else if (type === 'u16') out[field] = buf.readUInt16LE(off);
          else if (type === 's32') out[field] = buf.readInt32LE(off);
          else if (type === 'u32') out[field] = buf.readUInt32LE(off);
          off += SIZE[type];
        }
        return out as StructValue<F>;
      });
    },
  };
}
