/**
 * The daemon's listening socket (faults.md H1–H3):
 *   - the path is claimed without following or removing anything that is not a stale
 *     socket, in a root-owned directory, mode 0750, group GROUP (H2, socket-path.ts);
 *   - the socket is created 0600 and only then opened to 0660 root:GROUP, so only root and
 *     the group can connect at all (H1);
 *   - each connection's peer (SO_PEERCRED) is checked as it is accepted, before a byte of
 *     it is read: root and the group's members by default, or an explicit uid list (H3);
 *     any other is answered PRIVILEGE and hung up;
 *   - at most `maxConnections` connections; further ones are closed as they come (H4).
 *
 * Equivalent to: install -d -m 0750 -g GROUP DIR ; socat UNIX-LISTEN:SOCK,mode=0660,group=GROUP …
 */
import { chmodSync, chownSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError, isSysError, sysErrorText } from '../errors.js';
import { native } from '../native.js';
import { refuseConnection } from './connection.js';
import { errorLine } from './rpc.js';
import { SOCKET_MODE, claimSocketPath, prepareSocketDir, socketDir } from './socket-path.js';
import type { GroupInfo } from './users.js';

/** Who is at the other end of a connection (SO_PEERCRED). */
export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

export interface ListenerOptions {
  socketPath: string;
  /** Owns the socket and its directory; its members may connect (unless `allowUids`). */
  group: GroupInfo;
  /** Uids allowed to make requests; default: root and the members of `group`. */
  allowUids?: number[] | undefined;
  maxConnections: number;
  log?: Logger | undefined;
  /** A connection whose peer is allowed, paused: nothing of it has been read. */
  onConnection: (socket: Socket, peer: Peer) => void;
}

export interface Listener {
  /** Stop accepting (the socket file goes at once); resolves once every connection has closed. */
  close(): Promise<void>;
}

/** The socket's directory, ready (0750 root:GROUP), and its path free: nothing there, or a stale socket removed. */
export async function claimSocket(socketPath: string, gid: number): Promise<void> {
  prepareSocketDir(socketDir(socketPath), gid);
  await claimSocketPath(socketPath);
}

/** Listen on the claimed path. */
export async function listen(opts: ListenerOptions): Promise<Listener> {
  const { socketPath, group, log } = opts;
  const allowed = new Set(opts.allowUids ?? [0, ...group.uids]);
  /** Peers whose primary gid is the group are members too (unless an explicit uid list is given). */
  const allowPrimaryGid = opts.allowUids === undefined ? group.gid : undefined;

  const accept = (socket: Socket): void => {
    const peer = peerOf(socket);
    if (typeof peer === 'object' && (allowed.has(peer.uid) || peer.gid === allowPrimaryGid)) {
      opts.onConnection(socket, peer);
      return;
    }
    log?.warn({ peer }, 'connection refused: peer not allowed');
    const who = typeof peer === 'object' ? `uid ${peer.uid}` : `an unidentified peer (${peer})`;
    const err = new NetplumbError(
      ErrorCode.PRIVILEGE,
      `${who} may not use the netplumb daemon; ask for membership of group "${group.name}" or run as root`,
    );
    refuseConnection(socket, errorLine(null, err));
  };

  const server: Server = createServer({ pauseOnConnect: true }, accept);
  server.maxConnections = opts.maxConnections;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created 0600 (umask) and only then opened to the group: no window
      // in which it is wider than 0660, whatever the process umask is.
      const umask = process.umask(0o177);
      try {
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    chownSync(socketPath, 0, group.gid);
    chmodSync(socketPath, SOCKET_MODE);
  } catch (e) {
    server.close();
    throw e;
  }
  server.on('error', (e) => log?.error({ err: e }, 'server error'));
  return {
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The fd of an accepted unix socket: libuv's Pipe handle exposes it as `fd`. */
function socketFd(s: Socket): number | undefined {
  const handle = (s as unknown as { _handle?: { fd?: unknown } | null })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}

function peerOf(s: Socket): Peer | string {
  const fd = socketFd(s);
  if (fd === undefined) return 'no file descriptor';
  const cred = native().peerCredentials(fd);
  return isSysError(cred) ? sysErrorText(cred) : cred;
}
