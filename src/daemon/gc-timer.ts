/**
 * The daemon's own gc runs, through its method table (its engine, so its attaches in flight
 * are known and never touched; recorded in the history like a request), one
 * run at a time, each removal logged; a failed run is logged and the next one comes at its
 * time:
 *
 *  - reconcile, at start: what a previous daemon (or command) killed mid-attach left half
 *    done is removed once its grace period is over: one run at once (a guest or port that
 *    is gone, an unfinished attach already older than the grace period), one more when the
 *    grace period has passed (the attaches that were in flight when the previous one died);
 *  - periodic (`netplumb serve --gc-interval SECONDS`): every interval.
 */
import type { Logger } from 'pino';
import { DEFAULT_GC_GRACE_SECONDS, type GcOptions, type GcResult } from '../plumb/gc.js';

/** One gc run of the daemon's own; `what` says which (`reconcile`, `periodic gc`). */
export type DaemonGc = (opts: GcOptions, what: string) => Promise<GcResult>;

export interface GcScheduleOptions {
  /** Every this many seconds (undefined or 0: no periodic run). */
  intervalSeconds?: number;
  /** Grace period of each run (default: gc's). */
  graceSeconds?: number;
  log?: Logger;
}

export interface GcSchedule {
  /** Stop the timers; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/** Start the reconcile runs, and the periodic ones if asked for. */
export function startGcSchedule(gc: DaemonGc, opts: GcScheduleOptions): GcSchedule {
  const grace = opts.graceSeconds ?? DEFAULT_GC_GRACE_SECONDS;
  let running: Promise<void> | undefined;
  let stopped = false;
  const once = async (what: string): Promise<void> => {
    try {
      const r = await gc({ graceSeconds: grace }, what);
      for (const e of r.removed)
        opts.log?.info(
          { attachment: e.attachment, ports: e.ports, link: e.link, reason: e.reason, detail: e.detail },
          `${what} removed an attachment`,
        );
      opts.log?.info({ removed: r.removed.length, kept: r.kept.length }, `${what} done`);
    } catch (e) {
      opts.log?.warn({ err: e }, `${what} failed; retrying at the next run`);
    }
  };
  const run = (what: string): void => {
    if (stopped) return;
    running ??= once(what).finally(() => (running = undefined));
  };
  const timers: NodeJS.Timeout[] = [];
  run('reconcile');
  // The second reconcile waits for a run in progress (the first, on a slow OVSDB) rather than being skipped.
  timers.push(setTimeout(() => void (running ?? Promise.resolve()).then(() => run('reconcile')), (grace + 1) * 1000));
  if (opts.intervalSeconds) timers.push(setInterval(() => run('periodic gc'), opts.intervalSeconds * 1000));
  for (const t of timers) t.unref();
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
