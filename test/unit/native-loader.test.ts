/**
 * Where the addon is loaded from (src/native.ts): the prebuild shipped for this platform first,
 * then a source build under build/Release; when neither loads, a NetplumbError that says what
 * was tried and how to get an addon. Which file was loaded is read from /proc/self/maps (what
 * the dynamic linker mapped), not from the loader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadAddon, nativeArtefactPaths } from '../../src/native.js';
import type { NetplumbError } from '../../src/errors.js';
import { isNetplumbError } from './support/assert-error.js';

const ROOT = join(__dirname, '..', '..', '..');
/** The addon this checkout built (`npm ci` / node-gyp rebuild). */
const BUILT = join(ROOT, 'build', 'Release', 'netplumb.node');

/** A package root of its own with an addon at none, one or both of its places. */
function packageRoot(t: { after: (fn: () => void) => void }): { root: string; prebuild: string; build: string } {
  const root = mkdtempSync(join(tmpdir(), 'np-loader-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const [prebuild, build] = nativeArtefactPaths('netplumb.node', root) as [string, string];
  return { root, prebuild, build };
}

function put(file: string, from: string | Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  if (typeof from === 'string') copyFileSync(from, file);
  else writeFileSync(file, from);
}

/** Is `file` mapped into this process (dlopen'ed)? */
function mapped(file: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .some((line) => line.endsWith(` ${file}`));
}

test('the places tried: prebuilds/<platform>-<arch>/ first, then build/Release/', () => {
  assert.deepEqual(nativeArtefactPaths('netplumb.node', '/pkg'), [
    `/pkg/prebuilds/${process.platform}-${process.arch}/netplumb.node`,
    '/pkg/build/Release/netplumb.node',
  ]);
});

test('no addon anywhere: INCOMPATIBLE, naming both places and the fix', (t) => {
  const { root, prebuild, build } = packageRoot(t);
  assert.throws(
    () => loadAddon(root),
    (e: unknown) => {
      isNetplumbError('INCOMPATIBLE', undefined, /npm rebuild netplumb/)(e);
      const err = e as NetplumbError;
      assert.deepEqual(err.details.tried, [`${prebuild}: absent`, `${build}: absent`]);
      assert.ok(err.message.includes(`${prebuild}: absent; ${build}: absent`), err.message);
      assert.match(err.message, /install python3, make and g\+\+/);
      return true;
    },
  );
});

test('a prebuild that does not load, and no source build: the error gives the dynamic linker’s reason', (t) => {
  const { root, prebuild, build } = packageRoot(t);
  put(prebuild, Buffer.from('not an ELF object\n'));
  assert.throws(
    () => loadAddon(root),
    (e: unknown) => {
      isNetplumbError('INCOMPATIBLE')(e);
      const [first, second] = (e as NetplumbError).details.tried as string[];
      assert.match(first ?? '', /: (invalid ELF header|file too short)$/);
      assert.ok(first?.startsWith(`${prebuild}: `), first);
      assert.equal(second, `${build}: absent`);
      return true;
    },
  );
});

test('a prebuild that does not load falls back to the source build', (t) => {
  const { root, prebuild, build } = packageRoot(t);
  put(prebuild, Buffer.from('not an ELF object\n'));
  put(build, BUILT);
  const addon = loadAddon(root);
  assert.equal(typeof addon.selfNetns, 'function');
  assert.ok(mapped(build), `${build} is mapped`);
});

test('a prebuild that loads is used, even beside a source build', (t) => {
  const { root, prebuild, build } = packageRoot(t);
  put(prebuild, BUILT);
  put(build, BUILT);
  const addon = loadAddon(root);
  assert.equal(typeof addon.openNetlink, 'function');
  assert.ok(mapped(prebuild), `${prebuild} is mapped`);
  assert.ok(!mapped(build), `${build} is not mapped`);
});
