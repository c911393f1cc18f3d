/**
 * ICMP and ICMPv6 echo messages (RFC 792, RFC 4443), encoded and decoded over Buffers:
 * what `ping` puts on the wire, without a `ping` process.
 *
 * A probe carries a 16-bit identifier (one per check run), a 16-bit sequence number (the
 * probe's index) and an 8-byte token, so that a reply is matched to its probe even when
 * other traffic arrives on the same raw socket.
 */
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

const HEADER = 8;
export const TOKEN_BYTES = 8;

export interface Echo {
  /** 4: ICMP, 6: ICMPv6. */
  family: 4 | 6;
  reply: boolean;
  id: number;
  seq: number;
  token: Buffer;
}

/** The Internet checksum (RFC 1071) of `b`. */
export function internetChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An echo request. ICMP (v4) carries its own checksum; ICMPv6's covers a pseudo-header the
 * kernel fills in on raw ICMPv6 sockets (it always computes it there), so it is left 0.
 */
export function encodeEchoRequest(family: 4 | 6, id: number, seq: number, token: Buffer): Buffer {
  const m = Buffer.alloc(HEADER + TOKEN_BYTES);
  m.writeUInt8(family === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST, 0);
  m.writeUInt16BE(id & 0xffff, 4);
  m.writeUInt16BE(seq & 0xffff, 6);
  token.copy(m, HEADER, 0, TOKEN_BYTES);
  if (family === 4) m.writeUInt16BE(internetChecksum(m), 2);
  return m;
}

/**
 * An echo message as a raw socket delivers it: IPv4 raw sockets include the IP header
 * (its length from the IHL field), IPv6 ones do not. Anything else (other ICMP types,
 * truncated or bad-checksum messages) → undefined.
 */
export function decodeEcho(family: 4 | 6, datagram: Buffer): Echo | undefined {
  let icmp = datagram;
  if (family === 4) {
    if (datagram.length < 20 || datagram[0] === undefined || datagram[0] >> 4 !== 4) return undefined;
    icmp = datagram.subarray((datagram[0] & 0x0f) * 4);
    if (icmp.length >= HEADER && internetChecksum(icmp) !== 0) return undefined;
  }
  if (icmp.length < HEADER + TOKEN_BYTES) return undefined;
  const type = icmp.readUInt8(0);
  const [request, reply] =
    family === 4 ? [ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY] : [ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY];
  if (type !== request && type !== reply) return undefined;
  return {
    family,
    reply: type === reply,
    id: icmp.readUInt16BE(4),
    seq: icmp.readUInt16BE(6),
    token: Buffer.from(icmp.subarray(HEADER, HEADER + TOKEN_BYTES)),
  };
}
