/**
 * The daemon's methods, one entry each: the structural check of its params (params.ts),
 * what its request logs, what it does, and whether it is exempt from admission control.
 * Adding a method is adding its entry here (and a typed call on DaemonClient).
 *
 *   method   params                             result
 *   attach   AttachSpec                         AttachResult
 *   detach   { guest, ifname? }                 DetachResult
 *   list     { guest? } or none                 Attachment[]
 *   gc       { dryRun?, graceSeconds? } or none GcResult { dryRun, graceSeconds, removed[], kept[] }
 *   declared none                               DeclaredAttachment[] (desired vs actual)
 *   ping     none                               "pong"
 *   version  none                               DaemonIdentity { name, version, protocol, pid, ovsdb, dockerSocket }
 */
import type { Engine } from '../engine/engine.js';
import { attachParams, detachParams, gcParams, listParams, noParams } from './params.js';
import type { DaemonIdentity } from './protocol.js';

/** What a method may use. */
export interface MethodContext {
  engine: Engine;
  identity: DaemonIdentity;
}

/** One method as written in the table. */
export interface MethodSpec<P> {
  /** The params, checked for shape; throws INVALID_ARGUMENT. */
  params: (v: unknown) => P;
  /** The fields its request logs (info, with the peer), once its params are checked; absent: not logged. */
  logged?: (p: P) => Record<string, unknown>;
  run: (ctx: MethodContext, p: P) => unknown;
  /** No engine work: admitted even when `maxConcurrent` requests are in flight. */
  exempt?: true;
}

/** One method as the daemon calls it. */
export interface MethodHandler {
  exempt: boolean;
  /** Check the params, log the request (`logRequest`, with the logged fields), run it. */
  serve(ctx: MethodContext, params: unknown, logRequest: (fields: Record<string, unknown>) => void): Promise<unknown>;
}

/** A table entry: the params' type goes from the parser to the handler and stays inside. */
function entry<P>(spec: MethodSpec<P>): MethodHandler {
  return {
    exempt: spec.exempt === true,
    async serve(ctx, raw, logRequest) {
      const p = spec.params(raw);
      if (spec.logged !== undefined) logRequest(spec.logged(p));
      return spec.run(ctx, p);
    },
  };
}

export const METHOD_TABLE = {
  attach: entry({
    params: attachParams,
    logged: (spec) => ({ host: spec.host, guest: spec.guest }),
    run: ({ engine }, spec) => engine.attach(spec),
  }),
  detach: entry({
    params: detachParams,
    logged: (req) => ({ guest: req.guest, ifname: req.ifname }),
    run: ({ engine }, req) => engine.detach(req),
  }),
  list: entry({ params: listParams, run: ({ engine }, filter) => engine.list(filter) }),
  gc: entry({
    params: gcParams,
    logged: (o) => ({ dryRun: o.dryRun, graceSeconds: o.graceSeconds }),
    run: ({ engine }, o) => engine.gc(o),
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
