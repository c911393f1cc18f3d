/**
 * The gate every privileged and e2e file goes through (test/helpers/privileged.ts), seen from
 * outside: a test file run as an unprivileged user (setpriv, uid/gid 65534, no capabilities)
 * reports exactly one test — skipped with the reason, or failed when CI is set — and none of
 * its own tests or hooks runs. The file and a copy of the gate live in a temp dir that user
 * can read.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../sandbox/exec.js';
import { PRIVILEGED_REASON, test } from '../helpers/privileged.js';

const GATE = join(__dirname, '..', 'helpers', 'privileged.js');
/** A file whose test and hooks would each fail loudly if registered. */
const PROBE = `
const { test, before, after, describe } = require('./privileged.js');
before(() => { throw new Error('PROBE before ran'); });
after(() => { throw new Error('PROBE after ran'); });
describe('PROBE suite', () => { throw new Error('PROBE describe ran'); });
test('PROBE test', () => { throw new Error('PROBE test ran'); });
`;

async function runUnprivileged(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'np-gate-'));
  try {
    chmodSync(dir, 0o755);
    copyFileSync(GATE, join(dir, 'privileged.js'));
    writeFileSync(join(dir, 'probe.test.js'), PROBE);
    const r = await run(
      [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '--test',
        '--test-reporter=tap',
        join(dir, 'probe.test.js'),
      ],
      { env, timeoutMs: 60_000 },
    );
    return { code: r.code, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This environment without CI, and without the runner's own marker (a file run from a test is not a nested run). */
function withoutCi(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test('not root: one skipped test saying why, nothing of the file runs, exit 0', async () => {
  const r = await runUnprivileged(withoutCi());
  assert.equal(r.code, 0, r.out);
  const results = r.out.split('\n').filter((l) => /^(not )?ok \d/.test(l));
  assert.deepEqual(results, [`ok 1 - ${PRIVILEGED_REASON} # SKIP uid 65534, without CAP_NET_ADMIN, CAP_SYS_ADMIN`]);
  assert.doesNotMatch(r.out, /PROBE/);
});

test('not root with CI set: the same one test fails, exit 1', async () => {
  const r = await runUnprivileged({ ...withoutCi(), CI: 'true' });
  assert.equal(r.code, 1, r.out);
  const results = r.out.split('\n').filter((l) => /^(not )?ok \d/.test(l));
  assert.deepEqual(results, [`not ok 1 - ${PRIVILEGED_REASON}`]);
  assert.match(r.out, /CI is set: privileged tests must run in CI, as root; not skipping them/);
  assert.doesNotMatch(r.out, /PROBE/);
});
