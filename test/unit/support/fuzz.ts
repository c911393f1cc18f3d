/**
 * Property-based fuzzing: `fuzz(target, property, arbitrary, check)` registers one test that
 * runs `check` on NETPLUMB_FUZZ_RUNS generated cases (default 2000; `weight` scales it for
 * properties whose cases are costly). On top of what `check` asserts, every property
 * asserts that:
 *   - each case finishes within NETPLUMB_FUZZ_CASE_MS (default 250 ms) of CPU time (this
 *     process's, not the wall clock's: a loaded machine delays a case without making it
 *     pathological);
 *   - nothing was thrown asynchronously (no uncaught exception, no unhandled rejection);
 *   - Object.prototype and Array.prototype were left alone (no prototype pollution).
 *
 * NETPLUMB_FUZZ_SEED replays a run (fast-check prints the seed of a failure).
 * With NETPLUMB_FUZZ_STATS naming a file, one JSON line per property is appended to it
 * (`FuzzStat`), which `long/fuzz.ts` sums up.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

/** The inputs fuzzed: the netlink parser, OVSDB framing and notation, the command lines, the daemon's input. */
export type FuzzTarget = 'netlink' | 'ovsdb' | 'cli' | 'daemon';

/** What one property did, as written to NETPLUMB_FUZZ_STATS. */
export interface FuzzStat {
  target: FuzzTarget;
  property: string;
  cases: number;
  durationMs: number;
  slowestCaseMs: number;
  failed: boolean;
}

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

export const FUZZ_RUNS = envInt('NETPLUMB_FUZZ_RUNS', 2000);
export const CASE_LIMIT_MS = envInt('NETPLUMB_FUZZ_CASE_MS', 250);
const SEED = process.env.NETPLUMB_FUZZ_SEED === undefined ? undefined : envInt('NETPLUMB_FUZZ_SEED', 1);

export interface FuzzOptions {
  /** Fraction of NETPLUMB_FUZZ_RUNS this property runs (default 1). */
  weight?: number;
}

function prototypeShape(): string {
  return [Object.prototype, Array.prototype, Function.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
    .join('|');
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The CPU time (user + system, ms) this process spends running `fn`: unlike the wall clock, blind to other load. */
export function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

export function fuzz<T>(
  target: FuzzTarget,
  property: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => void,
  options: FuzzOptions = {},
): void {
  test(`fuzz ${target}: ${property}`, async () => {
    const numRuns = Math.max(1, Math.round(FUZZ_RUNS * (options.weight ?? 1)));
    const shape = prototypeShape();
    const asyncErrors: unknown[] = [];
    const onAsyncError = (e: unknown): void => {
      asyncErrors.push(e);
    };
    process.on('uncaughtException', onAsyncError);
    process.on('unhandledRejection', onAsyncError);
    const stat: FuzzStat = { target, property, cases: 0, durationMs: 0, slowestCaseMs: 0, failed: true };
    const started = performance.now();
    try {
      fc.assert(
        fc.property(arbitrary, (value) => {
          stat.cases++;
          const ms = cpuMs(() => check(value));
          stat.slowestCaseMs = Math.max(stat.slowestCaseMs, ms);
          if (ms > CASE_LIMIT_MS) throw new Error(`case took ${ms.toFixed(1)} ms, over the ${CASE_LIMIT_MS} ms bound`);
        }),
        { numRuns, includeErrorInReport: true, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
      await settle();
      assert.deepEqual(asyncErrors, [], 'nothing may be thrown asynchronously');
      assert.equal(prototypeShape(), shape, 'Object/Array/Function.prototype changed');
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype.polluted appeared');
      stat.failed = false;
    } finally {
      process.off('uncaughtException', onAsyncError);
      process.off('unhandledRejection', onAsyncError);
      stat.durationMs = Math.round(performance.now() - started);
      stat.slowestCaseMs = Math.round(stat.slowestCaseMs * 10) / 10;
      const file = process.env.NETPLUMB_FUZZ_STATS;
      if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(stat)}\n`);
    }
  });
}

// ------------------------------------------------------------------ shared arbitraries

/** Words that name Object.prototype members or poison plain-object lookups. */
export const HOSTILE_WORDS = [
  '__proto__',
  'constructor',
  'prototype',
  'valueOf',
  'toString',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'polluted',
  'then',
  'length',
  '',
] as const;

/** Strings worth feeding a parser: hostile words, any text (lone surrogates included), and now and then a very long one. */
export function hostileString(maxLength = 24): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_WORDS) },
    { weight: 4, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ maxLength, unit: 'binary' }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('x', 'é', '\0', '"', '\\', '😀'))
        .map(([n, c]) => c.repeat(n)),
    },
  );
}

/** A JSON value before serialisation: objects as entry lists, so that keys such as `__proto__` survive as JSON.parse keeps them (own properties). */
type JsonTree = null | boolean | number | string | { array: JsonTree[] } | { entries: [string, JsonTree][] };

function jsonText(t: JsonTree): string {
  if (t === null || typeof t !== 'object') return JSON.stringify(t);
  if ('array' in t) return `[${t.array.map(jsonText).join(',')}]`;
  return `{${t.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
}

/**
 * Any value JSON.parse can produce, with hostile keys (`__proto__`, `constructor`) as own
 * keys, hostile strings, and now and then a very deep nest (up to `maxDeep` levels).
 */
export function hostileJson(maxDeep = 2000): fc.Arbitrary<unknown> {
  const { tree } = fc.letrec<{ tree: JsonTree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(0, -1, 1, 4, 6, 4094, 2 ** 32, 2 ** 53),
      ),
      hostileString(),
      fc.array(tie('tree'), { maxLength: 4 }).map((array) => ({ array })),
      fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_WORDS), fc.string({ maxLength: 8 })), tie('tree')), {
          maxLength: 4,
        })
        .map((entries) => ({ entries })),
    ),
  }));
  const deep = fc
    .tuple(fc.integer({ min: 1, max: maxDeep }), fc.boolean())
    .map(([n, obj]) => (obj ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}` : '['.repeat(n) + ']'.repeat(n)));
  return fc
    .oneof({ weight: 9, arbitrary: tree.map(jsonText) }, { weight: 1, arbitrary: deep })
    .map((text) => JSON.parse(text) as unknown);
}

/** Cut points for a buffer of `length` bytes: sorted, distinct, inside it. */
export function chunking(length: number, cuts: readonly number[]): number[] {
  return [...new Set(cuts.map((c) => c % (length + 1)))].sort((a, b) => a - b);
}

/** `bytes` cut at `at` into consecutive pieces (covering all of it). */
export function pieces(bytes: Buffer, at: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, cut));
    prev = cut;
  }
  return out;
}
