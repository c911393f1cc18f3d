/**
 * The daemon's methods, one entry each: the structural check of its params (params.ts),
 * what its request logs, what it does, what it records in the history (src/events), and
 * whether it is exempt from admission control. Adding a method is adding its entry here
 * (and a typed call on DaemonClient).
 *
 *   method          params                             result
 *   attach          AttachSpec                         AttachResult
 *   detach          { guest, ifname? }                 DetachResult
 *   list            { guest? } or none                 Attachment[]
 *   gc              { dryRun?, graceSeconds? } or none GcResult { dryRun, graceSeconds, removed[], kept[] }
 *   uplink.add      UplinkSpec                         UplinkAddResult { changed, uplink }
 *   uplink.del      { nic, bridge? }                   { removed? }
 *   uplink.list     none                               Uplink[]
 *   network.create  NetworkSpec                        { changed, network }
 *   network.delete  { name, force? }                   { deleted? }
 *   network.list    none                               Network[]
 *   declared        none                               DeclaredAttachment[] (desired vs actual)
 *   events          { since?: seq | ISO time }         EventsResult { events[], firstSeq, lastSeq }
 *   events.follow   { since?: seq | ISO time }         { following: true, lastSeq }, then the
 *                                                      notifications `events.event` (an event)
 *                                                      and `events.dropped` (src/events/follow.ts)
 *                                                      on this connection until it closes
 *   ping            none                               "pong"
 *   version         none                               DaemonIdentity { name, version, protocol, pid, ovsdb, dockerSocket }
 *
 * Every call of a method that changes something records its events, failures included,
 * whichever way it came (a JSON-RPC request, a command relayed by the front door, the
 * daemon's own gc runs): they all come through here.
 */
import type { Engine } from '../engine/engine.js';
import type { EventDraft } from '../events/event.js';
import { follow, type NotificationSink } from '../events/follow.js';
import type { EventLog } from '../events/log.js';
import {
  attachEvents,
  detachEvents,
  gcEvents,
  networkCreateEvents,
  networkDeleteEvents,
  type Origin,
  type Outcome,
  uplinkAddEvents,
  uplinkDelEvents,
  whyOf,
} from '../events/record.js';
import { ErrorCode, NetplumbError } from '../errors.js';
import {
  attachParams,
  detachParams,
  eventsParams,
  gcParams,
  listParams,
  networkCreateParams,
  networkDeleteParams,
  noParams,
  uplinkAddParams,
  uplinkDelParams,
} from './params.js';
import type { DaemonIdentity } from './protocol.js';
import { asNetplumbError } from './rpc.js';

/** What a method may use. */
export interface MethodContext {
  engine: Engine;
  identity: DaemonIdentity;
  /** The history. */
  events: EventLog;
}

/** About one call: who made it, and (a JSON-RPC request) its connection, for notifications. */
export interface CallContext {
  origin: Origin;
  /** Absent for a call relayed by the front door, or the daemon's own. */
  sink?: NotificationSink;
}

/** One method as written in the table. */
export interface MethodSpec<P, R> {
  /** The params, checked for shape; throws INVALID_ARGUMENT. */
  params: (v: unknown) => P;
  /** The fields its request logs (info, with the peer), once its params are checked; absent: not logged. */
  logged?: (p: P) => Record<string, unknown>;
  run: (ctx: MethodContext, p: P, call: CallContext) => R | Promise<R>;
  /** The events its outcome records in the history (`why`: who asked, in words); absent: none. */
  record?: (p: P, outcome: Outcome<R>, why: string, origin: Origin) => EventDraft[];
  /** No engine work: admitted even when `maxConcurrent` requests are in flight. */
  exempt?: true;
}

/** One method as the daemon calls it. */
export interface MethodHandler {
  exempt: boolean;
  /** Check the params, log the request (`logRequest`, with the logged fields), run it, record its events. */
  serve(
    ctx: MethodContext,
    params: unknown,
    logRequest: (fields: Record<string, unknown>) => void,
    call: CallContext,
  ): Promise<unknown>;
}

