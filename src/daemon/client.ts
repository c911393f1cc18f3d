/**
 * The daemon's client: the Engine API (attach, detach, list, gc) as JSON-RPC requests
 * over the daemon's unix socket, with the daemon's NetplumbErrors rebuilt as they were
 * thrown there. `openEngine` (open.ts, re-exported here) picks the daemon or the engine in
 * this process.
 *
 *   const client = await DaemonClient.connect('/run/netplumb/netplumb.sock');
 *   try { await client.attach(spec); } finally { await client.close(); }
 */
import { createConnection, type Socket } from 'node:net';
import { type JsonRpcError, parseObject, request as rpcRequest, type RpcParams } from 'jsonrpc-lite';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Attachment, AttachResult, DetachRequest, DetachResult } from '../plumb/plumber.js';
import type { GcOptions, GcResult } from '../plumb/gc.js';
import type { AttachSpec } from '../plumb/spec.js';
import type { Engine, ListFilter } from './engine.js';
import type { Guest } from './params.js';
import { LineSplitter, errorFromRpc, type DaemonIdentity, type Method } from './protocol.js';
import { defaultDaemonSocket } from './open.js';

export { DEFAULT_SOCKET_PATH } from './protocol.js';
export { defaultDaemonSocket, openEngine, type OpenEngineOptions } from './open.js';

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
const MUTATING: ReadonlySet<Method> = new Set(['attach', 'detach', 'gc']);

interface Pending {
  method: Method;
  resolve: (v: unknown) => void;
  reject: (e: NetplumbError) => void;
  timer: NodeJS.Timeout;
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

/** `/proc/self/ns/net` means the caller: over the socket it must name this process, not the daemon. */
function ownGuest<G extends Guest>(g: G): G {
  const self = /^\/proc\/(?:self|thread-self)\/ns\/net$/;
  if (typeof g === 'string') return (self.test(g) ? `pid:${process.pid}` : g) as G;
  const o = g as { path?: unknown };
  return (typeof o.path === 'string' && self.test(o.path) ? { pid: process.pid } : g) as G;
}

export class DaemonClient implements Engine {
  readonly via = 'daemon' as const;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #requestTimeoutMs: number;
  #nextId = 1;
  #closed: NetplumbError | undefined;

  private constructor(
    socket: Socket,
    readonly socketPath: string,
    opts: DaemonClientOptions,
  ) {
    this.#socket = socket;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const splitter = new LineSplitter(MAX_RESPONSE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const lines = splitter.push(chunk);
      if (lines === 'overflow') {
        this.#fail(
          new NetplumbError(
            ErrorCode.PROTOCOL,
            `the netplumb daemon sent an answer larger than ${MAX_RESPONSE_BYTES} bytes`,
          ),
        );
        return;
      }
      for (const line of lines) this.#onLine(line);
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      this.#fail(
        new NetplumbError(
          ErrorCode.UNAVAILABLE,
          `connection to the netplumb daemon at ${socketPath} failed: ${e.code ?? e.message}`,
          { errnoCode: e.code },
        ),
      ),
    );
    socket.on('close', () =>
      this.#fail(
        new NetplumbError(ErrorCode.UNAVAILABLE, `the netplumb daemon at ${socketPath} closed the connection`),
      ),
    );
    socket.unref();
  }

  /** Connect to the daemon; UNAVAILABLE when nothing serves there, PRIVILEGE when not allowed to connect. */
  static connect(socketPath = defaultDaemonSocket(), opts: DaemonClientOptions = {}): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new NetplumbError(ErrorCode.UNAVAILABLE, `connecting to the netplumb daemon at ${socketPath} timed out`),
        );
      }, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(connectError(socketPath, e));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new DaemonClient(socket, socketPath, opts));
      });
    });
  }

  #onLine(line: string): void {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      this.#fail(new NetplumbError(ErrorCode.PROTOCOL, 'the netplumb daemon sent something that is not JSON'));
      return;
    }
    const parsed = parseObject(obj);
    const type: string = parsed.type;
    const payload = parsed.payload as { id?: unknown; result?: unknown; error?: JsonRpcError };
    if (type === 'error' && payload.id === null) {
      // Not about one request: the daemon refused the connection (peer not allowed, message too large…).
      this.#fail(errorFromRpc(payload.error ?? {}));
      return;
    }
    const p = typeof payload.id === 'number' ? this.#pending.get(payload.id) : undefined;
    if (p === undefined || (type !== 'success' && type !== 'error')) return; // not ours (late answer after a timeout)
    this.#pending.delete(payload.id as number);
    clearTimeout(p.timer);
    if (this.#pending.size === 0) this.#socket.unref();
    if (type === 'success') p.resolve(payload.result);
    else p.reject(errorFromRpc(payload.error ?? {}));
  }

  /** Fail every request in flight (and all later ones) with `err`, adjusted to what each one was. */
  #fail(err: NetplumbError): void {
    this.#closed ??= err;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(MUTATING.has(p.method) && err.code === ErrorCode.UNAVAILABLE ? lost(p.method, err.message) : err);
    }
    this.#socket.destroy();
  }

  /** One request; its answer's result, or the NetplumbError the daemon reported. */
  call(method: Method, params?: RpcParams, timeoutMs = this.#requestTimeoutMs): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        if (this.#pending.size === 0) this.#socket.unref();
        const text = `no answer from the netplumb daemon within ${timeoutMs} ms`;
        reject(MUTATING.has(method) ? lost(method, text) : new NetplumbError(ErrorCode.UNAVAILABLE, text));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      this.#socket.ref();
      this.#socket.write(`${JSON.stringify(rpcRequest(id, method, params))}\n`);
    });
  }

  async attach(spec: AttachSpec): Promise<AttachResult> {
    const timeout = this.#requestTimeoutMs + (spec.waitUpMs ?? 0);
    return (await this.call('attach', { ...spec, guest: ownGuest(spec.guest) } as RpcParams, timeout)) as AttachResult;
  }

  async detach(req: DetachRequest): Promise<DetachResult> {
    return (await this.call('detach', { ...req, guest: ownGuest(req.guest) } as RpcParams)) as DetachResult;
  }

  async list(filter: ListFilter = {}): Promise<Attachment[]> {
    return (await this.call(
      'list',
      filter.guest === undefined ? {} : ({ guest: ownGuest(filter.guest) } as RpcParams),
    )) as Attachment[];
  }

  async gc(opts: GcOptions = {}): Promise<GcResult> {
    return (await this.call('gc', {
      dryRun: opts.dryRun === true,
      ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}),
    })) as GcResult;
  }

  async ping(timeoutMs?: number): Promise<void> {
    await this.call('ping', undefined, timeoutMs);
  }

  version(timeoutMs?: number): Promise<DaemonIdentity> {
    return this.call('version', undefined, timeoutMs) as Promise<DaemonIdentity>;
  }

  /** Hang up; requests still in flight fail (their outcome is the daemon's to finish). */
  async close(): Promise<void> {
    if (this.#socket.destroyed) return;
    this.#closed ??= new NetplumbError(ErrorCode.UNAVAILABLE, 'the daemon client is closed');
    if (this.#pending.size === 0) {
      // Nothing awaited: no need to wait for the daemon's side of a graceful hang-up.
      this.#socket.destroy();
      return;
    }
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.ref(); // keep the process alive until the hang-up is done
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
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
