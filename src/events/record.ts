/**
 * What each of the daemon's changes records in its history: the events of one request's
 * outcome (a result or an error), and why it was made (who asked, through what). Pure:
 * results into event drafts, no I/O.
 */
import type { NetplumbError } from '../errors.js';
import { parseGuestRef, type GuestRef } from '../guest/ref.js';
import type { NetworkSpec, Network } from '../ovn/networks.js';
import type { GcEntry, GcResult } from '../plumb/gc.js';
import type { AttachResult, DetachRequest, DetachResult } from '../plumb/api.js';
import type { AttachmentRecord } from '../plumb/record.js';
import type { AttachSpec } from '../plumb/spec.js';
import type { Uplink, UplinkAddResult, UplinkDelRequest } from '../plumb/uplink.js';
import type { UplinkSpec } from '../plumb/uplink-spec.js';
import type { EventDraft, EventKind } from './event.js';

/** Who made a request, and through what. */
export type Origin =
  /** A JSON-RPC request on the daemon's socket (SO_PEERCRED's uid and pid). */
  | { via: 'api'; uid: number; pid: number }
  /** A command relayed by the native front door (`netplumb`, `pipework`, `netplumb-cni`). */
  | { via: 'front-door'; program: string; uid: number; pid: number }
  /** The daemon's own doing (`reconcile`, `periodic gc`). */
  | { via: 'daemon'; what: string };

/** `requested by uid 0 (pid 42) via the netplumb CLI`, `the daemon's periodic gc`. */
export function whyOf(o: Origin): string {
  if (o.via === 'daemon') return `the daemon's ${o.what}`;
  const through = o.via === 'api' ? 'the API' : o.program === 'netplumb' ? 'the netplumb CLI' : o.program;
  return `requested by uid ${o.uid} (pid ${o.pid}) via ${through}`;
}

/** How a request ended. */
export type Outcome<R> = { result: R } | { error: NetplumbError };

function failed(e: NetplumbError): Pick<EventDraft, 'result' | 'error'> {
  return { result: 'error', error: { code: e.code, message: e.message } };
}

/** A guest as events name it: the word a caller would write (`con1`, `netns:blue`, `pid:42`). */
function guestText(g: GuestRef): string {
  try {
    return parseGuestRef(g).label;
  } catch {
    return typeof g === 'string' ? g : JSON.stringify(g);
  }
}

/** An attachment's fields of an event. */
function ofRecord(r: AttachmentRecord): Partial<EventDraft> {
  return {
    guest: r.guestName ?? r.guestId,
    ifname: r.ifname,
    hostIfname: r.hostIfname,
    bridge: r.host,
    ...(r.vlan !== undefined ? { vlan: r.vlan } : {}),
    ...(Array.isArray(r.trunks) ? { trunks: r.trunks } : {}),
    ...(r.network !== undefined ? { network: r.network } : {}),
  };
}

function event(
  kind: EventKind,
  why: string,
  fields: Partial<EventDraft>,
  end: Pick<EventDraft, 'result' | 'error' | 'changed'>,
): EventDraft {
  return { kind, ...fields, why, ...end };
}

export function attachEvents(spec: AttachSpec, o: Outcome<AttachResult>, why: string): EventDraft[] {
  if ('result' in o)
    return [event('attach', why, ofRecord(o.result.record), { result: 'ok', changed: o.result.changed })];
  const asked: Partial<EventDraft> = {
    guest: guestText(spec.guest),
    ...(spec.ifname !== undefined ? { ifname: spec.ifname } : {}),
    ...(spec.hostIfname !== undefined ? { hostIfname: spec.hostIfname } : {}),
    bridge: spec.host,
    ...(spec.vlan !== undefined ? { vlan: spec.vlan } : {}),
    ...(spec.trunks !== undefined ? { trunks: spec.trunks } : {}),
    ...(spec.network !== undefined ? { network: spec.network } : {}),
  };
  return [event('attach', why, asked, failed(o.error))];
}

export function detachEvents(req: DetachRequest, o: Outcome<DetachResult>, why: string): EventDraft[] {
  const asked: Partial<EventDraft> = {
    guest: guestText(req.guest),
    ...(req.ifname !== undefined ? { ifname: req.ifname } : {}),
  };
  if ('error' in o) return [event('detach', why, asked, failed(o.error))];
  if (o.result.detached.length === 0)
    return [{ ...event('detach', why, asked, { result: 'ok', changed: false }), detail: 'nothing to detach' }];
  return o.result.detached.map((r) => event('detach', why, ofRecord(r), { result: 'ok', changed: true }));
}

