/**
 * The one file that loads the C++ addon, and the typed shape of what it exports.
 *
 * The addon does syscalls only; it never parses messages. Failures cross as data
 * (`SysError`: errno number, syscall) and TypeScript turns them into NetplumbErrors.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { SysError } from './errors.js';

/** A namespace file descriptor and the identity of the namespace it refers to. */
export interface NsHandleRaw {
  fd: number;
  dev: number;
  ino: number;
}

/** A process's network namespace, opened through a /proc/PID directory fd (race-free). */
export interface PidNsRaw extends NsHandleRaw {
  /** Process start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

export interface NetlinkSocketRaw {
  fd: number;
  portId: number;
  /** SO_NETNS_COOKIE of the socket's namespace, decimal ('' where the kernel has none). */
  netnsCookie: string;
}

/** A non-blocking socket driven by the event loop; owns its fd. */
export interface NativePoller {
  /**
   * Send each buffer as one datagram, on a libuv pool thread so that the kernel work
   * (RTNL lock, RCU waits) never blocks JavaScript. Resolves with null or the first error.
   */
  send(datagrams: Buffer[], done: (err: SysError | null, sent: number) => void): void;
  /** Stop polling and close the fd (once no send is in flight). Idempotent. */
  close(): void;
  /** Let the socket keep the event loop alive (while requests are pending) or not. */
  ref(): void;
  unref(): void;
}

export interface NativePollerConstructor {
  /**
   * Watch `fd` for readability; on each wakeup read every pending datagram and call
   * `onData(datagrams)`, or `onError(err)` (ENOBUFS: messages were lost).
   */
  new (fd: number, onData: (datagrams: Buffer[]) => void, onError: (err: SysError) => void): NativePoller;
}

export interface NativeBinding {
  /** Open a namespace file by path without following any symlink; checks NS_GET_NSTYPE == CLONE_NEWNET. */
  openNetnsPath(path: string): NsHandleRaw | SysError;
  /** Open /proc/PID as a directory fd, read its start time and open ns/net relative to it. */
  openNetnsPid(pid: number): PidNsRaw | SysError;
  /** Identity (dev, ino) of the calling thread's network namespace. */
  selfNetns(): NsHandleRaw | SysError;
  /** Close an fd the addon returned. */
  close(fd: number): SysError | null;
  /** malloc_trim(0): return the allocator's free pages to the kernel; true if any were. */
  trimMemory(): boolean;
  /** execve(argv[0], argv, environ): the same process (pid) runs argv instead; returns only on failure. */
  reexec(argv: string[]): SysError;
  /**
   * Create a NETLINK socket inside the namespace `nsFd` (-1: the caller's own) on a
   * throwaway thread, bound, non-blocking, close-on-exec, with extended ACKs.
   */
  openNetlink(nsFd: number, protocol: number, rcvbuf: number): NetlinkSocketRaw | SysError;
  /**
   * Create sockets inside the namespace `nsFd` (-1: the caller's own), one per
   * (domain, type, protocol) triple of `specs`, all in one trip of a throwaway namespace
   * thread run on the libuv pool's behalf (the event loop never waits). Netlink sockets
   * come bound, with extended ACKs and `rcvbuf`, for a Poller (which adopts and closes
   * them); the others are the caller's to close(). Whatever is neither adopted nor closed
   * is closed when the environment ends. All or none: an error closes what was made.
   * Keep `nsFd` open until the promise settles.
   */
  openSockets(nsFd: number, specs: number[], rcvbuf: number): Promise<NetlinkSocketRaw[] | SysError>;
  /** sendto() on a packet socket: one frame payload to a link-layer destination. */
  packetSend(fd: number, ifindex: number, ethertype: number, dstMac: Buffer, payload: Buffer): SysError | null;
  /** setsockopt(fd, level, name, value) with the option's bytes as given (SO_BINDTODEVICE: the name, NUL-ended). */
  setSocketOption(fd: number, level: number, name: number, value: Buffer): SysError | null;
  /**
   * Turn a link's TX checksum offload on or off (ETHTOOL_STXCSUM) with an inet socket of its
   * namespace, on the libuv pool (the ioctl waits for the RTNL lock).
   */
  ethtoolTxChecksum(fd: number, ifname: string, on: boolean): Promise<SysError | null>;
  /** Close an fd the addon returned, on the libuv pool (a packet socket's close waits for RCU). */
  closeAsync(fd: number): Promise<SysError | null>;
  /** SO_PEERCRED of a connected unix socket: who is on the other end. */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number } | SysError;
  Poller: NativePollerConstructor;
}

let binding: NativeBinding | undefined;

/** Load the addon once, from the package's build directory. */
export function native(): NativeBinding {
  if (binding === undefined) {
    const req = createRequire(__filename);
    const root = path.resolve(__dirname, '..', '..');
    binding = req(path.join(root, 'build', 'Release', 'netplumb.node')) as NativeBinding;
  }
  return binding;
}
