/**
 * The IP packet around a probe (RFC 791, RFC 8200), built in full so that it can be sent
 * on a packet socket straight to the destination's MAC: no route lookup and no neighbour
 * resolution in the source guest, hence no neighbour entry made there, whatever the
 * destination; and the ARP request that lets the destination answer at once.
 */
import { ARPHRD_ETHER, ARPOP_REQUEST, ETH_P_IP, IPPROTO_ICMPV6, icmpv6Checksum } from '../plumb/gratuitous.js';
import { internetChecksum } from './icmp.js';

const IPPROTO_ICMP = 1;

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
  m.writeUInt16BE(icmpv6Checksum(src, dst, m), 2);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(m.length, 4);
  h[6] = IPPROTO_ICMPV6;
  h[7] = 64;
  src.copy(h, 8, 0, 16);
  dst.copy(h, 24, 0, 16);
  return Buffer.concat([h, m]);
}

/**
 * An ARP request from `senderIp` (at `senderMac`) for `targetIp`, to be sent unicast to the
 * target's MAC: the target records the sender (as a host does on any request for its own
 * address) and answers, so a probe's echo that follows is answered at once, without the
 * target broadcasting a request of its own through the bridge. The sender, which asked
 * nothing, ignores the answer. (RFC 826; the packet socket adds the Ethernet header.)
 */
export function arpRequest(senderMac: Buffer, senderIp: Buffer, targetIp: Buffer): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(ARPHRD_ETHER, 0);
  p.writeUInt16BE(ETH_P_IP, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(ARPOP_REQUEST, 6);
  senderMac.copy(p, 8, 0, 6);
  senderIp.copy(p, 14, 0, 4);
  targetIp.copy(p, 24, 0, 4);
  return p;
}