/** A table entry: the params' type goes from the parser to the handler and stays inside. */
function entry<P, R>(spec: MethodSpec<P, R>): MethodHandler {
  return {
    exempt: spec.exempt === true,
    async serve(ctx, raw, logRequest, call) {
      const p = spec.params(raw);
      if (spec.logged !== undefined) logRequest(spec.logged(p));
      const record = spec.record;
      if (record === undefined) return spec.run(ctx, p, call);
      const keep = (o: Outcome<R>): void => {
        for (const draft of record(p, o, whyOf(call.origin), call.origin)) ctx.events.record(draft);
      };
      let result: R;
      try {
        result = await spec.run(ctx, p, call);
      } catch (e) {
        keep({ error: asNetplumbError(e) });
        throw e;
      }
      keep({ result });
      return result;
    },
  };
}

/** `events.follow`: this connection gets the events from `since` on, as notifications. */
function startFollowing({ events }: MethodContext, since: number | string | undefined, call: CallContext) {
  if (call.sink === undefined)
    throw new NetplumbError(
      ErrorCode.UNSUPPORTED,
      'events.follow streams notifications on a JSON-RPC connection of its own; this call has none',
      { field: 'method' },
    );
  follow(events, since, call.sink);
  return { following: true as const, lastSeq: events.lastSeq };
}

export const METHOD_TABLE = {
  attach: entry({
    params: attachParams,
    logged: (spec) => ({ host: spec.host, guest: spec.guest }),
    run: ({ engine }, spec) => engine.attach(spec),
    record: attachEvents,
  }),
  detach: entry({
    params: detachParams,
    logged: (req) => ({ guest: req.guest, ifname: req.ifname }),
    run: ({ engine }, req) => engine.detach(req),
    record: detachEvents,
  }),
  list: entry({ params: listParams, run: ({ engine }, filter) => engine.list(filter) }),
  gc: entry({
    params: gcParams,
    logged: (o) => ({ dryRun: o.dryRun, graceSeconds: o.graceSeconds }),
    run: ({ engine }, o) => engine.gc(o),
    record: (o, outcome, why, origin) => gcEvents(o.dryRun, outcome, why, origin.via === 'daemon'),
  }),
  'uplink.add': entry({
    params: uplinkAddParams,
    logged: (spec) => ({ bridge: spec.bridge, nic: spec.nic }),
    run: ({ engine }, spec) => engine.uplinks.add(spec),
    record: uplinkAddEvents,
  }),
  'uplink.del': entry({
    params: uplinkDelParams,
    logged: (req) => ({ nic: req.nic, bridge: req.bridge }),
    run: ({ engine }, req) => engine.uplinks.del(req),
    record: uplinkDelEvents,
  }),
  'uplink.list': entry({ params: noParams, run: ({ engine }) => engine.uplinks.list() }),
  'network.create': entry({
    params: networkCreateParams,
    logged: (spec) => ({ network: spec.name }),
    run: ({ engine }, spec) => engine.networks.create(spec),
    record: networkCreateEvents,
  }),
  'network.delete': entry({
    params: networkDeleteParams,
    logged: (req) => ({ network: req.name, force: req.force }),
    run: ({ engine }, req) => engine.networks.delete(req.name, { force: req.force }),
    record: networkDeleteEvents,
  }),
  'network.list': entry({ params: noParams, run: ({ engine }) => engine.networks.list() }),
  events: entry({ params: eventsParams, run: ({ events }, p) => events.query(p.since), exempt: true }),
  'events.follow': entry({
    params: eventsParams,
    logged: (p) => ({ since: p.since }),
    run: (ctx, p, call) => startFollowing(ctx, p.since, call),
    exempt: true,
  }),
  declared: entry({ params: noParams, run: ({ engine }) => engine.declared() }),
  ping: entry({ params: noParams, run: () => 'pong', exempt: true }),
  version: entry({ params: noParams, run: ({ identity }) => identity, exempt: true }),
};

export type Method = keyof typeof METHOD_TABLE;
export const METHODS = Object.keys(METHOD_TABLE) as Method[];

export function isMethod(m: string): m is Method {
  return Object.hasOwn(METHOD_TABLE, m);
}
