/**
 * `netplumb serve`: the long-lived daemon. One Plumber (its host netlink socket, its OVSDB
 * connection and monitor-fed cache) serves every client, so concurrent requests from
 * many processes share the engine's batching (one OVSDB transaction, one bulk delete).
 *
 * API: JSON-RPC 2.0 over a unix socket, one message per line (protocol.ts: the framing and
 * the error codes; methods.ts: the methods). Here the parts are put together:
 *   - listener.ts: the socket path, its permissions, SO_PEERCRED (faults.md H1–H3);
 *   - connection.ts: framing, size bound, idle timer, hang-up, per connection (H4);
 *   - rpc.ts: a line into a request; dispatch.ts: admission control (maxConcurrent,
 *     draining) and the method table's handler;
 *   - front-door.ts: a connection of the native front door, one command call run here
 *     (a program of `programs`) with the same admission for its engine calls;
 *   - ../events: the history of what the daemon changed and why (recorded by the method
 *     table, so every path records alike), from `daemon-start` to `daemon-stop`.
 *
 * close() is graceful: stop accepting (the socket file goes at once, so new clients act
 * directly), answer new requests on open connections with UNAVAILABLE, let the requests
 * in flight finish and their answers be written, then hang up the connections (with the
 * `closing` notice) and close the engine.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { DirectEngine, type Engine } from '../engine/engine.js';
import { EventLog, type EventLogOptions } from '../events/log.js';
import type { GcResult } from '../plumb/gc.js';
import { dockerSocketPath } from '../guest/docker-api.js';
import { resolveNbRemote, resolveRemote } from '../ovsdb/remote.js';
import { resolveStateDir } from '../persist/store.js';
import { Plumber, type PlumberOptions } from '../plumb/plumber.js';
import type { ProgramTable } from '../cli/io.js';
import { CLOSE_GRACE_MS, Connection } from './connection.js';
import { Dispatcher } from './dispatch.js';
import { serveFrontCall } from './front-door.js';
import { startGcSchedule } from './gc-timer.js';
import { watchEngine } from './watch.js';
import { type Listener, type Peer, claimSocket, listen } from './listener.js';
import { startIdleTrim } from './memory.js';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_SOCKET_PATH,
  type DaemonIdentity,
  NETPLUMB_VERSION,
  PROTOCOL_VERSION,
} from './protocol.js';
import { lookupGroup } from './users.js';

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
  /** Follow the container engine's events to apply declared attachments (default true; not with `engine`). */
  watchEngine?: boolean;
  /**
   * The programs the native front door may call (`netplumb serve`: netplumb, pipework,
   * netplumb-cni; tests give their own). Default none: every call is handed back to its caller.
   */
  programs?: ProgramTable;
  /** The history's bounds (default 10 000 events, 8 MiB). */
  events?: EventLogOptions;
}

export interface Daemon {
  readonly socketPath: string;
  /** Resolves once the engine's events are followed and the declarations reconciled (or the first attempt failed). */
  readonly following: Promise<void>;
  /** Requests being handled now. */
  readonly inFlight: number;
  /** The history. */
  readonly events: EventLog;
  /** Graceful: stop accepting, finish the requests in flight, then close the engine. Idempotent. */
  close(): Promise<void>;
}

/** Requests one daemon runs at once unless told otherwise; more are answered "busy". */
export const DEFAULT_MAX_CONCURRENT = 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 1024;

