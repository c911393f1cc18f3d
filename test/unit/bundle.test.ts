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
    // The command's own part and the lazily loaded rest (the engine).
    const text = ['js', 'more.js']
      .map((ext) => readFileSync(join(ROOT, 'dist', 'bundle', `${cmd}.${ext}`), 'utf8'))
      .join('\n');
    assert.doesNotMatch(text, /\bimport\(['"]/, 'a dynamic import() of a module');
    for (const m of [
      'dist/src/plumb/plumber.js',
      'dist/src/plumb/ip-words.js',
      'dist/src/ovsdb/vswitch.js',
      'dist/src/rtnl/rtnl.js',
      'dist/src/guest/docker-api.js',
    ]) {
      assert.ok(text.includes(JSON.stringify(m)), `${m} is in the ${cmd} bundle`);
    }
  });
}

for (const cmd of ['pipework', 'netplumb']) {
  test(`the ${cmd} bundle leaves the engine to its lazily loaded part`, () => {
    const eager = readFileSync(join(ROOT, 'dist', 'bundle', `${cmd}.js`), 'utf8');
    for (const m of ['dist/src/plumb/plumber.js', 'dist/src/ovsdb/vswitch.js', 'dist/src/rtnl/rtnl.js']) {
      assert.ok(!eager.includes(`\n${JSON.stringify(m)}: [`), `${m} is not compiled by every start of ${cmd}`);
    }
    assert.ok(
      eager.includes(`\n${JSON.stringify('dist/src/daemon/client.js')}: [`),
      `the daemon client is in ${cmd}'s own part`,
    );
  });
}

test('the bundled commands start and answer --help', () => {
  const out = execFileSync(join(ROOT, 'bin', 'pipework'), ['--help']).toString();
  assert.match(out, /pipework <hostinterface>/);
  assert.match(execFileSync(join(ROOT, 'bin', 'netplumb'), ['--help']).toString(), /attach/);
});
