/**
 * One JSON-RPC 1.0 session with ovsdb-server over a unix socket or TCP.
 *
 * - answers the server's `echo`; sends its own echo after `probeIntervalMs` of silence
 *   and declares the connection dead when nothing arrives for another interval;
 * - per-request deadlines;
 * - reconnects with capped exponential backoff and jitter; when the attempts run out the
 *   queued requests fail with UNAVAILABLE (nothing crashes);
 * - a request in flight when the connection drops fails with OUTCOME_UNKNOWN, unless it
 *   was marked idempotent (read-only): those are sent again after the reconnect.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError, describeErrno } from '../errors.js';
import {
  type Json,
  type RpcId,
  type RpcMessage,
  describeRpcError,
  encodeRequest,
  encodeResponse,
  parseRpcMessage,
} from './jsonrpc.js';
import { parseRemote, resolveRemote, type Remote } from './remote.js';
import { JsonStreamSplitter, type JsonSplitterOptions } from './stream.js';

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts after a drop before giving up (default 10); a later request starts over. */
  maxAttempts?: number;
}

export interface ConnectionOptions {
  /** `unix:/path` or `tcp:host:port`; default from $OVS_DB, $OVS_RUNDIR, then /run/openvswitch. */
  remote?: string;
  logger?: Logger;
  /** Default deadline of a request (ms, default 10000). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Idle time before our echo probe, and the time allowed for its answer (ms, default 5000; 0 = off). */
  probeIntervalMs?: number;
  reconnect?: ReconnectOptions;
  /** Requests allowed to wait for a reconnect (default 1000); more are refused with UNAVAILABLE. */
  maxQueued?: number;
  stream?: JsonSplitterOptions;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Read-only: safe to send again after a reconnect instead of failing with OUTCOME_UNKNOWN. */
  idempotent?: boolean;
}

export interface ConnectionEvents {
  connect: [info: { reconnect: boolean }];
  disconnect: [reason: NetplumbError];
  notification: [method: string, params: Json[]];
}

type State = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

interface Pending {
  id: number;
  method: string;
  params: Json[];
  idempotent: boolean;
  sent: boolean;
  timer: NodeJS.Timeout;
  resolve: (v: Json) => void;
  reject: (e: NetplumbError) => void;
}

const PROBE_ID = 'netplumb-probe';

/** The taxonomy code and advice for a failed connect(2). */
export function connectError(err: NodeJS.ErrnoException, remote: Remote): NetplumbError {
  const code = err.code ?? 'EIO';
  const where = remote.kind === 'unix' ? `socket ${remote.path}` : `${remote.host}:${remote.port}`;
  const details = { errnoCode: code, errno: err.errno, syscall: 'connect', remote: remote.text };
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new NetplumbError(
        ErrorCode.PRIVILEGE,
        `cannot connect to OVSDB at ${remote.text}: permission denied on ${where}; run as root or as a user allowed to open it`,
        details,
      );
    case 'ENOENT':
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `cannot connect to OVSDB at ${remote.text}: ${where} does not exist; is ovsdb-server running? Set --db, $OVS_DB or $OVS_RUNDIR`,
        details,
      );
    case 'ECONNREFUSED':
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `cannot connect to OVSDB at ${remote.text}: connection refused; is ovsdb-server listening on ${where}?`,
        details,
      );
    default:
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `cannot connect to OVSDB at ${remote.text}: ${code} (${describeErrno(code)})`,
        details,
      );
  }
}

export class OvsdbConnection extends EventEmitter<ConnectionEvents> {
  readonly remote: Remote;
  private readonly log: Logger | undefined;
  /** How long a request waits for its answer unless it says otherwise. */
  readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly backoff: Required<ReconnectOptions>;
  private readonly maxQueued: number;
  private readonly streamOptions: JsonSplitterOptions;

  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private dropReason: NetplumbError | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeOutstanding = false;
  private backoffTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private everConnected = false;
  private nextId = 1;
  private corked = false;
  private readonly pending = new Map<number, Pending>();

