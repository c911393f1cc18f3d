/**
 * `netplumb serve`: the long-lived daemon. One Plumber (its host netlink socket, its OVSDB
 * connection and monitor-fed cache) serves every client, so concurrent requests from
 * many processes share the engine's batching (one OVSDB transaction, one bulk delete).
 *
 * API: JSON-RPC 2.0 over a unix socket, one message per line (see protocol.ts for the
 * framing, the methods and the error-code mapping). Security (faults.md H1–H4):
 *   - the socket lives in a root-owned directory, mode 0750, group GROUP; the socket is
 *     0660 root:GROUP, so only root and the group can connect at all (H1);
 *   - the path is claimed without following or removing anything that is not a stale
 *     socket (H2, socket-path.ts);
 *   - each connection's peer (SO_PEERCRED) is checked as it is accepted, before a byte of
 *     it is read: root and the group's members by default, or an explicit uid list (H3);
 *   - a message is at most `maxRequestBytes` and MAX_DEPTH levels deep; at most
 *     `maxConcurrent` requests run at once (beyond: UNAVAILABLE "busy", retryable); a
 *     client that stays silent, or drips an unfinished message, for `idleTimeoutMs` is
 *     disconnected; at most `maxConnections` connections (H4).
 *
 * close() is graceful: stop accepting (the socket file goes at once, so new clients act
 * directly), answer new requests on open connections with UNAVAILABLE, let the requests
 * in flight finish and their answers be written, then close the connections and the engine.
 */
import { chmodSync, chownSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { JsonRpcError, error as rpcError, parseObject, success as rpcSuccess, type ID } from 'jsonrpc-lite';
import { ErrorCode, NetplumbError, isSysError, sysErrorText } from '../errors.js';
import { native } from '../native.js';
import { dockerSocketPath } from '../guest/docker-api.js';
import { resolveNbRemote, resolveRemote } from '../ovsdb/remote.js';
import { Plumber, type PlumberOptions } from '../plumb/plumber.js';
import { DirectEngine, type Engine } from './engine.js';
import { startGcSchedule } from './gc-timer.js';
import { attachParams, detachParams, gcParams, listParams, noParams } from './params.js';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_SOCKET_PATH,
  type DaemonIdentity,
  LineSplitter,
  MAX_DEPTH,
  METHODS,
  NETPLUMB_VERSION,
  PROTOCOL_VERSION,
  RPC_INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND,
  RPC_PARSE_ERROR,
  jsonDepthExceeds,
  rpcCodeFor,
  type Method,
} from './protocol.js';
import { SOCKET_MODE, claimSocketPath, prepareSocketDir, socketDir } from './socket-path.js';
import { lookupGroup } from './users.js';
import { startIdleTrim } from './memory.js';

export interface DaemonOptions {
  /** Default /run/netplumb/netplumb.sock. */
  socketPath?: string;
  /** Group that owns the socket and its directory, and whose members may connect (default root). */
  group?: string;
  /** Uids allowed to make requests (SO_PEERCRED); default: root and the members of `group`. */
  allowUids?: number[];
  plumberOptions?: PlumberOptions;
  /** Longest request message in bytes (default 1 MiB). */
  maxRequestBytes?: number;
  /** Requests handled at once, over all connections (default 1024); beyond: UNAVAILABLE "busy". */
  maxConcurrent?: number;
  /** A connection with nothing in flight that sends nothing, or leaves a message unfinished, this long is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** Open connections at most (default 1024); further ones are closed as they come. */
  maxConnections?: number;
  logger?: Logger;
  /** The engine to serve (tests); default: a Plumber opened with `plumberOptions`. */
  engine?: Engine;
  /** Run gc every this many seconds (0 or absent: never), logging what it removed. */
  gcIntervalSeconds?: number;
  /** Grace period of the daemon's gc runs: the reconcile at start, and the periodic ones (default: gc's, 60 s). */
  gcGraceSeconds?: number;
}

export interface Daemon {
  readonly socketPath: string;
  /** Requests being handled now. */
  readonly inFlight: number;
  /** Graceful: stop accepting, finish the requests in flight, then close the engine. Idempotent. */
  close(): Promise<void>;
}

/** Requests one daemon runs at once unless told otherwise; more are answered "busy". */
export const DEFAULT_MAX_CONCURRENT = 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 1024;
/** After the last answer is written, how long a client gets to hang up before it is cut off. */
const CLOSE_GRACE_MS = 2000;

interface Peer {
  pid: number;
  uid: number;
  gid: number;
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

function asNetplumbError(e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.INTERNAL,
    `internal error in the daemon: ${e instanceof Error ? e.message : String(e)}`,
  );
}

/** A JSON-RPC error object carrying the NetplumbError as data. */
function errorLine(id: ID, err: NetplumbError, rpcCode = rpcCodeFor(err.code)): string {
  return `${JSON.stringify(rpcError(id, new JsonRpcError(err.message, rpcCode, err.toJSON())))}\n`;
}

