/**
 * Announcement frames for a freshly configured address, so that neighbours update their
 * caches at once (what pipework does with `arping -c 1 -A -I <if> <ip>`):
 *
 *   - a gratuitous ARP packet (RFC 5227 §2.3 / arping -A), for an AF_PACKET SOCK_DGRAM
 *     socket bound to ETH_P_ARP and sent to the Ethernet broadcast address;
 *   - an IPv6 unsolicited neighbour advertisement (RFC 4861 §7.2.6), as the ICMPv6
 *     message and as a whole IPv6 packet for an AF_PACKET SOCK_DGRAM socket bound to
 *     ETH_P_IPV6 and sent to 33:33:00:00:00:01.
 *
 * Pure builders: the packet socket I/O lives with the native addon.
 */
import { invalidArgument } from '../errors.js';
import { ipAddress, macAddress, macBytes } from '../validate.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_TARGET_LINKADDR = 2;
/** Flags word of a neighbour advertisement: Router, Solicited, Override. */
export const NA_FLAG_ROUTER = 0x80000000;
export const NA_FLAG_SOLICITED = 0x40000000;
export const NA_FLAG_OVERRIDE = 0x20000000;

export const ETH_BROADCAST: Readonly<Buffer> = Buffer.alloc(6, 0xff);
/** ff02::1, all nodes on the link. */
export const IPV6_ALL_NODES: Readonly<Buffer> = Buffer.from('ff020000000000000000000000000001', 'hex');

/** An address given as text (validated) or as bytes of the right length. */
export type AddressInput = string | Uint8Array;

/** A MAC: text must be a unicast address; bytes are taken as they are (broadcast allowed). */
function macInput(field: string, v: AddressInput): Buffer {
  if (typeof v === 'string') return macBytes(macAddress(field, v));
  if (v.length !== 6) throw invalidArgument(field, `expected 6 bytes, got ${v.length}`);
  return Buffer.from(v);
}

function ipInput(field: string, v: AddressInput, family: 4 | 6): Buffer {
  if (typeof v === 'string') return ipAddress(field, v, family).bytes;
  const want = family === 4 ? 4 : 16;
  if (v.length !== want) throw invalidArgument(field, `expected ${want} bytes for IPv${family}, got ${v.length}`);
  return Buffer.from(v);
}

export interface GratuitousArpOptions {
  /**
   * `reply` is what `arping -A` (and pipework) sends: target MAC = sender MAC.
   * `request` is an RFC 5227 announcement: target MAC all zeros.
   */
  op: 'request' | 'reply';
  /** The interface's MAC. */
  senderMac: AddressInput;
  /** The announced IPv4 address: both sender and target protocol address. */
  ip: AddressInput;
  /** Override the target hardware address, 6 bytes (e.g. `ETH_BROADCAST`, as `arping -U` sends). */
  targetMac?: Uint8Array;
}

/** The 28-byte ARP packet (no Ethernet header: the SOCK_DGRAM socket adds it). */
export function gratuitousArp(o: GratuitousArpOptions): Buffer {
  const sha = macInput('senderMac', o.senderMac);
  const ip = ipInput('ip', o.ip, 4);
  const tha = o.targetMac !== undefined ? macInput('targetMac', o.targetMac) : o.op === 'reply' ? sha : Buffer.alloc(6);
  const p = Buffer.alloc(28);
  p.writeUInt16BE(ARPHRD_ETHER, 0);
  p.writeUInt16BE(ETH_P_IP, 2);
  p.writeUInt8(6, 4);
  p.writeUInt8(4, 5);
  p.writeUInt16BE(o.op === 'reply' ? ARPOP_REPLY : ARPOP_REQUEST, 6);
  sha.copy(p, 8);
  ip.copy(p, 14);
  tha.copy(p, 18);
  ip.copy(p, 24);
  return p;
}

/** RFC 1071 one's-complement sum of 16-bit words, folded (not yet inverted). */
function onesComplementSum(chunks: readonly Uint8Array[]): number {
  let sum = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i += 2) sum += ((c[i] ?? 0) << 8) | (c[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The ICMPv6 checksum (RFC 4443 §2.3) over the pseudo-header (source, destination,
 * upper-layer length, next header 58) and `icmp` with its checksum field taken as is
 * (zero it first to compute; a correct message sums to 0).
 */
export function icmpv6Checksum(source: Uint8Array, destination: Uint8Array, icmp: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  Buffer.from(source).copy(pseudo, 0);
  Buffer.from(destination).copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo.writeUInt8(IPPROTO_ICMPV6, 39);
  const sum = onesComplementSum([pseudo, icmp]);
  return ~sum & 0xffff;
}

export interface NeighborAdvertisementOptions {
  /** The interface's MAC: the target link-layer address option. */
  mac: AddressInput;
  /** The announced IPv6 address. */
  target: AddressInput;
  /** IPv6 source: the target itself (default) or the interface's link-local address. */
  source?: AddressInput;
  /** IPv6 destination; default ff02::1. */
  destination?: AddressInput;
}

interface NaAddresses {
  mac: Buffer;
  target: Buffer;
  source: Buffer;
  destination: Buffer;
}

function naAddresses(o: NeighborAdvertisementOptions): NaAddresses {
  const target = ipInput('target', o.target, 6);
  return {
    mac: macInput('mac', o.mac),
    target,
    source: o.source !== undefined ? ipInput('source', o.source, 6) : target,
    destination: o.destination !== undefined ? ipInput('destination', o.destination, 6) : Buffer.from(IPV6_ALL_NODES),
  };
}

function naMessage(a: NaAddresses): Buffer {
  const m = Buffer.alloc(32);
  m.writeUInt8(ND_NEIGHBOR_ADVERT, 0);
  m.writeUInt8(0, 1);
  m.writeUInt32BE(NA_FLAG_OVERRIDE, 4);
  a.target.copy(m, 8);
  m.writeUInt8(ND_OPT_TARGET_LINKADDR, 24);
  m.writeUInt8(1, 25); // option length in units of 8 bytes
  a.mac.copy(m, 26);
  m.writeUInt16BE(icmpv6Checksum(a.source, a.destination, m), 2);
  return m;
}

/**
 * The 32-byte ICMPv6 unsolicited neighbour advertisement (type 136, Override set,
 * Solicited clear, target link-layer address option) with its checksum filled in.
 */
export function unsolicitedNeighborAdvertisement(o: NeighborAdvertisementOptions): Buffer {
  return naMessage(naAddresses(o));
}

/** The whole IPv6 packet (40-byte header, hop limit 255 as ND requires, then the message). */
export function unsolicitedNeighborAdvertisementPacket(o: NeighborAdvertisementOptions): Buffer {
  const a = naAddresses(o);
  const icmp = naMessage(a);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  h.writeUInt16BE(icmp.length, 4);
  h.writeUInt8(IPPROTO_ICMPV6, 6);
  h.writeUInt8(255, 7);
  a.source.copy(h, 8);
  a.destination.copy(h, 24);
  return Buffer.concat([h, icmp]);
}

/** The Ethernet destination for an IPv6 multicast address: 33:33 + its last 4 bytes (RFC 2464 §7). */
export function ipv6MulticastMac(address: AddressInput): Buffer {
  const a = ipInput('address', address, 6);
  if (a[0] !== 0xff) throw invalidArgument('address', 'is not a multicast address');
  return Buffer.concat([Buffer.from([0x33, 0x33]), a.subarray(12, 16)]);
}
