/**
 * A NETLINK socket bound to one network namespace, as a NetlinkTransport.
 *
 * The socket is created inside the namespace by the addon on a throwaway thread; from
 * then on it acts in that namespace whichever thread uses it.
 */
import { fromSysError, isSysError, type NetplumbError, type SysError } from '../errors.js';
import { native, type NativePoller, type NetlinkSocketRaw } from '../native.js';
import type { NetlinkTransport } from './transport.js';

export const NETLINK_ROUTE = 0;
const RCVBUF = 4 * 1024 * 1024;

class NativeNetlinkTransport implements NetlinkTransport {
  readonly portId: number;
  onData: ((datagrams: Buffer[]) => void) | null = null;
  onError: ((err: NetplumbError) => void) | null = null;
  #poller: NativePoller;
  #closed = false;

  constructor(
    fd: number,
    portId: number,
    private readonly label: string,
  ) {
    this.portId = portId;
    this.#poller = new (native().Poller)(
      fd,
      (datagrams) => this.onData?.(datagrams),
      (err: SysError) => this.onError?.(fromSysError(err, `netlink socket in ${this.label}`)),
    );
    this.#poller.unref();
  }

  send(datagrams: Buffer[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#poller.send(datagrams, (err, sent) => {
        // `sent` datagrams reached the kernel and will be answered; the engine keeps those pending.
        if (err) reject(fromSysError(err, `sending to netlink in ${this.label}`, { sent }));
        else resolve();
      });
    });
  }

  setActive(active: boolean): void {
    if (this.#closed) return;
    if (active) this.#poller.ref();
    else this.#poller.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller.close();
  }
}

/** Open a NETLINK_ROUTE socket in the namespace `nsFd` (undefined: this process's own). */
export function openRouteTransport(nsFd?: number, label = 'this namespace'): NetlinkTransport {
  const r = native().openNetlink(nsFd ?? -1, NETLINK_ROUTE, RCVBUF);
  if (isSysError(r)) throw fromSysError(r, `opening a netlink socket in ${label}`);
  return new NativeNetlinkTransport(r.fd, r.portId, label);
}

/** The socket spec (domain, type, protocol) of a NETLINK_ROUTE socket, for native().openSockets. */
export const ROUTE_SOCKET_SPEC = [16 /* AF_NETLINK */, 3 /* SOCK_RAW */, NETLINK_ROUTE] as const;
export const ROUTE_SOCKET_RCVBUF = RCVBUF;

/** A transport over a netlink socket made by native().openSockets (the transport owns it). */
export function routeTransportOf(raw: NetlinkSocketRaw, label: string): NetlinkTransport {
  return new NativeNetlinkTransport(raw.fd, raw.portId, label);
}
