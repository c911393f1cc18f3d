/**
 * `npm run fuzz [-- RUNS]`: the property-based fuzz tests (test/unit/fuzz-*.test.ts) with
 * RUNS cases per property (default 10000, against 2000 in `npm test`), in one `node --test`
 * child. A child that does not finish within the time bound counts as a hang. Passes the
 * test output through, then prints one JSON line: cases and duration per target and in
 * total, failed properties, hangs. Exits non-zero on any failure or hang.
 *
 * It lives outside test/ so that `node --test dist/test/` never runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FuzzStat } from '../test/unit/support/fuzz.js';

const DEFAULT_RUNS = 10_000;
/** The whole run; a sync loop that never ends is only caught from outside the process. */
const TIME_BOUND_MS = 30 * 60 * 1000;

interface TargetSummary {
  properties: number;
  cases: number;
  durationMs: number;
  slowestCaseMs: number;
}

function main(argv: string[]): number {
  const runs = argv[0] === undefined ? DEFAULT_RUNS : Number(argv[0]);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    process.stderr.write(`usage: npm run fuzz [-- RUNS]  (RUNS: cases per property, default ${DEFAULT_RUNS})\n`);
    return 2;
  }
  const unitDir = path.join(__dirname, '..', 'test', 'unit');
  const files = readdirSync(unitDir)
    .filter((f) => /^fuzz-.*\.test\.js$/.test(f))
    .sort()
    .map((f) => path.join(unitDir, f));
  const dir = mkdtempSync(path.join(tmpdir(), 'netplumb-fuzz-'));
  const statsFile = path.join(dir, 'stats.jsonl');
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NETPLUMB_FUZZ_RUNS: String(runs), NETPLUMB_FUZZ_STATS: statsFile },
    timeout: TIME_BOUND_MS,
    killSignal: 'SIGKILL',
  });
  const durationMs = Date.now() - started;
  let stats: FuzzStat[] = [];
  try {
    stats = readFileSync(statsFile, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as FuzzStat);
  } catch {
    // No property finished: the summary says so (0 cases) and the exit status fails.
  }
  rmSync(dir, { recursive: true, force: true });

  const targets: Record<string, TargetSummary> = {};
  for (const s of stats) {
    const t = targets[s.target] ?? { properties: 0, cases: 0, durationMs: 0, slowestCaseMs: 0 };
    targets[s.target] = t;
    t.properties++;
    t.cases += s.cases;
    t.durationMs += s.durationMs;
    t.slowestCaseMs = Math.max(t.slowestCaseMs, s.slowestCaseMs);
  }
  const hangs = child.error !== undefined || child.signal !== null ? 1 : 0;
  const failures = stats.filter((s) => s.failed).map((s) => `${s.target}: ${s.property}`);
  const summary = {
    runsPerProperty: runs,
    targets,
    totalCases: stats.reduce((n, s) => n + s.cases, 0),
    properties: stats.length,
    durationMs,
    failures: failures.length,
    failed: failures,
    hangs,
    testExitCode: child.status,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failures.length === 0 && hangs === 0 && child.status === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
