/**
 * The installed commands run from one-file bundles (scripts/bundle.js): every module of the
 * engine must be reachable through a literal CommonJS require, never a dynamic import()
 * (which would bypass the bundle and go through Node's ESM loader at run time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = join(__dirname, '..', '..', '..');

for (const cmd of ['pipework', 'netplumb']) {
  test(`the ${cmd} bundle holds the engine and uses no dynamic import()`, () => {
    const text = readFileSync(join(ROOT, 'dist', 'bundle', `${cmd}.js`), 'utf8');
    assert.doesNotMatch(text, /\bimport\(['"]/, 'a dynamic import() of a module');
    for (const m of ['dist/src/plumb/plumber.js', 'dist/src/plumb/ip-words.js', 'dist/src/ovsdb/vswitch.js', 'dist/src/rtnl/rtnl.js', 'dist/src/guest/docker-api.js']) {
      assert.ok(text.includes(JSON.stringify(m)), `${m} is in the ${cmd} bundle`);
    }
  });
}

test('the bundled commands start and answer --help', () => {
  const out = execFileSync(join(ROOT, 'bin', 'pipework'), ['--help']).toString();
  assert.match(out, /pipework <hostinterface>/);
  assert.match(execFileSync(join(ROOT, 'bin', 'netplumb'), ['--help']).toString(), /attach/);
});
