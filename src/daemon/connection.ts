/**
 * One client connection of the daemon: newline-delimited framing bounded by
 * `maxRequestBytes` (a longer message is answered and the connection hung up: its framing
 * can no longer be trusted), the idle timer (a connection with nothing pending that stays
 * silent, or leaves a message unfinished, for `idleTimeoutMs` is hung up: faults.md H4),
 * the count of its requests pending, and the hang-up: the daemon's last line (the
 * `closing` notice, or an error), FIN, and a cut-off if the peer does not close.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { NotificationSink } from '../events/follow.js';
import { LineSplitter } from '../line-splitter.js';
import { type ClosingReason, RPC_INVALID_REQUEST, closingLine } from './protocol.js';
import { errorLine } from './rpc.js';

/** After its last line is written, how long a peer gets to hang up before it is cut off. */
export const CLOSE_GRACE_MS = 2000;

export interface ConnectionOptions {
  maxRequestBytes: number;
  idleTimeoutMs: number;
  /** Bound to the peer. */
  log?: Logger | undefined;
  /**
   * Serve one received line: answer through `reply`, now or later. A promise returned
   * means the request is pending until it settles (after its answer was replied).
   * `sink`: the connection, for a method that streams notifications on it.
   */
  serve: (line: string, reply: (answer: string) => void, sink: NotificationSink) => Promise<void> | undefined;
  /** Is the daemon shutting down? Then the connection is hung up once nothing is pending. */
  draining: () => boolean;
  /**
   * Serve a connection that began with a NUL byte, which no JSON-RPC line does: the native
   * front door's call (front-door.ts), given the socket and the bytes received so far. It
   * owns the connection from then on; the promise settles once it is over.
   */
  serveFrontCall: (socket: Socket, head: Buffer) => Promise<void>;
}

/** The first byte of the front door's framing (front-frames.ts): never the first of a JSON-RPC line. */
const FRONT_DOOR_FIRST_BYTE = 0x00;

/** Answer a connection that will not be served with `line`, and hang up (nothing of it is read). */
export function refuseConnection(socket: Socket, line: string): void {
  socket.on('error', () => undefined);
  socket.end(line);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

export class Connection {
  readonly #socket: Socket;
  readonly #opts: ConnectionOptions;
  readonly #splitter: LineSplitter;
  readonly #sink: NotificationSink;
  #pending = 0;
  /** When the message now being received began (its first byte), if one is unfinished. */
  #partialSince: number | undefined;
  #closing = false;
  /** Nothing received yet: the first byte tells JSON-RPC from the front door's framing. */
  #fresh = true;
  /** The connection carries a front-door call, which owns it. */
  #framed = false;

  /** Serve `socket` (accepted paused) from now on. */
  constructor(socket: Socket, opts: ConnectionOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.#splitter = new LineSplitter(opts.maxRequestBytes);
    this.#sink = this.#sinkOf(socket);
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('timeout', () => this.#onTimeout());
    socket.on('error', (e) => opts.log?.debug({ err: e.message }, 'connection error'));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.resume();
  }

  /** Requests received and not yet answered, and notification streams open. */
  get pending(): number {
    return this.#pending;
  }

  /** The connection as a stream of notifications: a stream counts as pending (no idle hang-up) while it lasts. */
  #sinkOf(socket: Socket): NotificationSink {
    return {
      get buffered() {
        return socket.writableLength;
      },
      send: (line) => this.#send(line),
      onDrain: (cb) => {
        socket.once('drain', cb);
      },
      hold: (onEnd) => {
        this.#pending++;
        let held = true;
        socket.once('close', onEnd);
        return () => {
          if (!held) return;
          held = false;
          this.#pending--;
          socket.off('close', onEnd);
        };
      },
    };
  }

  /**
   * Hang up of the daemon's own accord: the `closing` notice (every answer was written
   * before it), then FIN. A front-door call ends its connection itself once it is over.
   */
  close(reason: ClosingReason): void {
    if (!this.#framed) this.#hangUp(closingLine(reason));
  }

  /** Cut off at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  #send(line: string): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(line);
  }

  /** Nothing more is read; `line` is the last one written. */
  #hangUp(line: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.pause();
    this.#socket.end(line);
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  #onTimeout(): void {
    const { idleTimeoutMs, log } = this.#opts;
    if (this.#pending > 0) {
      this.#socket.setTimeout(idleTimeoutMs); // waiting on the engine, not on the client
      return;
    }
    log?.info('idle connection closed');
    if (this.#splitter.pending > 0) this.#hangUp(this.#unfinished());
    else this.close('idle');
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    if (this.#fresh) {
      this.#fresh = false;
      if (chunk[0] === FRONT_DOOR_FIRST_BYTE) {
        this.#handOver(chunk);
        return;
      }
    }
    const { maxRequestBytes, idleTimeoutMs, log } = this.#opts;
    const lines = this.#splitter.push(chunk);
    if (lines === 'overflow') {
      log?.warn({ limit: maxRequestBytes }, 'request too large; connection closed');
      const err = new NetplumbError(
        ErrorCode.INVALID_ARGUMENT,
        `request larger than ${maxRequestBytes} bytes; connection closed`,
        { field: 'request', limit: maxRequestBytes },
      );
      this.#hangUp(errorLine(null, err, RPC_INVALID_REQUEST));
      return;
    }
    const now = Date.now();
    if (this.#splitter.pending === 0) this.#partialSince = undefined;
    else if (lines.length > 0 || this.#partialSince === undefined) this.#partialSince = now;
    else if (now - this.#partialSince > idleTimeoutMs) {
      this.#hangUp(this.#unfinished());
      return;
    }
    for (const line of lines) this.#serve(line);
  }

  /** From now on the front-door call owns the socket: no line framing, no idle timer here. */
  #handOver(head: Buffer): void {
    this.#framed = true;
    const socket = this.#socket;
    socket.removeAllListeners('data');
    socket.removeAllListeners('timeout');
    socket.setTimeout(0);
    this.#pending++;
    void this.#opts.serveFrontCall(socket, head).finally(() => this.#pending--);
  }

  #serve(line: string): void {
    const running = this.#opts.serve(line, (answer) => this.#send(answer), this.#sink);
    if (running === undefined) return;
    this.#pending++;
    void running.finally(() => {
      this.#pending--;
      if (this.#opts.draining() && this.#pending === 0) this.close('shutdown');
    });
  }

  /** The error line for a message left unfinished past the idle timeout. */
  #unfinished(): string {
    const err = new NetplumbError(
      ErrorCode.UNAVAILABLE,
      `request not completed within ${this.#opts.idleTimeoutMs} ms; connection closed`,
    );
    return errorLine(null, err);
  }
}