const isMethod = (m: string): m is Method => (METHODS as readonly string[]).includes(m);

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const socketPath = opts.socketPath ?? DEFAULT_SOCKET_PATH;
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const maxConcurrent = opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const log = opts.logger?.child({ component: 'daemon' });

  const group = lookupGroup(opts.group ?? 'root');
  const allowed = new Set(opts.allowUids ?? [0, ...group.uids]);
  /** Peers whose primary gid is the group are members too (unless an explicit uid list is given). */
  const allowPrimaryGid = opts.allowUids === undefined ? group.gid : undefined;

  prepareSocketDir(socketDir(socketPath), group.gid);
  await claimSocketPath(socketPath);

  const engine =
    opts.engine ??
    new DirectEngine(
      Plumber.open({
        ...opts.plumberOptions,
        ...(opts.logger && !opts.plumberOptions?.logger ? { logger: opts.logger } : {}),
      }),
    );
  const identity: DaemonIdentity = {
    name: 'netplumb',
    version: NETPLUMB_VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    ovsdb: resolveRemote(opts.plumberOptions?.ovsDb),
    dockerSocket: dockerSocketPath(opts.plumberOptions?.dockerHost),
    ovnNb: resolveNbRemote(opts.plumberOptions?.ovnNb),
  };
  const connections = new Set<Socket>();
  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];

  const trim = startIdleTrim(log);
  const finished = () => {
    inFlight--;
    if (inFlight === 0) {
      trim.idle();
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  async function dispatch(method: Method, params: unknown, peer: Peer): Promise<unknown> {
    switch (method) {
      case 'attach': {
        const spec = attachParams(params);
        log?.info({ peer, method, host: spec.host, guest: spec.guest }, 'request');
        return engine.attach(spec);
      }
      case 'detach': {
        const req = detachParams(params);
        log?.info({ peer, method, guest: req.guest, ifname: req.ifname }, 'request');
        return engine.detach(req);
      }
      case 'list':
        return engine.list(listParams(params));
      case 'gc': {
        const o = gcParams(params);
        log?.info({ peer, method, dryRun: o.dryRun, graceSeconds: o.graceSeconds }, 'request');
        return engine.gc(o);
      }
      case 'ping':
        noParams(params);
        return 'pong';
      case 'version':
        noParams(params);
        return identity;
    }
  }

  function serve(socket: Socket): void {
    const peer = peerOf(socket);
    const ok = typeof peer === 'object' && (allowed.has(peer.uid) || peer.gid === allowPrimaryGid);
    if (!ok) {
      // Nothing was read (pauseOnConnect): answer and hang up.
      log?.warn({ peer }, 'connection refused: peer not allowed');
      const who = typeof peer === 'object' ? `uid ${peer.uid}` : `an unidentified peer (${peer})`;
      socket.on('error', () => undefined);
      socket.end(
        errorLine(
          null,
          new NetplumbError(
            ErrorCode.PRIVILEGE,
            `${who} may not use the netplumb daemon; ask for membership of group "${group.name}" or run as root`,
          ),
        ),
      );
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    connections.add(socket);
    const splitter = new LineSplitter(maxRequestBytes);
    let pending = 0;
    /** When the message now being received began (its first byte), if one is unfinished. */
    let partialSince: number | undefined;
    let closing = false;

    const send = (line: string) => {
      if (!socket.destroyed && socket.writable) socket.write(line);
    };
    const hangUp = (line?: string) => {
      if (closing) return;
      closing = true;
      socket.pause();
      if (line !== undefined) socket.end(line);
      else socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    };

    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => {
      if (pending > 0) {
        socket.setTimeout(idleTimeoutMs); // waiting on the engine, not on the client
        return;
      }
      log?.info({ peer }, 'idle connection closed');
      hangUp(
        splitter.pending > 0
          ? errorLine(
              null,
              new NetplumbError(
                ErrorCode.UNAVAILABLE,
                `request not completed within ${idleTimeoutMs} ms; connection closed`,
              ),
            )
          : undefined,
      );
    });
    socket.on('error', (e) => log?.debug({ peer, err: e.message }, 'connection error'));
    socket.on('close', () => connections.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      const lines = splitter.push(chunk);
      if (lines === 'overflow') {
        log?.warn({ peer, limit: maxRequestBytes }, 'request too large; connection closed');
        hangUp(
          errorLine(
            null,
            new NetplumbError(
              ErrorCode.INVALID_ARGUMENT,
              `request larger than ${maxRequestBytes} bytes; connection closed`,
              { field: 'request', limit: maxRequestBytes },
            ),
            RPC_INVALID_REQUEST,
          ),
        );
        return;
      }
      const now = Date.now();
      if (splitter.pending === 0) partialSince = undefined;
      else if (lines.length > 0 || partialSince === undefined) partialSince = now;
      else if (now - partialSince > idleTimeoutMs) {
        hangUp(
          errorLine(
            null,
            new NetplumbError(
              ErrorCode.UNAVAILABLE,
              `request not completed within ${idleTimeoutMs} ms; connection closed`,
            ),
          ),
        );
        return;
      }
      for (const line of lines) handle(line);
    });
    socket.resume();

    function handle(line: string): void {
      if (jsonDepthExceeds(line, MAX_DEPTH)) {
        send(
          errorLine(
            null,
            new NetplumbError(ErrorCode.INVALID_ARGUMENT, `request nested deeper than ${MAX_DEPTH} levels`, {
              field: 'request',
              limit: MAX_DEPTH,
            }),
            RPC_INVALID_REQUEST,
          ),
        );
        return;
      }
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        send(
          errorLine(
            null,
            new NetplumbError(ErrorCode.PROTOCOL, 'request is not valid JSON (one JSON-RPC 2.0 object per line)'),
            RPC_PARSE_ERROR,
          ),
        );
        return;
      }
      if (Array.isArray(obj)) {
        send(
          errorLine(
            null,
            new NetplumbError(ErrorCode.UNSUPPORTED, 'JSON-RPC batches are not served; send one request per line'),
            RPC_INVALID_REQUEST,
          ),
        );
        return;
      }
      const parsed = parseObject(obj);
      const type: string = parsed.type;
      if (type === 'notification') {
        log?.debug({ peer }, 'notification ignored');
        return;
      }
      if (type !== 'request') {
        const rawId = (obj as { id?: unknown } | null)?.id;
        const id =
          typeof rawId === 'string' || (typeof rawId === 'number' && Number.isSafeInteger(rawId)) ? rawId : null;
        send(
          errorLine(
            id,
            new NetplumbError(
              ErrorCode.PROTOCOL,
              'not a JSON-RPC 2.0 request ({"jsonrpc":"2.0","id":…,"method":…,"params":…})',
            ),
            RPC_INVALID_REQUEST,
          ),
        );
        return;
      }
      const { id, method, params } = parsed.payload as { id: ID; method: string; params?: unknown };
      if (!isMethod(method)) {
        send(
          errorLine(
            id,
            new NetplumbError(
              ErrorCode.UNSUPPORTED,
              `unknown method ${JSON.stringify(method.slice(0, 64))}; methods: ${METHODS.join(', ')}`,
              { field: 'method' },
            ),
            RPC_METHOD_NOT_FOUND,
          ),
        );
        return;
      }
      if (draining) {
        send(
          errorLine(
            id,
            new NetplumbError(
              ErrorCode.UNAVAILABLE,
              'the netplumb daemon is shutting down; retry (the command acts directly once it is gone)',
            ),
          ),
        );
        return;
      }
      // ping and version do no engine work: they stay answerable when the engine is busy.
      if (inFlight >= maxConcurrent && method !== 'ping' && method !== 'version') {
        send(
          errorLine(
            id,
            new NetplumbError(ErrorCode.UNAVAILABLE, `busy: ${maxConcurrent} requests in flight; retry`, {
              limit: maxConcurrent,
            }),
          ),
        );
        return;
      }
      inFlight++;
      trim.busy();
      pending++;
      const peerInfo = peer as Peer;
      dispatch(method, params, peerInfo)
        .then(
          (result) => send(`${JSON.stringify(rpcSuccess(id, (result ?? null) as object | null))}\n`),
          (e: unknown) => {
            const err = asNetplumbError(e);
            if (err.code === ErrorCode.INTERNAL) log?.error({ peer: peerInfo, method, err: e }, 'request failed');
            else log?.info({ peer: peerInfo, method, code: err.code, msg: err.message }, 'request failed');
            send(errorLine(id, err));
          },
        )
        .finally(() => {
          pending--;
          finished();
          if (draining && pending === 0) hangUp();
        });
    }
  }

  const server: Server = createServer({ pauseOnConnect: true }, serve);
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
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
    await engine.close();
    throw e;
  }
  server.on('error', (e) => log?.error({ err: e }, 'server error'));
  log?.info(
    { socket: socketPath, group: group.name, allowUids: opts.allowUids, gcIntervalSeconds: opts.gcIntervalSeconds },
    'serving',
  );
  // Reconcile what a killed predecessor left half done, then collect periodically if asked to.
  const gcRuns = startGcSchedule(engine, {
    ...(opts.gcIntervalSeconds !== undefined ? { intervalSeconds: opts.gcIntervalSeconds } : {}),
    ...(opts.gcGraceSeconds !== undefined ? { graceSeconds: opts.gcGraceSeconds } : {}),
    ...(log ? { log } : {}),
  });

  let closed: Promise<void> | undefined;
  return {
    socketPath,
    get inFlight() {
      return inFlight;
    },
    close() {
      closed ??= (async () => {
        draining = true;
        log?.info({ inFlight }, 'shutting down: finishing requests in flight');
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gcRuns.stop();
        trim.stop();
        if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
        for (const s of connections) s.end();
        const cutOff = setTimeout(() => {
          for (const s of connections) s.destroy();
        }, CLOSE_GRACE_MS);
        await serverClosed;
        clearTimeout(cutOff);
        await engine.close();
        log?.info('stopped');
      })();
      return closed;
    },
  };
}