  constructor(opts: ConnectionOptions = {}) {
    super();
    this.remote = parseRemote(resolveRemote(opts.remote));
    this.log = opts.logger?.child({ component: 'ovsdb', remote: this.remote.text });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.probeIntervalMs = opts.probeIntervalMs ?? 5_000;
    this.backoff = { initialDelayMs: 100, maxDelayMs: 5_000, maxAttempts: 10, ...opts.reconnect };
    this.maxQueued = opts.maxQueued ?? 1000;
    this.streamOptions = opts.stream ?? {};
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Connect once; rejects with UNAVAILABLE or PRIVILEGE (no retry: a preflight wants a fast answer). */
  async connect(): Promise<void> {
    if (this.state === 'closed') throw this.closedError();
    if (this.state === 'connected') return;
    if (this.state === 'backoff' || this.state === 'connecting') return this.waitForConnect();
    this.state = 'connecting';
    try {
      await this.open();
    } catch (e) {
      if (this.state === 'connecting') this.state = 'idle';
      throw e;
    }
  }

  /** Send a request and wait for its result. */
  request(method: string, params: Json[], opts: RequestOptions = {}): Promise<Json> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    const queued = this.state === 'connected' ? 0 : this.countQueued();
    if (queued >= this.maxQueued) {
      return Promise.reject(
        new NetplumbError(
          ErrorCode.UNAVAILABLE,
          `OVSDB ${method} refused: ${queued} requests already wait for ${this.remote.text} to come back`,
          { syscall: method },
        ),
      );
    }
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<Json>((resolve, reject) => {
      const id = this.nextId++;
      const p: Pending = {
        id,
        method,
        params,
        idempotent: opts.idempotent ?? false,
        sent: false,
        resolve,
        reject,
        timer: setTimeout(() => this.expire(p, timeoutMs), timeoutMs),
      };
      this.pending.set(id, p);
      if (this.state === 'connected') this.send(p);
      else if (this.state === 'idle') this.scheduleReconnect(0);
    });
  }

  /** Close the session: no timers, sockets or listeners stay behind. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.failAll(() => this.closedError(), false);
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
    s?.removeAllListeners();
  }

  // ------------------------------------------------------------ socket lifecycle

  private open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket =
        this.remote.kind === 'unix'
          ? net.createConnection({ path: this.remote.path })
          : net.createConnection({ host: this.remote.host, port: this.remote.port });
      const timer = setTimeout(
        () => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
        this.connectTimeoutMs,
      );
      const onError = (err: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.destroy();
        reject(connectError(err, this.remote));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (this.state === 'closed') {
          socket.destroy();
          reject(this.closedError());
          return;
        }
        this.attach(socket);
        resolve();
      });
    });
  }

  private attach(socket: net.Socket): void {
    const reconnect = this.everConnected;
    this.socket = socket;
    this.state = 'connected';
    this.everConnected = true;
    this.attempts = 0;
    this.dropReason = null;
    const splitter = new JsonStreamSplitter(this.streamOptions);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(splitter, chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.dropReason ??= new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `OVSDB connection to ${this.remote.text} failed: ${err.code ?? err.message}`,
        { errnoCode: err.code, syscall: 'read' },
      );
    });
    socket.on('close', () => this.onClose(socket));
    this.startProbe();
    this.log?.debug({ reconnect }, 'connected');
    for (const p of this.pending.values()) if (!p.sent) this.send(p);
    this.emit('connect', { reconnect });
  }

  private onClose(socket: net.Socket): void {
    socket.removeAllListeners();
    if (this.socket !== socket) return;
    this.socket = null;
    this.clearTimers();
    if (this.state === 'closed') return;
    const reason =
      this.dropReason ??
      new NetplumbError(ErrorCode.UNAVAILABLE, `OVSDB connection to ${this.remote.text} closed by the peer`, {
        syscall: 'read',
      });
    this.log?.warn({ err: reason }, 'disconnected');
    this.failAll((p) => this.inFlightError(p, reason), true);
    this.state = 'idle';
    this.emit('disconnect', reason);
    if (this.state === 'idle') this.scheduleReconnect(this.nextDelay());
  }

  /** Drop the current socket because of `reason` (protocol error, dead peer). */
  private drop(reason: NetplumbError): void {
    this.dropReason ??= reason;
    this.socket?.destroy();
  }

