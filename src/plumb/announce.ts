/**
 * Announce the guest's new addresses, natively: one gratuitous ARP per IPv4 address and
 * one unsolicited neighbour advertisement per IPv6 address, sent from a packet socket
 * made inside the guest's namespace (netns/sockets.ts). No `arping`, no wait for a reply.
 *
 * Equivalent to: ip netns exec G arping -c 1 -A -I IF ADDR
 */
import type { Logger } from 'pino';
import { isSysError, sysErrorText } from '../errors.js';
import { native } from '../native.js';
import type { Link, Rtnl } from '../rtnl/index.js';
import { macBytes, type IpPrefix } from '../validate.js';
import {
  ETH_BROADCAST,
  ETH_P_ARP,
  ETH_P_IPV6,
  IPV6_ALL_NODES,
  gratuitousArp,
  ipv6MulticastMac,
  unsolicitedNeighborAdvertisementPacket,
} from './gratuitous.js';

/**
 * Best effort: a failure is logged, never fatal (pipework only warned when arping was missing).
 * `packetFd`: a send-only AF_PACKET/SOCK_DGRAM socket made in the guest's namespace.
 * `known`: the interface as already read (index and MAC), which saves reading it here.
 */
export async function announce(
  packetFd: number,
  rtnl: Rtnl,
  ifname: string,
  addresses: readonly IpPrefix[],
  log?: Logger,
  known?: Link,
): Promise<void> {
  if (addresses.length === 0) return;
  try {
    const link = known ?? (await rtnl.link.get(ifname));
    if (link.mac === undefined) return;
    // Bytes, as the kernel and the plan have them: nothing here is read from text again.
    const mac = macBytes(link.mac);
    for (const a of addresses) {
      const v4 = a.family === 4;
      // SOCK_DGRAM: the kernel adds the Ethernet header, with the EtherType given here.
      const frame = v4
        ? gratuitousArp({ op: 'reply', senderMac: mac, ip: a.bytes })
        : unsolicitedNeighborAdvertisementPacket({ mac, target: a.bytes });
      const dst = v4 ? Buffer.from(ETH_BROADCAST) : ipv6MulticastMac(IPV6_ALL_NODES);
      const err = native().packetSend(packetFd, link.index, v4 ? ETH_P_ARP : ETH_P_IPV6, dst, frame);
      if (err) throw err;
    }
  } catch (e) {
    const detail = isSysError(e) ? sysErrorText(e) : e instanceof Error ? e.message : String(e);
    log?.warn({ ifname, err: detail }, 'could not announce the new addresses; neighbours will learn them on first use');
  }
}