export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const socketPath = opts.socketPath ?? DEFAULT_SOCKET_PATH;
  const log = opts.logger?.child({ component: 'daemon' });
  const group = lookupGroup(opts.group ?? 'root');
  await claimSocket(socketPath, group.gid);

  const events = new EventLog(opts.events);
  events.record({
    kind: 'daemon-start',
    why: `netplumb serve started (pid ${process.pid}, socket ${socketPath})`,
    result: 'ok',
  });
  const plumber = opts.engine === undefined ? Plumber.open(plumberOptionsOf(opts)) : undefined;
  const engine = opts.engine ?? new DirectEngine(plumber as Plumber);
  const identity: DaemonIdentity = {
    name: 'netplumb',
    version: NETPLUMB_VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    ovsdb: resolveRemote(opts.plumberOptions?.ovsDb),
    dockerSocket: dockerSocketPath(opts.plumberOptions?.dockerHost),
    ovnNb: resolveNbRemote(opts.plumberOptions?.ovnNb),
    stateDir: resolveStateDir(opts.plumberOptions?.stateDir),
  };
  const trim = startIdleTrim(log);
  const dispatcher = new Dispatcher({
    maxConcurrent: opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
    context: { engine, identity, events },
    onBusy: () => trim.busy(),
    onIdle: () => trim.idle(),
  });
  const connections = new Set<Connection>();
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  /** Serve an accepted, allowed connection. */
  const serve = (socket: Socket, peer: Peer): void => {
    const connLog = log?.child({ peer });
    const conn = new Connection(socket, {
      maxRequestBytes,
      idleTimeoutMs,
      log: connLog,
      draining: () => dispatcher.draining,
      serve: (line, reply, sink) =>
        dispatcher.serve(line, reply, { origin: { via: 'api', uid: peer.uid, pid: peer.pid }, sink }, connLog),
      serveFrontCall: (sock, head) =>
        serveFrontCall(sock, head, {
          programs: opts.programs ?? {},
          dispatcher,
          identity,
          socketPath,
          maxRequestBytes,
          idleTimeoutMs,
          peer,
          log: connLog,
        }),
    });
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  };

  let listener: Listener;
  try {
    listener = await listen({
      socketPath,
      group,
      allowUids: opts.allowUids,
      maxConnections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      log,
      onConnection: serve,
    });
  } catch (e) {
    trim.stop();
    await engine.close();
    throw e;
  }
  log?.info(
    { socket: socketPath, group: group.name, allowUids: opts.allowUids, gcIntervalSeconds: opts.gcIntervalSeconds },
    'serving',
  );
  // Declared attachments: made again on each start of their container, from the engine's events.
  const watcher =
    plumber !== undefined && opts.watchEngine !== false
      ? watchEngine({
          declared: plumber.declared,
          record: (e) => events.record(e),
          socketPath: identity.dockerSocket,
          ...(opts.logger ? { log: opts.logger } : {}),
        })
      : undefined;
  // Reconcile what a killed predecessor left half done, then collect periodically if asked
  // to: each run a gc of the daemon's own through the method table, recorded like a request's.
  const gcRuns = startGcSchedule(
    (o, what) =>
      dispatcher.runOwn('gc', { dryRun: false, ...o }, { origin: { via: 'daemon', what } }) as Promise<GcResult>,
    {
      ...(opts.gcIntervalSeconds !== undefined ? { intervalSeconds: opts.gcIntervalSeconds } : {}),
      ...(opts.gcGraceSeconds !== undefined ? { graceSeconds: opts.gcGraceSeconds } : {}),
      ...(log ? { log } : {}),
    },
  );

  let closed: Promise<void> | undefined;
  return {
    socketPath,
    following: watcher?.ready ?? Promise.resolve(),
    get inFlight() {
      return dispatcher.inFlight;
    },
    events,
    close() {
      closed ??= (async () => {
        dispatcher.drain();
        log?.info({ inFlight: dispatcher.inFlight }, 'shutting down: finishing requests in flight');
        const listenerClosed = listener.close();
        await gcRuns.stop();
        await watcher?.close();
        trim.stop();
        await dispatcher.idle();
        // The followers get it before the connections' closing notice.
        events.record({ kind: 'daemon-stop', why: 'netplumb serve stopping', result: 'ok' });
        for (const c of connections) c.close('shutdown');
        const cutOff = setTimeout(() => {
          for (const c of connections) c.destroy();
        }, CLOSE_GRACE_MS);
        await listenerClosed;
        clearTimeout(cutOff);
        await engine.close();
        log?.info('stopped');
      })();
      return closed;
    },
  };
}

/** The engine's options: the daemon's logger unless they name their own. */
function plumberOptionsOf(opts: DaemonOptions): PlumberOptions {
  return {
    ...opts.plumberOptions,
    ...(opts.logger && !opts.plumberOptions?.logger ? { logger: opts.logger } : {}),
  };
}