function gcRemoved(e: GcEntry, why: string): EventDraft {
  const fields: Partial<EventDraft> = e.record
    ? ofRecord(e.record)
    : { ...(e.link !== undefined ? { hostIfname: e.link } : {}) };
  return {
    ...event('gc-removed', `gc: ${e.detail}; run ${why.startsWith('requested') ? why : `by ${why}`}`, fields, {
      result: 'ok',
      changed: true,
    }),
    detail: `${e.reason}${e.ports.length > 0 ? `; OVS port ${e.ports.join(', ')}` : ''}`,
  };
}

/**
 * A gc run: each attachment removed, then the run's summary. A dry run changes nothing and
 * records nothing; nor does a run of the daemon's own that removed nothing (`quiet`): a
 * periodic gc would otherwise push the history out with summaries of nothing.
 */
export function gcEvents(dryRun: boolean, o: Outcome<GcResult>, why: string, quiet = false): EventDraft[] {
  if (dryRun) return [];
  if ('error' in o) return [event('gc', why, {}, failed(o.error))];
  const r = o.result;
  if (quiet && r.removed.length === 0) return [];
  return [
    ...r.removed.map((e) => gcRemoved(e, why)),
    {
      ...event('gc', why, {}, { result: 'ok', changed: r.removed.length > 0 }),
      detail: `removed ${r.removed.length}, kept ${r.kept.length} (grace ${r.graceSeconds} s)`,
    },
  ];
}

/** An uplink as asked for (a spec), or as it is (its VLANs as recorded). */
function ofUplink(u: UplinkSpec | Uplink): Partial<EventDraft> {
  const v: { vlan?: number; trunks?: readonly number[] } =
    'vlans' in u ? (u.vlans.kind === 'access' ? { vlan: u.vlans.vlan } : { trunks: u.vlans.trunks }) : u;
  return {
    nic: u.nic,
    bridge: u.bridge,
    ...(v.vlan !== undefined ? { vlan: v.vlan } : {}),
    ...(v.trunks !== undefined ? { trunks: [...v.trunks] } : {}),
    ...(u.physnet !== undefined ? { network: u.physnet } : {}),
  };
}

export function uplinkAddEvents(spec: UplinkSpec, o: Outcome<UplinkAddResult>, why: string): EventDraft[] {
  if ('error' in o) return [event('uplink-add', why, ofUplink(spec), failed(o.error))];
  return [event('uplink-add', why, ofUplink(o.result.uplink), { result: 'ok', changed: o.result.changed })];
}

export function uplinkDelEvents(req: UplinkDelRequest, o: Outcome<{ removed?: Uplink }>, why: string): EventDraft[] {
  const asked = { nic: req.nic, ...(req.bridge !== undefined ? { bridge: req.bridge } : {}) };
  if ('error' in o) return [event('uplink-del', why, asked, failed(o.error))];
  const removed = o.result.removed;
  if (removed === undefined)
    return [{ ...event('uplink-del', why, asked, { result: 'ok', changed: false }), detail: 'no such uplink' }];
  return [event('uplink-del', why, ofUplink(removed), { result: 'ok', changed: true })];
}

function ofNetwork(n: Pick<NetworkSpec, 'name' | 'vlan'>): Partial<EventDraft> {
  return { network: n.name, ...(n.vlan !== undefined ? { vlan: n.vlan } : {}) };
}

export function networkCreateEvents(
  spec: NetworkSpec,
  o: Outcome<{ changed: boolean; network: Network }>,
  why: string,
): EventDraft[] {
  if ('error' in o) return [event('network-create', why, ofNetwork(spec), failed(o.error))];
  return [event('network-create', why, ofNetwork(o.result.network), { result: 'ok', changed: o.result.changed })];
}

export function networkDeleteEvents(
  req: { name: string },
  o: Outcome<{ deleted?: Network }>,
  why: string,
): EventDraft[] {
  if ('error' in o) return [event('network-delete', why, ofNetwork(req), failed(o.error))];
  const deleted = o.result.deleted;
  if (deleted === undefined)
    return [
      { ...event('network-delete', why, ofNetwork(req), { result: 'ok', changed: false }), detail: 'no such network' },
    ];
  return [event('network-delete', why, ofNetwork(deleted), { result: 'ok', changed: true })];
}
