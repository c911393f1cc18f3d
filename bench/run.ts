/**
 * `npm run bench -- <name…|all>`: each benchmark in its own process, one after another.
 * Each child prints a table and, as its last line, one JSON object; this runner passes
 * the output through and ends with one JSON object keyed by benchmark name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

const here = __dirname;
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.endsWith('.d.js'))
  .map((f) => f.slice(0, -3))
  .sort();

function main(argv: string[]): number {
  const wanted = argv.length === 0 || argv.includes('all') ? available : argv;
  const unknown = wanted.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}, all\n`);
    return 2;
  }
  const results: Record<string, unknown> = {};
  let failed = 0;
  for (const name of wanted) {
    const file = path.join(here, `${name}.js`);
    if (!existsSync(file)) continue;
    process.stdout.write(`\n== ${name} ==\n`);
    const r = spawnSync(process.execPath, ['--expose-gc', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 256 * 1024 * 1024,
    });
    const out = r.stdout.toString();
    process.stdout.write(out);
    const last = out.trim().split('\n').pop() ?? '';
    try {
      results[name] = JSON.parse(last);
    } catch {
      results[name] = { error: `exit ${r.status ?? r.signal}`, output: last };
      failed++;
    }
  }
  if (wanted.length > 1) process.stdout.write(`${JSON.stringify(results)}\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
