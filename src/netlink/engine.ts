/**
 * The request engine: drives a NetlinkTransport, numbers requests, pairs replies with them,
 * and turns the kernel's answers into results or NetplumbErrors.
 *
 * - Every request carries NLM_F_REQUEST|NLM_F_ACK and resolves on the kernel's ACK (with any
 *   replies that came before it, e.g. the RTM_NEWLINK answering an RTM_GETLINK).
 * - Dumps (NLM_F_DUMP) collect multipart replies until NLMSG_DONE; a dump marked
 *   NLM_F_DUMP_INTR (the table changed under it) is transparently restarted, a bounded
 *   number of times.
 * - Replies whose port id is not ours, or whose sequence number is not pending, are ignored.
 * - Requests issued in the same event-loop turn are pipelined: handed to `transport.send`
 *   as one array.
 * - A transport error (ENOBUFS: replies were lost) or `close()` rejects everything pending.
 * - The transport is told when requests are outstanding (`setActive`), so an idle socket
 *   does not keep the process alive.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { NLMSG, NLM_F } from './constants.js';
import { decodeMessages, encodeMessage, type NetlinkMessage } from './header.js';
import { kernelError } from './kernel-error.js';
import { messageTypeName } from './message-types.js';
import { decodeDone, decodeNlMsgErr } from './nlmsgerr.js';
import type { NetlinkTransport } from './transport.js';

export interface EngineOptions {
  /** How many times an interrupted dump is restarted, with a short backoff, before it fails (default 10). */
  maxDumpRetries?: number;
  /** The first sequence number (default: random, so that two engines' numbers differ). */
  firstSeq?: number;
}

export interface RequestOptions {
  /** Extra nlmsg_flags (NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE…); REQUEST and ACK are always set. */
  flags?: number;
  /** What is being asked, in words (`link add "h1" (veth)`): the first part of any error message. */
  describe?: string;
}

interface Pending {
  seq: number;
  readonly type: number;
  readonly flags: number;
  readonly payload: Uint8Array;
  readonly dump: boolean;
  readonly describe: string | undefined;
  datagram: Buffer;
  replies: NetlinkMessage[];
  interrupted: boolean;
  retries: number;
  readonly resolve: (replies: NetlinkMessage[]) => void;
  readonly reject: (err: NetplumbError) => void;
}

const DEFAULT_MAX_DUMP_RETRIES = 10;

function asNetplumbError(e: unknown, what: string): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.INTERNAL,
    `${what}: ${e instanceof Error ? e.message : String(e)}`,
    {},
    { cause: e },
  );
}

/** The same error, its message prefixed with what the request was. */
function inContext(err: NetplumbError, p: Pending): NetplumbError {
  const typeName = messageTypeName(p.type);
  const what = p.describe ?? (err.message.startsWith(`${typeName}:`) ? undefined : typeName);
  const message = what === undefined ? err.message : `${what}: ${err.message}`;
  return new NetplumbError(err.code, message, { syscall: typeName, ...err.details }, { cause: err });
}

export class NetlinkEngine {
  private readonly transport: NetlinkTransport;
  private readonly maxDumpRetries: number;
  private readonly pending = new Map<number, Pending>();
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextSeq: number;
  private closedWith: NetplumbError | undefined;
  private active = false;

  constructor(transport: NetlinkTransport, options: EngineOptions = {}) {
    this.transport = transport;
    this.maxDumpRetries = options.maxDumpRetries ?? DEFAULT_MAX_DUMP_RETRIES;
    this.nextSeq = (options.firstSeq ?? Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0 || 1;
    transport.onData = (datagrams) => this.receive(datagrams);
    transport.onError = (err) => this.failAll(asNetplumbError(err, 'netlink socket'));
  }

  /** Number of requests sent or queued and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Send one request and wait for the kernel's ACK. Resolves with the replies that preceded
   * the ACK (none for a change; the object for a GET).
   */
  request(type: number, payload: Uint8Array, options: RequestOptions = {}): Promise<NetlinkMessage[]> {
    return this.issue(
      type,
      payload,
      NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | (options.flags ?? 0),
      false,
      options.describe,
    );
  }

  /**
   * Dump a table: every multipart reply up to NLMSG_DONE, restarted when interrupted.
   * The kernel runs one dump per socket at a time (a second one gets EBUSY), so dumps are
   * queued; an identical dump already waiting in the queue is shared rather than repeated.
   */
  dump(type: number, payload: Uint8Array, options: RequestOptions = {}): Promise<NetlinkMessage[]> {
    const flags = NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_DUMP | (options.flags ?? 0);
    const key = `${type}:${flags}:${Buffer.from(payload).toString('hex')}`;
    const waiting = this.waitingDumps.get(key);
    if (waiting !== undefined) return waiting;
    const run = this.dumpChain.then(() => {
      this.waitingDumps.delete(key);
      return this.issue(type, payload, flags, true, options.describe);
    });
    this.waitingDumps.set(key, run);
    this.dumpChain = run.catch(() => undefined);
    return run;
  }

  /** The dump in progress (or resolved); the next dump starts after it. */
  private dumpChain: Promise<unknown> = Promise.resolve();
  /** Dumps queued but not started, by type, flags and request bytes. */
  private readonly waitingDumps = new Map<string, Promise<NetlinkMessage[]>>();

  /** Reject everything pending and close the transport. Idempotent. */
  close(): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = new NetplumbError(ErrorCode.UNAVAILABLE, 'netlink engine closed', {});
    this.failAll(this.closedWith);
    this.transport.close();
  }

