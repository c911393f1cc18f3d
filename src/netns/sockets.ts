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
import { native, type NetlinkSocketRaw } from '../native.js';
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
  /** The namespace's cookie (never reused within a boot, unlike its inode); '' if unknown. */
  netnsCookie: string;
  /** Close the inet and packet sockets, off the event loop (the route transport is closed by its owner). */
  closeExtras(): void;
}

/** Make the sockets of `specs` (domain, type, protocol triples) in `ns`, off the event loop. */
export async function makeSockets(ns: Netns, specs: readonly number[]): Promise<NetlinkSocketRaw[]> {
  const made = await native().openSockets(ns.fd, [...specs], ROUTE_SOCKET_RCVBUF);
  if (isSysError(made)) throw fromSysError(made, `opening sockets in ${ns.label}`);
  if (made.length * 3 !== specs.length) throw new Error(`the addon made ${made.length} of ${specs.length / 3} sockets`);
  return made;
}

/** A NETLINK_ROUTE transport in `ns`, made off the event loop (ip -n NS …), and the namespace's cookie. */
export async function openRouteIn(ns: Netns): Promise<{ route: NetlinkTransport; netnsCookie: string }> {
  const [route] = (await makeSockets(ns, ROUTE_SOCKET_SPEC)) as [NetlinkSocketRaw];
  return { route: routeTransportOf(route, ns.label), netnsCookie: route.netnsCookie };
}

/** Open the three sockets in `ns`; the namespace stays held by the caller meanwhile. */
export async function openGuestSockets(ns: Netns): Promise<GuestSockets> {
  const [route, inet, packet] = (await makeSockets(ns, [
    ...ROUTE_SOCKET_SPEC,
    AF_INET,
    SOCK_DGRAM,
    0,
    AF_PACKET,
    SOCK_DGRAM,
    0,
  ])) as [NetlinkSocketRaw, NetlinkSocketRaw, NetlinkSocketRaw];
  let open = true;
  return {
    route: routeTransportOf(route, ns.label),
    inetFd: inet.fd,
    packetFd: packet.fd,
    label: ns.label,
    netnsCookie: route.netnsCookie,
    closeExtras: () => {
      if (!open) return;
      open = false;
      // Errors of close() are not actionable here; the fds are gone either way.
      void native().closeAsync(inet.fd);
      void native().closeAsync(packet.fd);
    },
  };
}

/**
 * The namespace's cookie, read synchronously from a socket made in it for the purpose
 * (one namespace-thread trip): for the rare paths that have no socket there yet. '' if unknown.
 */
export function netnsCookieOf(ns: Netns): string {
  const raw = native().openNetlink(ns.fd, ROUTE_SOCKET_SPEC[2], 0);
  if (isSysError(raw)) return '';
  native().close(raw.fd);
  return raw.netnsCookie;
}
