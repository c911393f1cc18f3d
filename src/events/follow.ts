/**
 * A follower of the history: the events after its starting point, then each one as it is
 * recorded, as JSON-RPC notifications on its connection (`events.event`, params: the event).
 * The log itself is the follower's queue: it holds no copy, only how far it got, and writes
 * on only while its connection has less than `maxBuffered` bytes (64 KiB) not yet sent; past
 * that it waits for the connection to drain. Events the log let go of before the follower
 * got them are told with one `events.dropped` notification ({count, fromSeq, toSeq}): a slow
 * follower costs at most ~64 KiB, never unbounded memory.
 */
import { DROPPED_NOTICE, type DroppedNotice, EVENT_NOTICE, type EventsSince } from './event.js';
import type { EventLog } from './log.js';

/** Where a follower's notifications go: its connection. */
export interface NotificationSink {
  /** Bytes written to the connection and not yet sent. */
  readonly buffered: number;
  /** Write one line (a JSON-RPC notification, newline-terminated). */
  send(line: string): void;
  /** Call `cb` once, when every byte written has been sent. */
  onDrain(cb: () => void): void;
  /** The connection stays open (no idle hang-up) until the release is called; `onEnd` runs once when it closes. */
  hold(onEnd: () => void): () => void;
}

export const MAX_FOLLOWER_BUFFERED = 64 * 1024;

export interface Follower {
  /** The last seq sent or told dropped. */
  readonly cursor: number;
  /** Stop following (the connection stays open). */
  stop(): void;
}

/** The JSON-RPC notification line. */
export function noticeLine(method: string, paramsJson: string): string {
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${paramsJson}}\n`;
}

/**
 * Follow `log` on `sink` from `since` (absent: from the next event on). Nothing is sent
 * before the next turn of the event loop, so the answer to the request that started it goes first.
 */
export function follow(
  log: EventLog,
  since: EventsSince | undefined,
  sink: NotificationSink,
  maxBuffered = MAX_FOLLOWER_BUFFERED,
): Follower {
  let cursor = since === undefined ? log.lastSeq : typeof since === 'number' ? since : log.seqBefore(since);
  cursor = Math.min(Math.max(cursor, 0), log.lastSeq);
  let waiting = false;
  let started = false;
  let stopped = false;
  const pump = (): void => {
    while (started && !stopped && !waiting) {
      if (sink.buffered > maxBuffered) {
        waiting = true;
        sink.onDrain(() => {
          waiting = false;
          pump();
        });
        return;
      }
      if (cursor >= log.lastSeq) return;
      const next = log.at(cursor + 1);
      if (next === undefined) {
        // The log let them go before this follower got them.
        const toSeq = log.firstSeq - 1;
        const notice: DroppedNotice = { count: toSeq - cursor, fromSeq: cursor + 1, toSeq };
        sink.send(noticeLine(DROPPED_NOTICE, JSON.stringify(notice)));
        cursor = toSeq;
        continue;
      }
      sink.send(noticeLine(EVENT_NOTICE, JSON.stringify(next)));
      cursor = next.seq;
    }
  };
  const unsubscribe = log.subscribe(() => pump());
  let release = (): void => undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    release();
  };
  release = sink.hold(stop);
  setImmediate(() => {
    started = true;
    pump();
  });
  return {
    get cursor() {
      return cursor;
    },
    stop,
  };
}
