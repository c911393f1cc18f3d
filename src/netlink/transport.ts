/**
 * What the netlink request engine needs from a socket: send datagrams, receive datagrams.
 *
 * The native implementation (`native-transport.ts`) wraps a NETLINK_ROUTE socket bound
 * to one network namespace; unit tests use an in-memory fake peer.
 */
import type { NetplumbError } from '../errors.js';

export interface NetlinkTransport {
  /** The socket's netlink port id (nl_pid), checked against every reply. */
  readonly portId: number;
  /**
   * Send each buffer as one datagram, in order. The kernel does the requested work while
   * sending, so this runs off the event loop; resolves once all are handed to the kernel.
   */
  send(datagrams: Buffer[]): Promise<void>;
  /** Called with every batch of datagrams received (each may hold several messages). */
  onData: ((datagrams: Buffer[]) => void) | null;
  /** Called when the socket fails (ENOBUFS: replies were lost); pending requests must fail. */
  onError: ((err: NetplumbError) => void) | null;
  /**
   * The engine calls setActive(true) when its first request becomes outstanding and
   * setActive(false) when none is: an idle socket must not keep the process alive.
   */
  setActive(active: boolean): void;
  /** Close the socket. Idempotent. */
  close(): void;
}
