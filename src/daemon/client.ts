/**
 * The daemon's client: the Engine API (attach, detach, list, gc) as JSON-RPC requests
 * over the daemon's unix socket, with the daemon's NetplumbErrors rebuilt as they were
 * thrown there. `openEngine` (src/engine/open.ts) picks the daemon or the engine in this
 * process.
 *
 * The connection is opened again on demand: the daemon hangs up connections that stay idle
 * (30 s by default) and when it shuts down, and says so first (the `closing` notice), so a
 * long-lived client survives both; requests the daemon had not read when it hung up are
 * sent again on the new connection.
 *
 *   const client = await DaemonClient.connect('/run/netplumb/netplumb.sock');
 *   try { await client.attach(spec); } finally { await client.close(); }
 */
import { createConnection, type Socket } from 'node:net';
import { type JsonRpcError, parseObject, request as rpcRequest, type RpcParams } from 'jsonrpc-lite';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Attachment, AttachResult, DetachRequest, DetachResult } from '../plumb/plumber.js';
import type { GcOptions, GcResult } from '../plumb/gc.js';
import type { DeclaredAttachment } from '../plumb/declared.js';
import type { AttachSpec } from '../plumb/spec.js';
import type { Engine, ListFilter, NetworkOps, UplinkOps } from '../engine/engine.js';
import type { EventsReader, EventsResult, EventsSince } from '../events/event.js';
import type { Method } from './methods.js';
import type { Guest } from './params.js';
import { LineSplitter } from '../line-splitter.js';
import { CLOSING_NOTICE, defaultDaemonSocket, errorFromRpc, type DaemonIdentity } from './protocol.js';

export { DEFAULT_SOCKET_PATH, defaultDaemonSocket } from './protocol.js';

