/**
 * The one file that loads the C++ addon, and the typed shape of what it exports.
 *
 * The addon does syscalls only; it never parses messages. Failures cross as data
 * (`SysError`: errno number, syscall) and TypeScript turns them into NetplumbErrors.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { ErrorCode, NetplumbError, type SysError } from './errors.js';

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

/** The package's root: this module is dist/src/native.js (the bundles in dist/bundle keep its __dirname). */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where a native artefact of the package may be, in the order to try: the prebuild shipped for
 * this platform (`prebuilds/linux-x64/`), then a source build (`build/Release/`, made by node-gyp
 * at install when no prebuild fits, or by `npm rebuild netplumb`). The artefacts and how they are
 * prebuilt and installed: scripts/native-artefacts.js.
 */
export function nativeArtefactPaths(file: string, root: string = PACKAGE_ROOT): string[] {
  return [
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, file),
    path.join(root, 'build', 'Release', file),
  ];
}

/**
 * Load the addon from the first of its places that loads. When none does, a NetplumbError
 * says what was tried and how to get an addon: reinstall, or build it from source.
 */
export function loadAddon(root: string): NativeBinding {
  const req = createRequire(__filename);
  const tried: string[] = [];
  for (const file of nativeArtefactPaths('netplumb.node', root)) {
    if (!existsSync(file)) {
      tried.push(`${file}: absent`);
      continue;
    }
    try {
      return req(file) as NativeBinding;
    } catch (e) {
      // dlopen's message starts with the file's name (`FILE: file too short`): say it once.
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
      tried.push(`${file}: ${reason.startsWith(`${file}: `) ? reason.slice(file.length + 2) : reason}`);
    }
  }
  throw missingAddon(tried);
}

function missingAddon(tried: string[]): NetplumbError {
  const where = `${process.platform}-${process.arch}`;
  const details = { tried, platform: process.platform, arch: process.arch, node: process.version };
  if (process.platform !== 'linux')
    return new NetplumbError(ErrorCode.UNSUPPORTED, `netplumb runs on Linux only, not on ${where}`, details);
  return new NetplumbError(
    ErrorCode.INCOMPATIBLE,
    `netplumb's native addon is missing or does not load on this machine (${where}, Node.js ${process.version}): ` +
      `${tried.join('; ')}. Reinstall netplumb, or build the addon from source: ` +
      'install python3, make and g++ (Debian/Ubuntu: apt-get install python3 make g++), then run: npm rebuild netplumb',
    details,
  );
}

/** The addon, loaded on first use; a NetplumbError (INCOMPATIBLE) when this installation has none that loads. */
export function native(): NativeBinding {
  if (binding === undefined) binding = loadAddon(PACKAGE_ROOT);
  return binding;
}
