/**
 * The daemon's periodic gc (`netplumb serve --gc-interval SECONDS`): every interval, one
 * gc through the daemon's own engine (so its attaches in flight are known and never
 * touched), one run at a time, each removal logged. A failed run is logged and the next
 * one comes at the next interval.
 */
import type { Logger } from 'pino';
import type { Engine } from './engine.js';

export interface PeriodicGcOptions {
  intervalSeconds: number;
  /** Grace period of each run (default: gc's). */
  graceSeconds?: number;
  log?: Logger;
}

export interface PeriodicGc {
  /** Stop the timer; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

export function startPeriodicGc(engine: Engine, opts: PeriodicGcOptions): PeriodicGc {
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    try {
      const r = await engine.gc(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {});
      for (const e of r.removed) opts.log?.info({ attachment: e.attachment, ports: e.ports, link: e.link, reason: e.reason, detail: e.detail }, 'periodic gc removed an attachment');
      opts.log?.debug({ removed: r.removed.length, kept: r.kept.length }, 'periodic gc done');
    } catch (e) {
      opts.log?.warn({ err: e }, 'periodic gc failed; retrying at the next interval');
    }
  };
  const timer = setInterval(() => {
    running ??= once().finally(() => (running = undefined));
  }, opts.intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
