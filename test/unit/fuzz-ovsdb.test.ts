/**
 * Fuzzing OVSDB input: the stream splitter (JSON texts back to back on a byte stream), the
 * JSON-RPC 1.0 message check and the RFC 7047 notation decoders. The splitter must give
 * the same messages, and the same error, however the bytes are chunked; its size and depth
 * bounds must be exact; everything else must return or throw PROTOCOL.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import { parseRpcMessage } from '../../src/ovsdb/jsonrpc.js';
import {
  decodeIntegerSet,
  decodeMap,
  decodeOptional,
  decodeOptionalInteger,
  decodeOptionalString,
  decodeSet,
  decodeStringMap,
  decodeStringSet,
  decodeUuid,
  isValue,
  map,
  optional,
  set,
  uuid,
  type Atom,
} from '../../src/ovsdb/notation.js';
import { JsonStreamSplitter, type JsonSplitterOptions } from '../../src/ovsdb/stream.js';
import { returnsOrThrows } from './support/assert-error.js';
import { chunking, fuzz, hostileJson, pieces } from './support/fuzz.js';

/** What feeding `chunks` in order gives: the messages returned, and the error that stopped the stream, if any. */
function feed(chunks: readonly Buffer[], opts: JsonSplitterOptions): { messages: unknown[]; error?: string } {
  const s = new JsonStreamSplitter(opts);
  const messages: unknown[] = [];
  for (const c of chunks) {
    try {
      messages.push(...s.push(c));
    } catch (e) {
      assert.ok(e instanceof NetplumbError && e.code === 'PROTOCOL', `splitter threw ${String(e)}`);
      return { messages, error: e.message };
    }
  }
  return { messages };
}

/** Byte streams that stress the splitter: JSON texts, whitespace, brackets and quotes in strings, escapes, split UTF-8, garbage. */
const streamPart = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
      )
      .map((v) => Buffer.from(JSON.stringify(v))),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        ' ',
        '\n',
        '\r\n',
        '\t',
        '{"a":"}]{["}',
        '["\\\\",  "\\""]',
        '{"é€😀":"\\u0000"}',
        '[[[[',
        ']]]]',
        '{',
        '}',
        '"',
        '\\',
      )
      .map((t) => Buffer.from(t)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom([0xe2, 0x82], [0xac], [0xf0, 0x9f], [0x98, 0x80], [0xff], [0xc0, 0x80])
      .map((b) => Buffer.from(b)),
  },
);

const splitterOptions: fc.Arbitrary<JsonSplitterOptions> = fc.record(
  { maxMessageBytes: fc.integer({ min: 1, max: 400 }), maxDepth: fc.integer({ min: 1, max: 8 }) },
  { requiredKeys: [] },
);

fuzz(
  'ovsdb',
  'splitter: any chunking of any byte stream gives the same messages and the same error as feeding it byte by byte',
  fc.tuple(fc.array(streamPart, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), splitterOptions),
  ([parts, cuts, opts]) => {
    const bytes = Buffer.concat(parts);
    const reference = feed(
      pieces(
        bytes,
        Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1),
      ),
      opts,
    );
    const chunked = feed(pieces(bytes, chunking(bytes.length, cuts)), opts);
    assert.equal(chunked.error, reference.error);
    if (reference.error === undefined) assert.deepEqual(chunked.messages, reference.messages);
    // After an error, what a chunk completed before it is dropped with the chunk: a prefix, in order.
    else assert.deepEqual(chunked.messages, reference.messages.slice(0, chunked.messages.length));
  },
);

/** Nesting depth of a JSON value (a scalar is 0). */
function depth(v: unknown): number {
  return typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
}

fuzz(
  'ovsdb',
  'splitter: round trip of pretty-printed texts, and the size and depth bounds are exact',
  fc.tuple(
    fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 5 }), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 8, unit: 'binary' }), fc.jsonValue({ maxDepth: 5 }), { maxKeys: 4 }),
    ),
    fc.constantFrom(undefined, 1, 2, '\t'),
    fc.array(fc.nat(), { maxLength: 5 }),
  ),
  ([value, indent, cuts]) => {
    const text = Buffer.from(JSON.stringify(value, null, indent));
    const d = depth(value);
    const exact = { maxMessageBytes: text.length, maxDepth: d };
    const expected = JSON.parse(text.toString()) as unknown;
    assert.deepEqual(feed(pieces(text, chunking(text.length, cuts)), exact), { messages: [expected] });
    assert.match(feed([text], { ...exact, maxMessageBytes: text.length - 1 }).error ?? '', /larger than/);
    if (d > 1) assert.match(feed([text], { ...exact, maxDepth: d - 1 }).error ?? '', /nesting deeper/);
  },
);

const DECODERS: readonly ((v: unknown) => unknown)[] = [
  decodeSet,
  decodeStringSet,
  decodeIntegerSet,
  decodeOptional,
  decodeOptionalInteger,
  decodeOptionalString,
  decodeMap,
  decodeStringMap,
  decodeUuid,
  isValue,
  parseRpcMessage,
];

/** Values shaped like notation (`["set", …]`, `["map", …]`, `["uuid", …]`) with wrong parts, and any JSON. */
const notationLike: fc.Arbitrary<unknown> = fc.oneof(
  hostileJson(128),
  fc
    .tuple(fc.constantFrom('set', 'map', 'uuid', 'named-uuid', '__proto__'), hostileJson(4))
    .map(([tag, v]) => [tag, v]),
  fc
    .array(fc.tuple(fc.oneof(hostileJson(2), fc.constant(['uuid', 'x'])), hostileJson(2)), { maxLength: 4 })
    .map((pairs) => ['map', pairs]),
  fc.array(hostileJson(2), { maxLength: 4 }).map((atoms) => ['set', atoms]),
);

fuzz(
  'ovsdb',
  'notation decoders and the JSON-RPC message check return or fail with PROTOCOL on any JSON value',
  notationLike,
  (v) => {
    for (const decode of DECODERS) returnsOrThrows(() => decode(v), 'PROTOCOL');
  },
);

const UUID = fc.uuid();
const atom: fc.Arbitrary<Atom> = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), UUID.map(uuid));
const plain = (a: Atom): string | number | boolean => (Array.isArray(a) ? a[1] : a);
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

fuzz(
  'ovsdb',
  'notation: set, map, optional and uuid encoders → JSON → decoders is the identity',
  fc.tuple(
    fc.array(atom, { maxLength: 6 }),
    fc.uniqueArray(fc.tuple(atom, atom), { maxLength: 6, selector: ([k]) => plain(k) }),
    fc.option(atom),
    UUID,
  ),
  ([atoms, pairs, opt, u]) => {
    assert.deepEqual(decodeSet(wire(set(atoms))), atoms.map(plain));
    assert.deepEqual(decodeMap(wire(map(new Map(pairs)))), new Map(pairs.map(([k, v]) => [plain(k), plain(v)])));
    assert.equal(decodeOptional(wire(optional(opt))), opt === null ? undefined : plain(opt));
    assert.equal(decodeUuid(wire(uuid(u))), u.toLowerCase());
  },
);
