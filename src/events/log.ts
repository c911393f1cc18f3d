/**
 * The daemon's history: a bounded in-memory log of events (at most `maxEvents`, and at most
 * `maxBytes` of their JSON), oldest dropped first. Sequence numbers go on across drops, so a
 * reader sees a drop as a gap. Subscribers are told of each event as it is recorded. Pure:
 * no I/O.
 */
import type { EventDraft, EventsResult, EventsSince, NetplumbEvent } from './event.js';

export interface EventLogOptions {
  /** Default 10 000. */
  maxEvents?: number;
  /** Bytes of the events' JSON held at most (default 8 MiB). */
  maxBytes?: number;
  /** The clock (tests). */
  now?: () => Date;
}

export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

/** Told of each event recorded, with its JSON text. */
export type EventListener = (event: NetplumbEvent, json: string) => void;

interface Held {
  event: NetplumbEvent;
  bytes: number;
}

export class EventLog {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly #now: () => Date;
  /** Oldest first; `#head` is the index of the oldest still held (dropped ones are sliced off in batches). */
  #held: Held[] = [];
  #head = 0;
  #bytes = 0;
  #lastSeq = 0;
  readonly #listeners = new Set<EventListener>();

  constructor(opts: EventLogOptions = {}) {
    this.maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Events held now. */
  get size(): number {
    return this.#held.length - this.#head;
  }

  /** Bytes of JSON held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The oldest event held (0: none). */
  get firstSeq(): number {
    return this.#held[this.#head]?.event.seq ?? 0;
  }

  /** Number, date and keep `draft`; tell the subscribers. Returns the event. */
  record(draft: EventDraft): NetplumbEvent {
    const event: NetplumbEvent = { seq: ++this.#lastSeq, time: this.#now().toISOString(), ...draft };
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json);
    this.#held.push({ event, bytes });
    this.#bytes += bytes;
    this.#trim();
    for (const l of this.#listeners) l(event, json);
    return event;
  }

  /** The events held after `since` (a seq: greater than it; a time: at or after it), oldest first. */
  query(since?: EventsSince): EventsResult {
    const events: NetplumbEvent[] = [];
    const after = sinceTest(since);
    for (let i = this.#head; i < this.#held.length; i++) {
      const e = (this.#held[i] as Held).event;
      if (after(e)) events.push(e);
    }
    return { events, firstSeq: this.firstSeq, lastSeq: this.#lastSeq };
  }

  /** The event numbered `seq`, while the log holds it. */
  at(seq: number): NetplumbEvent | undefined {
    const first = this.firstSeq;
    if (first === 0 || seq < first || seq > this.#lastSeq) return undefined;
    return this.#held[this.#head + (seq - first)]?.event;
  }

  /** The seq just before the first event at or after `time` (ISO 8601): where a follow from that time starts. */
  seqBefore(time: string): number {
    const t = Date.parse(time);
    for (let i = this.#head; i < this.#held.length; i++) {
      const e = (this.#held[i] as Held).event;
      if (Date.parse(e.time) >= t) return e.seq - 1;
    }
    return this.#lastSeq;
  }

  /** Tell `listener` of every event from now on; returns the unsubscribe. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribers now. */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Drop the oldest until both bounds hold (the newest is always kept). */
  #trim(): void {
    while (this.size > 1 && (this.size > this.maxEvents || this.#bytes > this.maxBytes)) {
      this.#bytes -= (this.#held[this.#head] as Held).bytes;
      this.#held[this.#head] = undefined as unknown as Held;
      this.#head++;
    }
    // Compact once the dropped prefix is as long as what is held: amortised O(1) per event.
    if (this.#head > 0 && this.#head >= this.size) {
      this.#held = this.#held.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** `since` as a test of one event. */
export function sinceTest(since: EventsSince | undefined): (e: NetplumbEvent) => boolean {
  if (since === undefined) return () => true;
  if (typeof since === 'number') return (e) => e.seq > since;
  const t = Date.parse(since);
  return (e) => Date.parse(e.time) >= t;
}
