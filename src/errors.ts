/**
 * One error taxonomy for the library, the CLI's exit codes and the daemon's API.
 *
 * Every error netplumb throws is a `NetplumbError` with a machine-readable `code`.
 * Messages say what was asked, what failed and what to do.
 */
import { errnoName } from './netlink/errno.js';

export const ErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  PRIVILEGE: 'PRIVILEGE',
  NOT_FOUND: 'NOT_FOUND',
  NAMESPACE_GONE: 'NAMESPACE_GONE',
  HOST_NAMESPACE_REFUSED: 'HOST_NAMESPACE_REFUSED',
  IDENTITY_MISMATCH: 'IDENTITY_MISMATCH',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  CONFLICT: 'CONFLICT',
  UNAVAILABLE: 'UNAVAILABLE',
  INCOMPATIBLE: 'INCOMPATIBLE',
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  DATAPLANE_APPLY_FAILED: 'DATAPLANE_APPLY_FAILED',
  PARTIAL_CLEANUP_FAILED: 'PARTIAL_CLEANUP_FAILED',
  UNSUPPORTED: 'UNSUPPORTED',
  PROTOCOL: 'PROTOCOL',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Process exit code for each error code (pipework itself exits 1 on any failure). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 2,
  PRIVILEGE: 3,
  NOT_FOUND: 4,
  NAMESPACE_GONE: 5,
  HOST_NAMESPACE_REFUSED: 6,
  IDENTITY_MISMATCH: 7,
  ALREADY_EXISTS: 8,
  CONFLICT: 9,
  UNAVAILABLE: 10,
  INCOMPATIBLE: 11,
  OUTCOME_UNKNOWN: 12,
  DATAPLANE_APPLY_FAILED: 13,
  PARTIAL_CLEANUP_FAILED: 14,
  UNSUPPORTED: 15,
  PROTOCOL: 16,
  INTERNAL: 70,
};

export interface ErrorDetails {
  /** The input field the error is about (`hostIfName`, `vlan`, `mac`…). */
  field?: string;
  /** Kernel errno number, when the error came from a syscall or netlink. */
  errno?: number;
  /** Symbolic errno (`EEXIST`). */
  errnoCode?: string;
  /** The syscall or protocol operation that failed (`RTM_NEWLINK`, `transact`). */
  syscall?: string;
  /** Free-form structured context (ids of residual objects, op index, table…). */
  [key: string]: unknown;
}

export class NetplumbError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetplumbError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** An input that fails validation: raised before anything is changed. */
export function invalidArgument(field: string, reason: string, extra: ErrorDetails = {}): NetplumbError {
  return new NetplumbError(ErrorCode.INVALID_ARGUMENT, `invalid ${field}: ${reason}`, { field, ...extra });
}

/**
 * A failed system call, as reported by the native addon (errors cross the boundary as data):
 * the errno number only; its name comes from one table, errnoName (src/netlink/errno.ts).
 */
export interface SysError {
  errno: number;
  syscall: string;
}

export function isSysError(v: unknown): v is SysError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as SysError).errno === 'number' &&
    typeof (v as SysError).syscall === 'string'
  );
}

/** Map an errno to the taxonomy: permissions, absence, existence, the rest. */
export function codeForErrno(errnoCode: string): ErrorCode {
  switch (errnoCode) {
    case 'EPERM':
    case 'EACCES':
      return ErrorCode.PRIVILEGE;
    case 'ENOENT':
    case 'ENODEV':
    case 'ESRCH':
    case 'ENXIO':
      return ErrorCode.NOT_FOUND;
    case 'EEXIST':
      return ErrorCode.ALREADY_EXISTS;
    case 'EBUSY':
      return ErrorCode.CONFLICT;
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
    case 'EAFNOSUPPORT':
    case 'EPROTONOSUPPORT':
      return ErrorCode.UNSUPPORTED;
    case 'EINVAL':
    case 'ERANGE':
    case 'E2BIG':
    case 'EADDRNOTAVAIL':
      return ErrorCode.INVALID_ARGUMENT;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return ErrorCode.INVALID_ARGUMENT;
    case 'ECONNREFUSED':
    case 'EAGAIN':
    case 'ETIMEDOUT':
    case 'ENOBUFS':
      return ErrorCode.UNAVAILABLE;
    default:
      return ErrorCode.INTERNAL;
  }
}

/** `SYSCALL: ENAME`, e.g. `openat2: ENOENT`: a failed system call in a log line. */
export function sysErrorText(e: SysError): string {
  return `${e.syscall}: ${errnoName(e.errno)}`;
}

/** Turn a native error record into a NetplumbError whose message says what was asked. */
export function fromSysError(e: SysError, what: string, details: ErrorDetails = {}): NetplumbError {
  const name = errnoName(e.errno);
  return new NetplumbError(codeForErrno(name), `${what}: ${e.syscall}: ${name} (${describeErrno(name)})`, {
    errno: e.errno,
    errnoCode: name,
    syscall: e.syscall,
    ...details,
  });
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EPERM: 'operation not permitted: run as root or with CAP_NET_ADMIN',
  EACCES: 'permission denied',
  ENOENT: 'no such file or object',
  ENODEV: 'no such device',
  ESRCH: 'no such process',
  EEXIST: 'already exists',
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  EOPNOTSUPP: 'not supported by this kernel',
  ENETUNREACH: 'network unreachable',
  ERANGE: 'value out of range',
  ENOBUFS: 'kernel buffer overrun',
  ELOOP: 'path is a symbolic link',
  ENOTDIR: 'not a directory',
  EMFILE: 'too many open files',
};

export function describeErrno(code: string): string {
  return ERRNO_TEXT[code] ?? code.toLowerCase();
}
