/**
 * What the daemon's history holds: one event per thing it changed (or tried to change), with
 * why and how it ended. Kinds:
 *
 *   attach, detach                   one attachment (a failed attach too, rolled back)
 *   gc-removed                       one attachment a gc run removed, with gc's reason
 *   gc                               a gc run's summary (removed, kept)
 *   uplink-add, uplink-del           `netplumb uplink add|del`
 *   network-create, network-delete   `netplumb network create|delete`
 *   reapply                          a declared attachment (attach --persist) made again on its container's start
 *   daemon-start, daemon-stop        the daemon itself: the log begins with its start
 *
 * Pure types: no I/O.
 */

export const EVENT_KINDS = [
  'attach',
  'detach',
  'gc-removed',
  'gc',
  'uplink-add',
  'uplink-del',
  'network-create',
  'network-delete',
  'reapply',
  'daemon-start',
  'daemon-stop',
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** An event as recorded, before the log numbers and dates it. */
export interface EventDraft {
  kind: EventKind;
  /** The guest: its container name, else its id (`netns:blue`, a container id). */
  guest?: string;
  /** The interface in the guest. */
  ifname?: string;
  /** The host-side link (the host end of the veth). */
  hostIfname?: string;
  /** The OVS bridge (or the host link a macvlan hangs off). */
  bridge?: string;
  vlan?: number;
  trunks?: number[];
  /** The OVN network. */
  network?: string;
  /** An uplink's NIC. */
  nic?: string;
  /** Who asked and how (`requested by uid 0 via the netplumb CLI`), or what made the daemon act (`gc: …`). */
  why: string;
  result: 'ok' | 'error';
  /** False when the request found everything as asked already (nothing changed). */
  changed?: boolean;
  /** More about what happened (gc's counts, what a failure left). */
  detail?: string;
  /** A failure: the error's taxonomy code and message. */
  error?: { code: string; message: string };
}

/** An event of the log. */
export interface NetplumbEvent extends EventDraft {
  /** 1, 2, 3 … from the daemon's start; a gap means events dropped (the log is bounded). */
  seq: number;
  /** When it was recorded (ISO 8601, UTC). */
  time: string;
}

/** Where a query or a follow starts: after this sequence number, or at this time (ISO 8601) on. */
export type EventsSince = number | string;

/** The answer to `events`. */
export interface EventsResult {
  events: NetplumbEvent[];
  /** The oldest event the log still holds (0: none yet). Asked for older: they were dropped. */
  firstSeq: number;
  /** The newest event recorded (0: none yet). */
  lastSeq: number;
}

/** The notification a follower gets for each event. */
export const EVENT_NOTICE = 'events.event';
/** The notification a follower gets when events were not sent to it (it read too slowly). */
export const DROPPED_NOTICE = 'events.dropped';

/** `events.dropped`'s params: the events from..to (seq) were not sent. */
export interface DroppedNotice {
  count: number;
  fromSeq: number;
  toSeq: number;
}

/** Reads the history: the daemon's client, or a command the daemon runs for a caller. */
export interface EventsReader {
  events(since?: EventsSince): Promise<EventsResult>;
}
