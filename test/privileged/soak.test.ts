/**
 * The two-minute soak (faults.md E5; `npm run soak` runs the long one): attach/detach
 * cycles through the library, the daemon and the CLI while ovsdb-server is restarted and
 * frozen, ovs-vswitchd restarted and containers destroyed mid-attach. Then nothing is left
 * (host veths, OVS ports, namespaces, processes), every error was a typed NetplumbError,
 * and the fd count is back where it started.
 */
import { test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { runSoak } from '../soak/soak.js';
import { soakVerdict } from '../soak/verdict.js';
import { useLeakCheck } from '../helpers/leak.js';

useLeakCheck();

const MINUTES = Number(process.env.NETPLUMB_SOAK_TEST_MINUTES ?? 2);

test(`E5: ${MINUTES}-minute soak with random faults leaves nothing behind and every error typed`, {
  timeout: (MINUTES + 3) * 60_000,
}, async () => {
  const seed = Number(process.env.NETPLUMB_SOAK_SEED ?? Date.now() % 2 ** 31);
  const report = await runSoak({
    cycles: Infinity,
    maxDurationMs: MINUTES * 60_000,
    guests: 24,
    workers: 8,
    faultEveryMs: 5000,
    cliEvery: 40,
    seed,
  });
  const problems = soakVerdict(report);
  assert.deepEqual(problems, [], `seed ${seed}: ${JSON.stringify(report)}`);
  // The run did real work under real faults.
  assert.ok(report.cycles >= 100, `only ${report.cycles} cycles in ${MINUTES} min`);
  assert.ok(
    Object.values(report.faults).reduce((a, b) => a + b, 0) >= 10,
    `faults injected: ${JSON.stringify(report.faults)}`,
  );
  assert.ok(
    (report.byEngine.cli ?? 0) > 0 && (report.byEngine.daemon ?? 0) > 0 && (report.byEngine.library ?? 0) > 0,
    JSON.stringify(report.byEngine),
  );
});