  private issue(
    type: number,
    payload: Uint8Array,
    flags: number,
    dump: boolean,
    describe: string | undefined,
  ): Promise<NetlinkMessage[]> {
    return new Promise<NetlinkMessage[]>((resolve, reject) => {
      const p: Pending = {
        seq: 0,
        type,
        flags,
        payload,
        dump,
        describe,
        datagram: Buffer.alloc(0),
        replies: [],
        interrupted: false,
        retries: 0,
        resolve,
        reject,
      };
      if (this.closedWith !== undefined) {
        reject(inContext(this.closedWith, p));
        return;
      }
      this.enqueue(p);
    });
  }

  private allocSeq(): number {
    let seq = this.nextSeq;
    while (this.pending.has(seq)) seq = (seq + 1) >>> 0 || 1;
    this.nextSeq = (seq + 1) >>> 0 || 1;
    return seq;
  }

  private enqueue(p: Pending): void {
    p.seq = this.allocSeq();
    p.datagram = encodeMessage({ type: p.type, flags: p.flags, seq: p.seq, pid: 0 }, p.payload);
    this.pending.set(p.seq, p);
    this.updateActive();
    this.queue.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let sending: Promise<void>;
    try {
      sending = this.transport.send(batch.map((p) => p.datagram));
    } catch (e) {
      sending = Promise.reject(e);
    }
    sending.catch((e: unknown) => this.sendFailed(batch, asNetplumbError(e, 'netlink send')));
  }

  /**
   * A send failed. When the transport says how many datagrams it handed to the kernel
   * (`details.sent`), those stay pending (their answers will come); the rest are rejected.
   */
  private sendFailed(batch: Pending[], err: NetplumbError): void {
    const sent = typeof err.details.sent === 'number' ? err.details.sent : 0;
    for (const p of batch.slice(sent)) this.settle(p, err);
  }

  private settle(p: Pending, outcome: NetplumbError | NetlinkMessage[]): void {
    if (this.pending.get(p.seq) !== p) return;
    this.pending.delete(p.seq);
    this.updateActive();
    if (outcome instanceof NetplumbError) p.reject(inContext(outcome, p));
    else p.resolve(outcome);
  }

  private failAll(err: NetplumbError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.queue = [];
    this.updateActive();
    for (const p of all) p.reject(inContext(err, p));
  }

  /** Tell the transport whether anything is outstanding (only on a change). */
  private updateActive(): void {
    const active = this.pending.size > 0;
    if (active === this.active || (this.closedWith !== undefined && active)) return;
    this.active = active;
    this.transport.setActive(active);
  }

  private receive(datagrams: Buffer[]): void {
    for (const d of datagrams) {
      let messages: NetlinkMessage[];
      try {
        messages = decodeMessages(d);
      } catch (e) {
        // A datagram we cannot split cannot be attributed to a request: nothing pending can be trusted.
        this.failAll(asNetplumbError(e, 'netlink receive'));
        return;
      }
      for (const m of messages) {
        if (m.pid !== this.transport.portId) continue;
        const p = this.pending.get(m.seq);
        if (p === undefined) continue;
        try {
          this.handle(p, m);
        } catch (e) {
          this.settle(p, asNetplumbError(e, 'netlink reply'));
        }
      }
    }
  }

  private handle(p: Pending, m: NetlinkMessage): void {
    switch (m.type) {
      case NLMSG.NLMSG_NOOP:
        return;
      case NLMSG.NLMSG_OVERRUN:
        this.settle(
          p,
          new NetplumbError(ErrorCode.UNAVAILABLE, 'NLMSG_OVERRUN: the kernel lost messages', {
            syscall: messageTypeName(p.type),
          }),
        );
        return;
      case NLMSG.NLMSG_ERROR: {
        const e = decodeNlMsgErr(m);
        if (e.error === 0) this.complete(p);
        else this.settle(p, kernelError({ errno: -e.error, type: p.type, extAck: e.extAck, request: p.datagram }));
        return;
      }
      case NLMSG.NLMSG_DONE: {
        if (!p.dump) return;
        const done = decodeDone(m);
        if (done.error !== 0)
          this.settle(p, kernelError({ errno: -done.error, type: p.type, extAck: done.extAck, request: p.datagram }));
        else this.complete(p);
        return;
      }
      default:
        if ((m.flags & NLM_F.NLM_F_DUMP_INTR) !== 0) p.interrupted = true;
        p.replies.push(m);
    }
  }

  private complete(p: Pending): void {
    if (!(p.dump && p.interrupted)) {
      this.settle(p, p.replies);
      return;
    }
    if (p.retries >= this.maxDumpRetries) {
      this.settle(
        p,
        new NetplumbError(
          ErrorCode.UNAVAILABLE,
          `dump interrupted ${p.retries + 1} times (NLM_F_DUMP_INTR): the table kept changing; retry later`,
          { syscall: messageTypeName(p.type), retries: p.retries },
        ),
      );
      return;
    }
    // Restart the dump under a new sequence number; the caller's promise is unchanged.
    // Back off a little (1, 2, 4 … 32 ms, jittered): under heavy link churn an immediate
    // restart is interrupted again by the same burst of changes.
    this.pending.delete(p.seq);
    this.updateActive();
    p.retries += 1;
    p.replies = [];
    p.interrupted = false;
    const delay = Math.min(32, 2 ** (p.retries - 1)) * (0.5 + Math.random() / 2);
    setTimeout(() => {
      if (this.closedWith !== undefined) p.reject(inContext(this.closedWith, p));
      else this.enqueue(p);
    }, delay);
  }
}
