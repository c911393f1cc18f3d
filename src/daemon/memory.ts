/**
 * The daemon's memory: a small young generation, and what a burst left behind handed back
 * once the daemon is idle.
 *
 * Node's default young generation grows to 3 × 16 MiB and stays committed; a daemon that
 * serves bursts of attaches keeps it, and the allocator's free pages, for good. `serve`
 * therefore runs with DAEMON_V8_FLAGS: when started without them, it replaces itself once
 * (execve, the same pid, as systemd and the caller see it) with the same command plus the
 * flags. After each burst, once nothing has been in flight for IDLE_TRIM_MS, it runs a full
 * GC and returns the allocator's free pages to the kernel (malloc_trim).
 */
import type { Logger } from 'pino';
import { native } from '../native.js';
import { errnoName } from '../netlink/errno.js';

/** V8 flags of `netplumb serve`: a 4 MiB semi-space (young generation 12 MiB), and gc() for the idle trim. */
export const DAEMON_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc'];
const IDLE_TRIM_MS = 2000;

/**
 * Re-execute this process with DAEMON_V8_FLAGS unless it already runs with them (or
 * NETPLUMB_SERVE_REEXEC=0). Returns only when it did not: why, for the log.
 */
export function reexecWithDaemonFlags(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = DAEMON_V8_FLAGS.filter((f) => !process.execArgv.includes(f));
  if (missing.length === 0) return undefined;
  if (env.NETPLUMB_SERVE_REEXEC === '0') return 'NETPLUMB_SERVE_REEXEC=0';
  const err = native().reexec([process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)]);
  return `execve failed (${errnoName(err.errno)}); running with the default heap settings`;
}

export interface IdleTrim {
  /** Call when the last request in flight has finished: a trim follows unless work resumes first. */
  idle(): void;
  /** Call when a request starts. */
  busy(): void;
  stop(): void;
}

/** Full GC + malloc_trim after IDLE_TRIM_MS without work (only when gc() is exposed). */
export function startIdleTrim(log?: Logger): IdleTrim {
  const gc = (globalThis as { gc?: () => void }).gc;
  let timer: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    idle() {
      if (gc === undefined) return;
      cancel();
      timer = setTimeout(() => {
        timer = undefined;
        const before = process.memoryUsage.rss();
        gc();
        const released = native().trimMemory();
        log?.debug(
          {
            rssBeforeMb: Math.round(before / 2 ** 20),
            rssAfterMb: Math.round(process.memoryUsage.rss() / 2 ** 20),
            released,
          },
          'idle: memory trimmed',
        );
      }, IDLE_TRIM_MS);
      timer.unref();
    },
    busy: cancel,
    stop: cancel,
  };
}
