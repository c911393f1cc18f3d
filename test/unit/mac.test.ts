/** pipework's stable `U:<seed>` MAC and MAC normalisation (faults.md A6). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { parseMac, stableMac, stableMacSeedBytes } from '../../src/plumb/mac.js';
import { throwsCode } from './support/assert-error.js';

/** What pipework computes: `echo $seed | md5sum`, i.e. md5 over the seed's bytes plus a newline. */
function expectedStableMac(seed: string): string {
  const hex = createHash('md5')
    .update(Buffer.concat([Buffer.from(seed, 'utf8'), Buffer.from([0x0a])]))
    .digest('hex');
  return `02:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}`;
}

test("U:<seed> matches the output of pipework's own pipeline under dash (recorded fixtures)", () => {
  // sh -c 'echo $1 | md5sum | sed "s/^\(..\)\(..\)\(..\)\(..\)\(..\).*$/02:\1:\2:\3:\4:\5/"' _ SEED
  assert.equal(stableMac('seed'), '02:0d:ab:e0:ac:32');
  assert.equal(stableMac('web1-eth2'), '02:48:db:00:2f:84');
  assert.equal(stableMac('café'), '02:6e:99:83:4b:7c');
});

test('U:<seed> equals 02: + the first 40 bits of md5(seed + "\\n"), for arbitrary shell-safe seeds', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_.:@%+=,^-]{1,40}$/), (seed) => {
      fc.pre(!/^-[neE]+$/.test(seed));
      assert.equal(stableMac(seed), expectedStableMac(seed));
      assert.deepEqual(stableMacSeedBytes(seed), Buffer.from(`${seed}\n`));
    }),
    { numRuns: 500 },
  );
});

test('the stable MAC is unicast and locally administered', () => {
  const first = parseInt(stableMac('anything').slice(0, 2), 16);
  assert.equal(first & 1, 0);
  assert.equal(first & 2, 2);
});

test('seeds the shell would alter are refused (whitespace, backslash, globs, echo options, empty)', () => {
  for (const bad of [
    '',
    'a b',
    'a\tb',
    'a\nb',
    'a\\nb',
    'a*',
    'a?',
    'a[b]',
    '-n',
    '-e',
    '-neE',
    'a\u0000b',
    'a\u001bb',
  ]) {
    throwsCode(() => stableMac(bad), 'INVALID_ARGUMENT', 'mac');
    throwsCode(() => parseMac('mac', `U:${bad}`), 'INVALID_ARGUMENT', 'mac');
  }
  assert.equal(stableMac('-x'), expectedStableMac('-x'));
});

test('A6: invalid literal MACs are refused; dashes and upper case are normalised', () => {
  for (const bad of [
    'ff:ff:ff:ff:ff:ff',
    '00:00:00:00:00:00',
    'aa:bb:cc:dd:ee',
    'AA:BB:CC:DD:EE:FG',
    'aabb.ccdd.eeff',
  ]) {
    throwsCode(() => parseMac('mac', bad), 'INVALID_ARGUMENT', 'mac');
  }
  assert.deepEqual(parseMac('mac', 'AA-BB-CC-DD-EE-01'), { address: 'aa:bb:cc:dd:ee:01' });
  assert.deepEqual(parseMac('mac', '02:42:AC:11:00:02'), { address: '02:42:ac:11:00:02' });
});

test('parseMac derives U:<seed> and keeps the seed (the spec sent to a daemon says U:<seed>)', () => {
  assert.deepEqual(parseMac('mac', 'U:web1-eth2'), { address: '02:48:db:00:2f:84', seed: 'web1-eth2' });
});

test('a lower-case u: prefix gets a hint', () => {
  assert.throws(() => parseMac('mac', 'u:web1'), /did you mean U:web1\?/);
});
