/**
 * `npm run soak`: the long soak (10,000 cycles by default; NETPLUMB_SOAK_CYCLES,
 * NETPLUMB_SOAK_MINUTES, NETPLUMB_SOAK_SEED). Progress on stderr; the last stdout line is
 * the report as one JSON object. Exit 1 when anything leaked or an error was untyped.
 * It lives outside test/ so that `node --test dist/test/` never runs it.
 */
import { runSoak } from '../test/soak/soak.js';
import { soakVerdict } from '../test/soak/verdict.js';

async function main(): Promise<void> {
  const report = await runSoak({
    cycles: Number(process.env.NETPLUMB_SOAK_CYCLES ?? 10_000),
    maxDurationMs: Number(process.env.NETPLUMB_SOAK_MINUTES ?? 60) * 60_000,
    guests: 48,
    workers: 16,
    faultEveryMs: 4000,
    cliEvery: 50,
    seed: Number(process.env.NETPLUMB_SOAK_SEED ?? Date.now() % 2 ** 31),
    progress: (line) => process.stderr.write(`soak: ${line}\n`),
  });
  const problems = soakVerdict(report);
  for (const p of problems) process.stderr.write(`soak: FAIL ${p}\n`);
  process.stdout.write(`${JSON.stringify({ ...report, ok: problems.length === 0 })}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`soak failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
