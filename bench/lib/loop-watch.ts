/**
 * Event-loop lag of this process over a stretch of work, with two of its causes measured
 * alongside: garbage-collection pauses, and the time the main thread was ready to run but
 * not running because other threads (ovs-vswitchd, the kernel's work in our pool threads,
 * kworkers) had the CPUs (`/proc/self/task/PID/schedstat`: run time, wait time, in ns).
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { nowMs, round } from './stats.js';

export interface LoopFigures {
  p99Ms: number;
  maxMs: number;
  /** Wall time watched. */
  wallMs: number;
  /** The main thread on a CPU. */
  runMs: number;
  /** The main thread runnable, waiting for a CPU. */
  cpuWaitMs: number;
  /** Garbage collection: total and longest pause. */
  gcPauseMs: number;
  gcMaxMs: number;
}

function mainThreadSchedstat(): { runMs: number; waitMs: number } {
  const [run, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { runMs: (run ?? NaN) / 1e6, waitMs: (wait ?? NaN) / 1e6 };
}

/** Start watching; `stop()` ends it and returns the figures. */
export function watchLoop(): { stop(): LoopFigures } {
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const gc = { total: 0, max: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = nowMs();
  const s0 = mainThreadSchedstat();
  lag.enable();
  return {
    stop: () => {
      lag.disable();
      observer.disconnect();
      const s1 = mainThreadSchedstat();
      return {
        p99Ms: round(lag.percentile(99) / 1e6),
        maxMs: round(lag.max / 1e6),
        wallMs: round(nowMs() - t0),
        runMs: round(s1.runMs - s0.runMs),
        cpuWaitMs: round(s1.waitMs - s0.waitMs),
        gcPauseMs: round(gc.total),
        gcMaxMs: round(gc.max),
      };
    },
  };
}