  private nextDelay(): number {
    const base = Math.min(this.backoff.maxDelayMs, this.backoff.initialDelayMs * 2 ** this.attempts);
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  private scheduleReconnect(delayMs: number): void {
    this.state = 'backoff';
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.state = 'connecting';
      this.open().catch((err: NetplumbError) => {
        if (this.state === 'closed') return;
        this.attempts++;
        this.log?.debug({ attempt: this.attempts, err }, 'reconnect failed');
        if (this.attempts >= this.backoff.maxAttempts) {
          this.attempts = 0;
          this.state = 'idle';
          const gaveUp = new NetplumbError(
            ErrorCode.UNAVAILABLE,
            `OVSDB at ${this.remote.text} unreachable after ${this.backoff.maxAttempts} attempts: ${err.message}`,
            { ...err.details },
            { cause: err },
          );
          this.failAll(() => gaveUp, false);
          this.emit('disconnect', gaveUp);
        } else {
          this.scheduleReconnect(this.nextDelay());
        }
      });
    }, delayMs);
  }

  private waitForConnect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        this.off('disconnect', onDisconnect);
        resolve();
      };
      const onDisconnect = (e: NetplumbError): void => {
        if (this.state !== 'idle' && this.state !== 'closed') return; // still retrying
        this.off('connect', onConnect);
        reject(e);
      };
      this.once('connect', onConnect);
      this.on('disconnect', onDisconnect);
    });
  }

  // ------------------------------------------------------------ requests

  private send(p: Pending): void {
    p.sent = true;
    this.write(encodeRequest(p.id, p.method, p.params));
  }

  /**
   * Write one message. Messages written in the same tick (pipelined transactions, the
   * queue flushed after a reconnect) leave in one writev: the socket is corked until the
   * next tick. A lone request costs one process.nextTick, not a timer.
   */
  private write(text: string): void {
    const socket = this.socket;
    if (!socket) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(text);
  }

  private countQueued(): number {
    let n = 0;
    for (const p of this.pending.values()) if (!p.sent) n++;
    return n;
  }

  private expire(p: Pending, timeoutMs: number): void {
    if (!this.pending.delete(p.id)) return;
    const what = `OVSDB ${p.method} on ${this.remote.text}: no reply within ${timeoutMs} ms`;
    if (p.sent && !p.idempotent) {
      p.reject(
        new NetplumbError(
          ErrorCode.OUTCOME_UNKNOWN,
          `${what}; it may or may not have been applied: read back before retrying`,
          { syscall: p.method, timeoutMs },
        ),
      );
    } else {
      p.reject(
        new NetplumbError(ErrorCode.UNAVAILABLE, `${what}; retry when the server is reachable`, {
          syscall: p.method,
          timeoutMs,
        }),
      );
    }
  }

  private inFlightError(p: Pending, reason: NetplumbError): NetplumbError | null {
    if (!p.sent) return null; // still queued: it waits for the reconnect
    if (p.idempotent) {
      p.sent = false; // sent again after the reconnect
      return null;
    }
    return new NetplumbError(
      ErrorCode.OUTCOME_UNKNOWN,
      `OVSDB ${p.method} on ${this.remote.text}: connection lost before the reply (${reason.message}); it may or may not have been applied: read back before retrying`,
      { syscall: p.method },
      { cause: reason },
    );
  }

  /** Reject pending requests; with `selective`, `errorFor` may return null to keep one. */
  private failAll(errorFor: (p: Pending) => NetplumbError | null, selective: boolean): void {
    for (const p of [...this.pending.values()]) {
      const err = errorFor(p);
      if (!err && selective) continue;
      this.pending.delete(p.id);
      clearTimeout(p.timer);
      p.reject(err ?? this.closedError());
    }
  }

  private closedError(): NetplumbError {
    return new NetplumbError(ErrorCode.UNAVAILABLE, `OVSDB connection to ${this.remote.text} is closed`, {
      syscall: 'request',
    });
  }

  // ------------------------------------------------------------ incoming data

  private onData(splitter: JsonStreamSplitter, chunk: Buffer): void {
    this.probeTimer?.refresh();
    this.probeOutstanding = false;
    let values: unknown[];
    try {
      values = splitter.push(chunk);
    } catch (e) {
      this.drop(e as NetplumbError);
      return;
    }
    for (const v of values) {
      let msg: RpcMessage;
      try {
        msg = parseRpcMessage(v);
      } catch (e) {
        this.drop(e as NetplumbError);
        return;
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: RpcMessage): void {
    switch (msg.kind) {
      case 'request':
        if (msg.method === 'echo') this.write(encodeResponse(msg.id, msg.params));
        else this.write(encodeResponse(msg.id, null, { error: 'unknown method', details: msg.method }));
        return;
      case 'notification':
        this.emit('notification', msg.method, msg.params);
        return;
      case 'response':
        this.settle(msg.id, msg.result, msg.error);
    }
  }

  private settle(id: RpcId, result: Json, error: Json): void {
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      if (id !== PROBE_ID)
        this.log?.debug({ id }, 'reply with an unknown id ignored (late reply to an expired request?)');
      return;
    }
    this.pending.delete(id as number);
    clearTimeout(p.timer);
    if (error === null) p.resolve(result);
    else
      p.reject(
        new NetplumbError(
          ErrorCode.PROTOCOL,
          `OVSDB ${p.method} on ${this.remote.text} failed: ${describeRpcError(error)}`,
          { syscall: p.method, rpcError: error },
        ),
      );
  }

  // ------------------------------------------------------------ inactivity probe

  private startProbe(): void {
    if (this.probeIntervalMs <= 0) return;
    this.probeOutstanding = false;
    this.probeTimer = setTimeout(() => this.onIdle(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  private onIdle(): void {
    if (this.probeOutstanding) {
      this.drop(
        new NetplumbError(
          ErrorCode.UNAVAILABLE,
          `OVSDB peer ${this.remote.text} did not answer the inactivity probe within ${this.probeIntervalMs} ms`,
          { syscall: 'echo' },
        ),
      );
      return;
    }
    this.probeOutstanding = true;
    this.write(encodeRequest(PROBE_ID, 'echo', []));
    this.probeTimer?.refresh();
  }

  private clearTimers(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.probeTimer = null;
    this.backoffTimer = null;
  }
}
