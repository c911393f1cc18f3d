/**
 * The IP packet around a probe (RFC 791, RFC 8200), built in full so that it can be sent
 * on a packet socket straight to the destination's MAC: no route lookup and no neighbour
 * resolution in the source guest, hence no neighbour entry made there, whatever the
 * destination. (The destination resolves the source to answer, as any host does.)
 */
import { internetChecksum } from './icmp.js';

const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;

/** An IPv4 packet carrying an ICMP message (checksummed by the caller): TTL 64, don't fragment. */
export function ipv4Packet(src: Buffer, dst: Buffer, icmp: Buffer, id: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + icmp.length, 2);
  h.writeUInt16BE(id & 0xffff, 4);
  h.writeUInt16BE(0x4000, 6);
  h[8] = 64;
  h[9] = IPPROTO_ICMP;
  src.copy(h, 12, 0, 4);
  dst.copy(h, 16, 0, 4);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, icmp]);
}

/** An IPv6 packet carrying an ICMPv6 message, whose checksum (over the pseudo-header) is filled in here. */
export function ipv6Packet(src: Buffer, dst: Buffer, icmpv6: Buffer): Buffer {
  const m = Buffer.from(icmpv6);
  m.writeUInt16BE(0, 2);
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0, 0, 16);
  dst.copy(pseudo, 16, 0, 16);
  pseudo.writeUInt32BE(m.length, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  m.writeUInt16BE(internetChecksum(Buffer.concat([pseudo, m])), 2);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(m.length, 4);
  h[6] = IPPROTO_ICMPV6;
  h[7] = 64;
  src.copy(h, 8, 0, 16);
  dst.copy(h, 24, 0, 16);
  return Buffer.concat([h, m]);
}
