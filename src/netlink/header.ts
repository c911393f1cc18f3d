/**
 * struct nlmsghdr: encode one message, split a datagram into messages.
 *
 *   u32 nlmsg_len | u16 nlmsg_type | u16 nlmsg_flags | u32 nlmsg_seq | u32 nlmsg_pid | payload…
 */
import { NLMSG_HDRLEN, align4 } from './constants.js';
import { guardParse, parseError } from './parse-error.js';

export interface NlMsgHdr {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** One decoded message: its header fields and its payload (a view into the datagram). */
export interface NetlinkMessage extends NlMsgHdr {
  payload: Buffer;
}

/** Encode one message: the header (with nlmsg_len computed) followed by the payload parts. */
export function encodeMessage(hdr: NlMsgHdr, ...payload: Uint8Array[]): Buffer {
  const bodyLen = payload.reduce((n, p) => n + p.length, 0);
  const len = NLMSG_HDRLEN + bodyLen;
  if (len > 0xffffffff) throw parseError('message', `too long (${len} bytes)`);
  const buf = Buffer.alloc(align4(len));
  buf.writeUInt32LE(len, 0);
  buf.writeUInt16LE(hdr.type, 4);
  buf.writeUInt16LE(hdr.flags, 6);
  buf.writeUInt32LE(hdr.seq >>> 0, 8);
  buf.writeUInt32LE(hdr.pid >>> 0, 12);
  let off = NLMSG_HDRLEN;
  for (const p of payload) {
    buf.set(p, off);
    off += p.length;
  }
  return buf;
}

/** Read only the header at `offset` (no payload check). */
export function decodeHeader(buf: Uint8Array, offset = 0): NlMsgHdr & { len: number } {
  return guardParse('nlmsghdr', () => {
    if (offset + NLMSG_HDRLEN > buf.length)
      throw parseError('nlmsghdr', `truncated: ${buf.length - offset} of ${NLMSG_HDRLEN} bytes`);
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    return {
      len: b.readUInt32LE(offset),
      type: b.readUInt16LE(offset + 4),
      flags: b.readUInt16LE(offset + 6),
      seq: b.readUInt32LE(offset + 8),
      pid: b.readUInt32LE(offset + 12),
    };
  });
}

/**
 * Split one datagram into its messages. A message whose nlmsg_len is shorter than a header
 * or runs past the datagram makes the whole datagram a parse error.
 */
export function decodeMessages(datagram: Uint8Array): NetlinkMessage[] {
  return guardParse('datagram', () => {
    const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    const out: NetlinkMessage[] = [];
    let off = 0;
    while (off < buf.length) {
      const h = decodeHeader(buf, off);
      if (h.len < NLMSG_HDRLEN)
        throw parseError('nlmsghdr', `nlmsg_len ${h.len} is shorter than the header`, { offset: off });
      if (off + h.len > buf.length)
        throw parseError('nlmsghdr', `nlmsg_len ${h.len} runs past the datagram (${buf.length - off} bytes left)`, {
          offset: off,
        });
      out.push({
        type: h.type,
        flags: h.flags,
        seq: h.seq,
        pid: h.pid,
        payload: buf.subarray(off + NLMSG_HDRLEN, off + h.len),
      });
      off += align4(h.len);
    }
    return out;
  });
}
