/**
 * The sockets an operation needs inside a guest's namespace, made in one trip of the
 * addon's namespace thread and off the event loop: a NETLINK_ROUTE transport, an inet
 * socket for ethtool ioctls, and a send-only packet socket for announcements (protocol 0:
 * it receives nothing; each frame names its EtherType). A socket acts in the namespace it
 * was made in, whichever thread uses it.
 *
 * Equivalent to what `ip netns exec G …` gives ip, ethtool and arping, without a process.
 */
import { fromSysError, isSysError } from '../errors.js';
import { native } from '../native.js';
import { ROUTE_SOCKET_RCVBUF, ROUTE_SOCKET_SPEC, routeTransportOf } from '../netlink/native-transport.js';
import type { NetlinkTransport } from '../netlink/transport.js';
import type { Netns } from './handle.js';

const AF_INET = 2;
const AF_PACKET = 17;
const SOCK_DGRAM = 2;

export interface GuestSockets {
  route: NetlinkTransport;
  /** AF_INET/SOCK_DGRAM: for ioctls on the namespace's links (SIOCETHTOOL). */
  inetFd: number;
  /** AF_PACKET/SOCK_DGRAM, protocol 0: sends only. */
  packetFd: number;
  /** Where the sockets act, for messages. */
  label: string;
  /** Close the inet and packet sockets (the route transport is closed by its owner). */
  closeExtras(): void;
}

/** Open the three sockets in `ns`; the namespace stays held by the caller meanwhile. */
export async function openGuestSockets(ns: Netns): Promise<GuestSockets> {
  const specs = [...ROUTE_SOCKET_SPEC, AF_INET, SOCK_DGRAM, 0, AF_PACKET, SOCK_DGRAM, 0];
  const made = await native().openSockets(ns.fd, specs, ROUTE_SOCKET_RCVBUF);
  if (isSysError(made)) throw fromSysError(made, `opening sockets in ${ns.label}`);
  const [route, inet, packet] = made;
  if (route === undefined || inet === undefined || packet === undefined) throw new Error(`the addon made ${made.length} of 3 sockets`);
  let open = true;
  return {
    route: routeTransportOf(route, ns.label),
    inetFd: inet.fd,
    packetFd: packet.fd,
    label: ns.label,
    closeExtras: () => {
      if (!open) return;
      open = false;
      native().close(inet.fd);
      native().close(packet.fd);
    },
  };
}
