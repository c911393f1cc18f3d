import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import { parseRpcMessage } from '../../src/ovsdb/jsonrpc.js';
import { JsonStreamSplitter } from '../../src/ovsdb/stream.js';

const FIXTURES: unknown[] = [
  { id: 1, result: [{ uuid: ['uuid', '7d142ab3-90bb-43a0-a36a-29ac06fe580d'] }], error: null },
  {
    id: null,
    method: 'update',
    params: ['m', { Port: { x: { new: { name: 'é€😀 "quoted" \\ back\\slash }]{[' } } } }],
  },
  { id: 'echo', method: 'echo', params: [] },
  [1, 'two', { three: [3, '\u00e9\u4e2d'] }],
  { s: '\\', t: '\\"', u: '"\\\\"' },
];

function feedSplit(bytes: Buffer, at: number[]): unknown[] {
  const s = new JsonStreamSplitter();
  const out: unknown[] = [];
  let prev = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(...s.push(bytes.subarray(prev, cut)));
    prev = cut;
  }
  assert.equal(s.bufferedBytes, 0);
  return out;
}

function expectProtocol(fn: () => unknown, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof NetplumbError && e.code === 'PROTOCOL' && (!re || re.test(e.message)));
}

describe('JsonStreamSplitter', () => {
  const stream = Buffer.from(FIXTURES.map((f) => JSON.stringify(f)).join(' \n'));

  it('splits concatenated texts fed in one chunk', () => {
    assert.deepEqual(feedSplit(stream, []), FIXTURES);
  });

  it('survives a split at every byte (inside UTF-8 sequences, strings, escapes)', () => {
    for (let i = 0; i <= stream.length; i++) assert.deepEqual(feedSplit(stream, [i]), FIXTURES, `split at ${i}`);
  });

  it('survives two splits at every pair of points in a multibyte/escape fixture', () => {
    const b = Buffer.from(JSON.stringify(FIXTURES[1]) + JSON.stringify(FIXTURES[4]));
    for (let i = 0; i <= b.length; i++)
      for (let j = i; j <= b.length; j++) assert.deepEqual(feedSplit(b, [i, j]), [FIXTURES[1], FIXTURES[4]]);
  });

  it('round-trips random JSON objects/arrays concatenated and chopped randomly (property)', () => {
    const value = fc.oneof(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), fc.array(fc.jsonValue()));
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (values, cuts) => {
          const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(''));
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          assert.deepEqual(feedSplit(bytes, at), JSON.parse(JSON.stringify(values)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a message over the size bound, even when it never completes', () => {
    const s = new JsonStreamSplitter({ maxMessageBytes: 100 });
    assert.deepEqual(s.push(Buffer.from(`{"a":"${'x'.repeat(80)}"}`)), [{ a: 'x'.repeat(80) }]);
    s.push(Buffer.from('{"a":"'));
    expectProtocol(() => s.push(Buffer.from('y'.repeat(200))), /larger than 100 bytes/);
    expectProtocol(() => s.push(Buffer.from('{}')), /larger than/); // stays broken
  });

  it('a text of exactly maxMessageBytes is accepted, also after others in the same chunk (found by fuzzing: `{}` with a bound of 2 was "larger than 2 bytes")', () => {
    assert.deepEqual(new JsonStreamSplitter({ maxMessageBytes: 2 }).push(Buffer.from('{}')), [{}]);
    // Two texts of 100 bytes in one 200-byte chunk, bound 160: each fits.
    const text = JSON.stringify({ a: 'x'.repeat(92) });
    assert.equal(text.length, 100);
    assert.deepEqual(new JsonStreamSplitter({ maxMessageBytes: 160 }).push(Buffer.from(text + text)), [
      JSON.parse(text),
      JSON.parse(text),
    ]);
    expectProtocol(
      () => new JsonStreamSplitter({ maxMessageBytes: 99 }).push(Buffer.from(text)),
      /larger than 99 bytes/,
    );
  });

  it('rejects nesting deeper than the bound', () => {
    const s = new JsonStreamSplitter({ maxDepth: 10 });
    assert.equal(s.push(Buffer.from('['.repeat(10) + ']'.repeat(10))).length, 1);
    expectProtocol(
      () => new JsonStreamSplitter({ maxDepth: 10 }).push(Buffer.from('['.repeat(11))),
      /nesting deeper than 10/,
    );
  });

  it('rejects invalid JSON, invalid UTF-8 and top-level scalars with PROTOCOL', () => {
    expectProtocol(() => new JsonStreamSplitter().push(Buffer.from('{"a":}')));
    expectProtocol(
      () => new JsonStreamSplitter().push(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
      /UTF-8/,
    );
    expectProtocol(() => new JsonStreamSplitter().push(Buffer.from('42')), /expected '\{' or '\['/);
    expectProtocol(() => new JsonStreamSplitter().push(Buffer.from('}')));
  });

  it('never throws anything but a PROTOCOL NetplumbError on garbage (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
        const s = new JsonStreamSplitter({ maxMessageBytes: 256, maxDepth: 8 });
        for (const c of chunks) {
          try {
            s.push(c);
          } catch (e) {
            assert.ok(e instanceof NetplumbError && e.code === 'PROTOCOL', String(e));
            return;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRpcMessage', () => {
  it('accepts an error reply without a "result" member, as ovsdb-server sends some', () => {
    assert.deepEqual(parseRpcMessage({ id: 404, error: { error: 'syntax error', details: 'duplicate monitor ID' } }), {
      kind: 'response',
      id: 404,
      result: null,
      error: { error: 'syntax error', details: 'duplicate monitor ID' },
    });
  });
  it('classifies requests, notifications and responses', () => {
    assert.deepEqual(parseRpcMessage({ id: 'echo', method: 'echo', params: [] }), {
      kind: 'request',
      id: 'echo',
      method: 'echo',
      params: [],
    });
    assert.deepEqual(parseRpcMessage({ id: null, method: 'update', params: [1] }), {
      kind: 'notification',
      method: 'update',
      params: [1],
    });
    assert.deepEqual(parseRpcMessage({ id: 3, result: [], error: null }), {
      kind: 'response',
      id: 3,
      result: [],
      error: null,
    });
    assert.deepEqual(parseRpcMessage({ id: 3, result: null, error: { error: 'unknown method' } }).kind, 'response');
  });

  it('rejects malformed messages with PROTOCOL', () => {
    for (const bad of [
      null,
      1,
      'x',
      [],
      { id: 1 },
      { id: 1, method: 2, params: [] },
      { id: 1, method: 'x', params: {} },
      { id: {}, result: 1, error: null },
      { id: 1, result: 1, error: 'e' },
      { jsonrpc: '2.0', id: 1, result: 1, error: null },
      { id: true, method: 'echo', params: [] },
    ]) {
      expectProtocol(() => parseRpcMessage(bad));
    }
  });
});