export interface DaemonClientOptions {
  /** Per request (default 120 s; an attach's `waitUpMs` is added to it). */
  requestTimeoutMs?: number;
  /** Connecting (default 5 s). */
  connectTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Largest answer accepted (a list of every attachment of a big host fits many times). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Methods that change something: when their answer is lost, the outcome is unknown. */
const MUTATING: ReadonlySet<Method> = new Set([
  'attach',
  'detach',
  'gc',
  'uplink.add',
  'uplink.del',
  'network.create',
  'network.delete',
]);

interface Pending {
  id: number;
  method: Method;
  /** The request's line, kept to be sent again after a `closing` notice. */
  line: string;
  resolve: (v: unknown) => void;
  reject: (e: NetplumbError) => void;
  timer: NodeJS.Timeout;
  /** The connection it was sent on; undefined while it waits for one. */
  link?: Link;
}

/** One connection to the daemon and the requests sent on it that have no answer yet. */
interface Link {
  socket: Socket;
  pending: Map<number, Pending>;
}

function connectError(path: string, e: NodeJS.ErrnoException): NetplumbError {
  const code = e.code ?? 'error';
  if (code === 'EACCES' || code === 'EPERM') {
    return new NetplumbError(
      ErrorCode.PRIVILEGE,
      `cannot connect to the netplumb daemon at ${path}: permission denied (root or the daemon's group only)`,
      { errnoCode: code, syscall: 'connect' },
    );
  }
  return new NetplumbError(
    ErrorCode.UNAVAILABLE,
    `cannot connect to the netplumb daemon at ${path}: ${code}${code === 'ENOENT' ? ' (is netplumb serve running?)' : ''}`,
    { errnoCode: code, syscall: 'connect' },
  );
}

/** A connected socket to `path`, or the connect error as a NetplumbError. */
export function openSocket(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetplumbError(ErrorCode.UNAVAILABLE, `connecting to the netplumb daemon at ${path} timed out`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(path, e));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/**
 * `/proc/self/ns/net` means the caller: handed to the daemon it must name the caller's
 * process (`pid`, by default this one), not the daemon.
 */
export function callerGuest<G extends Guest>(g: G, pid = process.pid): G {
  const self = /^\/proc\/(?:self|thread-self)\/ns\/net$/;
  if (typeof g === 'string') return (self.test(g) ? `pid:${pid}` : g) as G;
  const o = g as { path?: unknown };
  return (typeof o.path === 'string' && self.test(o.path) ? { pid } : g) as G;
}

export class DaemonClient implements Engine, EventsReader {
  readonly via = 'daemon' as const;
  readonly uplinks: UplinkOps = {
    add: (spec) => this.call('uplink.add', spec as unknown as RpcParams) as ReturnType<UplinkOps['add']>,
    del: (req) => this.call('uplink.del', req as unknown as RpcParams) as ReturnType<UplinkOps['del']>,
    list: () => this.call('uplink.list') as ReturnType<UplinkOps['list']>,
  };
  readonly networks: NetworkOps = {
    create: (spec) => this.call('network.create', spec as unknown as RpcParams) as ReturnType<NetworkOps['create']>,
    delete: (name, o = {}) =>
      this.call('network.delete', { name, force: o.force === true }) as ReturnType<NetworkOps['delete']>,
    list: () => this.call('network.list') as ReturnType<NetworkOps['list']>,
  };
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  /** The open connection; undefined before the next request opens one. */
  #link: Link | undefined;
  /** A connection being opened, and the requests waiting for it. */
  #linking: Promise<void> | undefined;
  readonly #waiting = new Set<Pending>();
  #nextId = 1;
  #closed: NetplumbError | undefined;

  private constructor(
    readonly socketPath: string,
    opts: DaemonClientOptions,
  ) {
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /** Connect to the daemon; UNAVAILABLE when nothing serves there, PRIVILEGE when not allowed to connect. */
  static async connect(socketPath = defaultDaemonSocket(), opts: DaemonClientOptions = {}): Promise<DaemonClient> {
    const client = new DaemonClient(socketPath, opts);
    client.#attach(await openSocket(socketPath, client.#connectTimeoutMs));
    return client;
  }

  #attach(socket: Socket): Link {
    const link: Link = { socket, pending: new Map() };
    this.#link = link;
    const splitter = new LineSplitter(MAX_RESPONSE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const lines = splitter.push(chunk);
      if (lines === 'overflow') {
        this.#drop(
          link,
          new NetplumbError(
            ErrorCode.PROTOCOL,
            `the netplumb daemon sent an answer larger than ${MAX_RESPONSE_BYTES} bytes`,
          ),
        );
        return;
      }
      for (const line of lines) this.#onLine(link, line);
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      this.#drop(
        link,
        new NetplumbError(
          ErrorCode.UNAVAILABLE,
          `connection to the netplumb daemon at ${this.socketPath} failed: ${e.code ?? e.message}`,
          { errnoCode: e.code },
        ),
      ),
    );
    socket.on('close', () =>
      this.#drop(
        link,
        new NetplumbError(ErrorCode.UNAVAILABLE, `the netplumb daemon at ${this.socketPath} closed the connection`),
      ),
    );
    socket.unref();
    return link;
  }

  #onLine(link: Link, line: string): void {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      this.#drop(link, new NetplumbError(ErrorCode.PROTOCOL, 'the netplumb daemon sent something that is not JSON'));
      return;
    }
    const parsed = parseObject(obj);
    const type: string = parsed.type;
    const payload = parsed.payload as { id?: unknown; result?: unknown; error?: JsonRpcError; method?: unknown };
    if (type === 'notification' && payload.method === CLOSING_NOTICE) {
      // Every request answered on this connection has been answered; the rest were not read.
      this.#resend(link);
      return;
    }
    if (type === 'error' && payload.id === null) {
      // Not about one request: the daemon refused the connection (peer not allowed, message too large…).
      this.#drop(link, errorFromRpc(payload.error ?? {}));
      return;
    }
    const p = typeof payload.id === 'number' ? link.pending.get(payload.id) : undefined;
    if (p === undefined || (type !== 'success' && type !== 'error')) return; // not ours (late answer after a timeout)
    this.#settled(p);
    if (type === 'success') p.resolve(payload.result);
    else p.reject(errorFromRpc(payload.error ?? {}));
  }

  /** `p` is answered or given up: forget it, and let the process exit once nothing is awaited. */
  #settled(p: Pending): void {
    clearTimeout(p.timer);
    this.#waiting.delete(p);
    if (p.link === undefined) return;
    p.link.pending.delete(p.id);
    if (p.link.pending.size === 0) p.link.socket.unref();
  }

  /** The connection ended with `err`: fail what it had in flight, adjusted to what each request was. */
  #drop(link: Link, err: NetplumbError): void {
    if (this.#link === link) this.#link = undefined;
    for (const p of link.pending.values()) {
      this.#settled(p);
      p.reject(MUTATING.has(p.method) && err.code === ErrorCode.UNAVAILABLE ? lost(p.method, err.message) : err);
    }
    link.socket.destroy();
  }

  /** The daemon hangs up `link` without having read its unanswered requests: send them on a new connection. */
  #resend(link: Link): void {
    if (this.#link === link) this.#link = undefined;
    const unread = [...link.pending.values()];
    link.pending.clear();
    link.socket.destroy();
    for (const p of unread) {
      p.link = undefined;
      this.#send(p);
    }
  }

  /** Write `p` on the open connection, or queue it for the one being opened (also when the daemon has ended this one). */
  #send(p: Pending): void {
    const link = this.#link;
    if (link !== undefined && !link.socket.destroyed && link.socket.writable) {
      p.link = link;
      link.pending.set(p.id, p);
      link.socket.ref();
      link.socket.write(p.line);
      return;
    }
    this.#waiting.add(p);
    this.#linking ??= this.#reconnect();
  }

  /** Open a new connection for the queued requests; they fail as they are (never sent) if it cannot be opened. */
  async #reconnect(): Promise<void> {
    let socket: Socket | undefined;
    let failure: NetplumbError | undefined;
    try {
      socket = await openSocket(this.socketPath, this.#connectTimeoutMs);
    } catch (e) {
      failure = e as NetplumbError;
    }
    this.#linking = undefined;
    if (this.#closed !== undefined) {
      socket?.destroy();
      failure = this.#closed;
    }
    const queued = [...this.#waiting];
    this.#waiting.clear();
    if (socket !== undefined && failure === undefined) this.#attach(socket);
    for (const p of queued) {
      if (failure === undefined) this.#send(p);
      else {
        this.#settled(p);
        p.reject(failure);
      }
    }
  }

  /** One request; its answer's result, or the NetplumbError the daemon reported. */
  call(method: Method, params?: RpcParams, timeoutMs = this.#requestTimeoutMs): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        id,
        method,
        line: `${JSON.stringify(rpcRequest(id, method, params))}\n`,
        resolve,
        reject,
        timer: setTimeout(() => {
          const sent = p.link !== undefined;
          this.#settled(p);
          const text = `no answer from the netplumb daemon within ${timeoutMs} ms`;
          reject(sent && MUTATING.has(method) ? lost(method, text) : new NetplumbError(ErrorCode.UNAVAILABLE, text));
        }, timeoutMs),
      };
      this.#send(p);
    });
  }

  async attach(spec: AttachSpec): Promise<AttachResult> {
    const timeout = this.#requestTimeoutMs + (spec.waitUpMs ?? 0);
    return (await this.call(
      'attach',
      { ...spec, guest: callerGuest(spec.guest) } as RpcParams,
      timeout,
    )) as AttachResult;
  }

  async detach(req: DetachRequest): Promise<DetachResult> {
    return (await this.call('detach', { ...req, guest: callerGuest(req.guest) } as RpcParams)) as DetachResult;
  }

  async list(filter: ListFilter = {}): Promise<Attachment[]> {
    return (await this.call(
      'list',
      filter.guest === undefined ? {} : ({ guest: callerGuest(filter.guest) } as RpcParams),
    )) as Attachment[];
  }

  async gc(opts: GcOptions = {}): Promise<GcResult> {
    return (await this.call('gc', {
      dryRun: opts.dryRun === true,
      ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}),
    })) as GcResult;
  }

  async declared(): Promise<DeclaredAttachment[]> {
    return (await this.call('declared')) as DeclaredAttachment[];
  }

  /** The daemon's history after `since` (a seq, or an ISO 8601 time). */
  events(since?: EventsSince): Promise<EventsResult> {
    return this.call('events', since === undefined ? {} : { since }) as Promise<EventsResult>;
  }

  async ping(timeoutMs?: number): Promise<void> {
    await this.call('ping', undefined, timeoutMs);
  }

  version(timeoutMs?: number): Promise<DaemonIdentity> {
    return this.call('version', undefined, timeoutMs) as Promise<DaemonIdentity>;
  }

  /** Hang up; requests still in flight fail (their outcome is the daemon's to finish). */
  async close(): Promise<void> {
    if (this.#closed !== undefined) return;
    this.#closed = new NetplumbError(ErrorCode.UNAVAILABLE, 'the daemon client is closed');
    const link = this.#link;
    if (link === undefined || link.socket.destroyed) return;
    if (link.pending.size === 0) {
      // Nothing awaited: no need to wait for the daemon's side of a graceful hang-up.
      link.socket.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      link.socket.once('close', () => resolve());
      link.socket.ref(); // keep the process alive until the hang-up is done
      link.socket.end();
      setTimeout(() => link.socket.destroy(), 1000).unref();
    });
  }
}

function lost(method: Method, why: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.OUTCOME_UNKNOWN,
    `${why}; the ${method} may or may not have been done: check with netplumb list`,
    { method },
  );
}
