import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import {
  decodeIntegerSet,
  decodeMap,
  decodeOptional,
  decodeStringMap,
  decodeStringSet,
  decodeUuid,
  map,
  namedUuid,
  optional,
  set,
  uuid,
  validateString,
  validateStringMap,
  validateUserExternalIds,
} from '../../src/ovsdb/notation.js';

const U = '7d142ab3-90bb-43a0-a36a-29ac06fe580d';

function expectInvalid(fn: () => unknown, re?: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT' && (!re || re.test(e.message)),
  );
}

describe('notation encoders/decoders', () => {
  it('encodes uuid, named-uuid, set, map, optional', () => {
    assert.deepEqual(uuid(U.toUpperCase()), ['uuid', U]);
    assert.deepEqual(namedUuid('port0'), ['named-uuid', 'port0']);
    assert.deepEqual(set(['a', 'b']), ['set', ['a', 'b']]);
    assert.deepEqual(map({ k: 'v' }), ['map', [['k', 'v']]]);
    assert.deepEqual(map(new Map([[1, 'one']])), ['map', [[1, 'one']]]);
    assert.deepEqual(optional(undefined), ['set', []]);
    assert.equal(optional(5), 5);
    expectInvalid(() => uuid('nope'));
    expectInvalid(() => namedUuid('1bad-name'));
  });

  it('decodes sets (a bare atom is a set of one) and optionals', () => {
    assert.deepEqual(decodeStringSet(['set', [['uuid', U], 'x']]), [U, 'x']);
    assert.deepEqual(decodeStringSet('only'), ['only']);
    assert.deepEqual(decodeStringSet(undefined), []);
    assert.deepEqual(decodeIntegerSet(['set', [1, 2]]), [1, 2]);
    assert.equal(decodeOptional(['set', []]), undefined);
    assert.equal(decodeOptional(100), 100);
    assert.equal(decodeUuid(['uuid', U]), U);
  });

  it('round-trips string sets and string maps (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string()), fc.dictionary(fc.string(), fc.string()), (arr, rec) => {
        assert.deepEqual(decodeStringSet(JSON.parse(JSON.stringify(set(arr)))), arr);
        assert.deepEqual({ ...decodeStringMap(JSON.parse(JSON.stringify(map(rec)))) }, { ...rec });
      }),
    );
  });

  it('decodes maps to Map and rejects malformed notation with PROTOCOL', () => {
    assert.deepEqual(decodeMap(['map', [['a', 1]]]), new Map([['a', 1]]));
    for (const bad of [['map', [['a']]], ['map', 'x'], { a: 1 }, ['set', [{}]], ['set']]) {
      assert.throws(
        () => (Array.isArray(bad) && bad[0] === 'set' ? decodeStringSet(bad) : decodeMap(bad)),
        (e: unknown) => e instanceof NetplumbError && e.code === 'PROTOCOL',
      );
    }
    assert.throws(
      () => decodeUuid('x'),
      (e: unknown) => e instanceof NetplumbError && e.code === 'PROTOCOL',
    );
    assert.throws(
      () => decodeOptional(['set', [1, 2]]),
      (e: unknown) => e instanceof NetplumbError && e.code === 'PROTOCOL',
    );
  });
});

describe('validation (faults A8/A9)', () => {
  it('rejects NUL, control characters, lone surrogates, U+FFFD from invalid UTF-8 and over-long values', () => {
    expectInvalid(() => validateString('v', 'a\u0000b'), /U\+0000/);
    expectInvalid(() => validateString('v', 'a\u001bb'), /U\+001B/);
    expectInvalid(() => validateString('v', 'a\ud800b'), /lone surrogate/);
    expectInvalid(() => validateString('v', '\udc00'), /lone surrogate/);
    expectInvalid(() => validateString('v', Buffer.from([0x61, 0xff, 0x62]).toString('utf8')), /U\+FFFD/);
    expectInvalid(() => validateString('v', 'x'.repeat(10 * 1024)), /longer than/);
    expectInvalid(() => validateString('v', ''), /empty/);
    expectInvalid(() => validateString('v', 5));
    assert.equal(validateString('v', 'ok 😀 é'), 'ok 😀 é');
  });

  it('stores shell-looking values literally (JSON-RPC, no shell)', () => {
    assert.deepEqual(validateStringMap('e', { note: 'a;b -- del-br br0' }), { note: 'a;b -- del-br br0' });
  });

  it('rejects unsafe external_ids keys', () => {
    expectInvalid(() => validateStringMap('e', { 'Foo Bar': 'x' }), /key must match/);
    expectInvalid(() => validateStringMap('e', { '': 'x' }));
    expectInvalid(() => validateStringMap('e', { 'k\n': 'x' }));
  });

  it('validateUserExternalIds refuses reserved and netplumb.* keys', () => {
    for (const k of ['iface-id', 'attached-mac', 'iface-status', 'vm-id', 'netplumb.owner', 'netplumb.attachment']) {
      expectInvalid(() => validateUserExternalIds({ [k]: 'x' }), /reserved/);
    }
    assert.deepEqual(validateUserExternalIds({ app: 'web', 'team.name': 'net' }), { app: 'web', 'team.name': 'net' });
  });
});
