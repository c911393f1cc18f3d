/**
 * Claiming the daemon's socket path safely (faults H1/H2).
 *
 * The directory must be a real directory (not a symlink) owned by root with no access for
 * others and no write access for the group (0750 or stricter); a missing one is created
 * 0750. It is then given to root:GROUP, mode 0750, so that the group can reach the socket.
 *
 * At the socket path itself nothing is ever removed except a stale socket: a symlink, a
 * regular file or anything else that is not a socket is refused untouched (never unlinked,
 * never followed), and a socket that answers (another daemon) is refused too. A socket
 * that refuses connections (ECONNREFUSED: its daemon died) is replaced.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { ErrorCode, NetplumbError } from '../errors.js';

export const SOCKET_MODE = 0o660;
export const DIR_MODE = 0o750;

function refuse(path: string, why: string, extra: Record<string, unknown> = {}): NetplumbError {
  return new NetplumbError(ErrorCode.CONFLICT, `refusing to serve on ${path}: ${why}`, {
    field: 'socket',
    path,
    ...extra,
  });
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).code === 'string'
    ? (e as NodeJS.ErrnoException).code
    : undefined;
}

/** Create or check the socket's directory and hand it to root:gid, 0750. */
export function prepareSocketDir(dir: string, gid: number): void {
  try {
    mkdirSync(dir, { mode: DIR_MODE });
  } catch (e) {
    if (errnoOf(e) === 'ENOENT')
      throw new NetplumbError(ErrorCode.NOT_FOUND, `cannot create ${dir}: its parent directory does not exist`, {
        field: 'socket',
      });
    if (errnoOf(e) === 'EACCES' || errnoOf(e) === 'EPERM')
      throw new NetplumbError(
        ErrorCode.PRIVILEGE,
        `cannot create ${dir}: permission denied; netplumb serve runs as root`,
        { field: 'socket' },
      );
    if (errnoOf(e) !== 'EEXIST') throw e;
  }
  if (lstatSync(dir).isSymbolicLink())
    throw refuse(dir, `${dir} is a symbolic link; expected a directory owned by root, mode 0750`, { found: 'symlink' });
  // Opened without following a symlink, then checked and changed through the fd: no
  // window in which the path could be swapped between the check and the change.
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW); // libuv adds O_CLOEXEC
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ELOOP' || code === 'ENOTDIR')
      throw refuse(
        dir,
        `${dir} is ${code === 'ELOOP' ? 'a symbolic link' : 'not a directory'}; expected a directory owned by root, mode 0750`,
      );
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== 0) throw refuse(dir, `${dir} is owned by uid ${st.uid}, not root`, { owner: st.uid });
    const mode = st.mode & 0o7777;
    if ((mode & ~DIR_MODE) !== 0)
      throw refuse(dir, `${dir} has mode ${mode.toString(8).padStart(4, '0')}, looser than 0750`, { mode });
    fchownSync(fd, 0, gid);
    fchmodSync(fd, DIR_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Does something accept connections on this unix socket path? */
function answers(path: string, timeoutMs = 1000): Promise<'live' | 'stale' | string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve('live'); // accepted but silent, or a full backlog: someone is there
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('live');
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      const code = errnoOf(e) ?? 'error';
      resolve(code === 'ECONNREFUSED' ? 'stale' : code);
    });
  });
}

/**
 * Make the socket path free to bind: nothing there, or a stale socket (removed). Anything
 * else is refused, untouched.
 */
export async function claimSocketPath(path: string): Promise<void> {
  if (!path.startsWith('/') || path.includes('\0') || Buffer.byteLength(path) > 107) {
    throw new NetplumbError(
      ErrorCode.INVALID_ARGUMENT,
      `invalid socket: ${JSON.stringify(path)}: expected an absolute path of at most 107 bytes`,
      { field: 'socket' },
    );
  }
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return;
    throw e;
  }
  if (st.isSymbolicLink())
    throw refuse(
      path,
      'it is a symbolic link; remove it yourself if it is not needed (it is neither followed nor removed)',
      { found: 'symlink' },
    );
  if (st.isFile())
    throw refuse(path, 'it is a regular file, not a socket; remove it yourself if it is not needed', { found: 'file' });
  if (!st.isSocket()) throw refuse(path, 'it exists and is not a socket', { found: 'other' });
  const state = await answers(path);
  if (state === 'live')
    throw refuse(path, 'another process is serving on it (is netplumb serve already running?)', {
      found: 'live socket',
    });
  if (state !== 'stale') throw refuse(path, `the socket there cannot be probed (${state})`, { found: 'socket' });
  // Stale: its server died without removing it. The directory is root's and 0750, so no
  // one else can have swapped it since the check; lstat again to be sure it is a socket.
  if (!lstatSync(path).isSocket()) throw refuse(path, 'it changed while being checked', { found: 'other' });
  unlinkSync(path);
}

export function socketDir(path: string): string {
  return dirname(path);
}
