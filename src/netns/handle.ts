/**
 * An open network namespace: an fd held for the whole operation, and its identity.
 * Holding the fd keeps the namespace alive even if its last process exits.
 */
import { ErrorCode, NetplumbError, fromSysError, isSysError, type SysError } from '../errors.js';
import { errnoName } from '../netlink/errno.js';
import { native, type NsHandleRaw } from '../native.js';
import {
  NETNS_RUN_DIR,
  describeSelector,
  validateNetnsName,
  validateNetnsPath,
  validatePid,
  type NetnsSelector,
} from './selector.js';

export interface NetnsIdentity {
  dev: number;
  ino: number;
}

export class Netns {
  #fd: number;
  readonly dev: number;
  readonly ino: number;
  /** What the caller asked for, for messages (`netns "blue"`). */
  readonly label: string;
  /** Start time of the process it was opened through, when opened by pid. */
  readonly startTime: number | undefined;

  constructor(raw: NsHandleRaw, label: string, startTime?: number) {
    this.#fd = raw.fd;
    this.dev = raw.dev;
    this.ino = raw.ino;
    this.label = label;
    this.startTime = startTime;
  }

  /** The fd, for IFLA_NET_NS_FD and socket creation. Throws once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new NetplumbError(ErrorCode.INTERNAL, `${this.label}: namespace handle used after close`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Same namespace as another handle or identity. */
  is(other: NetnsIdentity): boolean {
    return this.dev === other.dev && this.ino === other.ino;
  }

  /** `/proc/self/fd/N`: a path other programs (oracles, DHCP clients) can open while we hold the fd. */
  get procPath(): string {
    return `/proc/${process.pid}/fd/${this.fd}`;
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    native().close(fd);
  }
}

/** Identity of the caller's own (host) network namespace. */
export function hostNetnsIdentity(): NetnsIdentity {
  const r = native().selfNetns();
  if (isSysError(r)) throw fromSysError(r, "reading this process's network namespace");
  return { dev: r.dev, ino: r.ino };
}

/** Equivalent to: opening /run/netns/NAME, a namespace path, or /proc/PID/ns/net. */
export function openNetns(sel: NetnsSelector): Netns {
  const what = describeSelector(sel);
  if ('pid' in sel) {
    const r = native().openNetnsPid(validatePid(sel.pid));
    if (isSysError(r)) throw netnsOpenError(r, what);
    const ns = new Netns(r, what, r.startTime);
    if (sel.startTime !== undefined && sel.startTime !== r.startTime) {
      ns.close();
      throw new NetplumbError(
        ErrorCode.IDENTITY_MISMATCH,
        `${what}: process start time ${r.startTime} differs from the expected ${sel.startTime}; the process was replaced (PID reused), nothing was changed`,
        { field: 'pid', pid: sel.pid },
      );
    }
    return ns;
  }
  const path = 'name' in sel ? `${NETNS_RUN_DIR}/${validateNetnsName(sel.name)}` : validateNetnsPath(sel.path);
  const r = native().openNetnsPath(path);
  if (isSysError(r)) throw netnsOpenError(r, what);
  return new Netns(r, what);
}

function netnsOpenError(raw: SysError, what: string): NetplumbError {
  const code = errnoName(raw.errno);
  const syscall = raw.syscall;
  const details = { errno: raw.errno, errnoCode: code, syscall, field: 'netns' };
  if (syscall.startsWith('ioctl')) {
    return new NetplumbError(ErrorCode.INVALID_ARGUMENT, `${what} is not a network namespace`, details);
  }
  switch (code) {
    case 'ENOENT':
    case 'ESRCH':
      return new NetplumbError(
        ErrorCode.NAMESPACE_GONE,
        `${what} does not exist (the container or namespace is gone)`,
        details,
      );
    case 'ELOOP':
    case 'EXDEV':
      return new NetplumbError(
        ErrorCode.INVALID_ARGUMENT,
        `${what} goes through a symbolic link; refusing to follow it`,
        details,
      );
    case 'ENOTDIR':
    case 'EISDIR':
      return new NetplumbError(ErrorCode.INVALID_ARGUMENT, `${what} is not a network namespace`, details);
    default:
      return fromSysError(raw, `opening ${what}`, { field: 'netns' });
  }
}
