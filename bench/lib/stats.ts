/** Small measurement helpers shared by the benchmarks: timing, percentiles, tables, spawn counting. */
import { ChildProcess } from 'node:child_process';

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Time an async function once, in milliseconds. */
export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = nowMs();
  await fn();
  return nowMs() - t0;
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

export function summary(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  return {
    p50: round(percentile(samples, 50)),
    p99: round(percentile(samples, 99)),
    max: round(Math.max(...samples)),
    n: samples.length,
  };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Print rows as an aligned text table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(round(c)) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  for (const [k, r] of cells.entries()) {
    process.stdout.write(`${r.map((c, i) => String(c).padEnd(widths[i] as number)).join('  ')}\n`);
    if (k === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

/**
 * Count child processes spawned while `fn` runs: every spawn/exec/fork in Node goes
 * through ChildProcess.prototype.spawn.
 */
export async function countSpawns<T>(fn: () => Promise<T>): Promise<{ result: T; spawns: number }> {
  const proto = ChildProcess.prototype as unknown as { spawn: (...a: unknown[]) => unknown };
  const original = proto.spawn;
  let spawns = 0;
  proto.spawn = function (this: unknown, ...args: unknown[]) {
    spawns++;
    return original.apply(this, args);
  };
  try {
    return { result: await fn(), spawns };
  } finally {
    proto.spawn = original;
  }
}

/** A copy of `xs` in a random order drawn from `rand` (Fisher–Yates): methods alternate within a round. */
export function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
