/**
 * Fuzzing the daemon's input: the line framing (any bytes, any chunking), the structural
 * check of each method's params (any JSON: wrong types, deep nests, huge strings,
 * `__proto__` and `constructor` keys), and the rebuilding of a NetplumbError from a
 * JSON-RPC error object. Params are accepted or refused with INVALID_ARGUMENT naming the
 * field; an error object always becomes a NetplumbError.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { ErrorCode, NetplumbError } from '../../src/errors.js';
import { attachParams, detachParams, gcParams, listParams, noParams } from '../../src/daemon/params.js';
import { errorFromRpc, jsonDepthExceeds } from '../../src/daemon/protocol.js';
import { LineSplitter } from '../../src/line-splitter.js';
import { returnsOrThrows } from './support/assert-error.js';
import { chunking, fuzz, hostileJson, hostileString, pieces } from './support/fuzz.js';

/** What feeding `chunks` gives: the lines, and whether the splitter overflowed (it is dropped then). */
function feed(chunks: readonly Buffer[], maxBytes: number): { lines: string[]; overflow: boolean } {
  const s = new LineSplitter(maxBytes);
  const lines: string[] = [];
  for (const c of chunks) {
    const r = s.push(c);
    if (r === 'overflow') return { lines, overflow: true };
    lines.push(...r);
  }
  return { lines, overflow: false };
}

const linePart = fc.oneof(
  fc.string({ maxLength: 12 }).map((t) => Buffer.from(t)),
  fc.constantFrom('\n', '\r\n', '\r', ' \n', '{"jsonrpc":"2.0","id":1,"method":"ping"}\n').map((t) => Buffer.from(t)),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.constantFrom([0xe2, 0x82], [0xac], [0xf0, 0x9f, 0x98], [0x80], [0xff, 0x0a]).map((b) => Buffer.from(b)),
);

fuzz(
  'daemon',
  'line splitter: any chunking of any bytes gives the lines, and the overflow, of feeding them byte by byte',
  fc.tuple(
    fc.array(linePart, { maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 10 }),
    fc.integer({ min: 1, max: 40 }),
  ),
  ([parts, cuts, maxBytes]) => {
    const bytes = Buffer.concat(parts);
    const reference = feed(
      pieces(
        bytes,
        Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1),
      ),
      maxBytes,
    );
    const chunked = feed(pieces(bytes, chunking(bytes.length, cuts)), maxBytes);
    assert.equal(chunked.overflow, reference.overflow);
    // The lines a chunk completed before its overflow are dropped with it (the connection is closed): a prefix, in order.
    if (reference.overflow) assert.deepEqual(chunked.lines, reference.lines.slice(0, chunked.lines.length));
    else assert.deepEqual(chunked.lines, reference.lines);
    for (const line of chunked.lines) {
      assert.ok(!line.includes('\n') && line.trim() !== '', JSON.stringify(line));
      jsonDepthExceeds(line, 32);
    }
  },
);

const PARAMS: readonly ((v: unknown) => unknown)[] = [attachParams, detachParams, listParams, gcParams, noParams];

fuzz(
  'daemon',
  'params of every method: any JSON value is accepted or refused with INVALID_ARGUMENT naming a field',
  hostileJson(),
  (v) => {
    for (const check of PARAMS) returnsOrThrows(() => check(v), 'INVALID_ARGUMENT');
  },
);

// ------------------------------------------------------------------ valid params, and valid params with one part replaced

const word = fc.string({ minLength: 1, maxLength: 12 });
const guest = fc.oneof(
  word,
  word.map((container) => ({ container })),
  word.map((netns) => ({ netns })),
  word.map((path) => ({ path })),
  fc.record({ pid: fc.nat() }),
  fc.record({ pid: fc.nat(), startTime: fc.nat() }),
);
const ip = fc.oneof(
  fc.constant({ kind: 'none' }),
  fc.record({ kind: fc.constant('static'), address: word, gateway: word }, { requiredKeys: ['kind', 'address'] }),
  fc.record({
    kind: fc.constant('dhcp'),
    client: fc.constantFrom('udhcpc', 'dhclient', 'dhcpcd'),
    foreground: fc.boolean(),
    options: fc.array(word, { maxLength: 3 }),
  }),
);
const attachSpec = fc.record(
  {
    host: word,
    guest,
    ip,
    hostMac: word,
    mode: word,
    ifname: word,
    hostIfname: word,
    mac: word,
    macvlanMode: word,
    family: fc.constantFrom(4, 6),
    vlan: fc.integer(),
    mtu: fc.integer(),
    waitUpMs: fc.nat(),
    trunks: fc.array(fc.integer({ min: 1, max: 4094 }), { maxLength: 4 }),
    createBridge: fc.boolean(),
    force: fc.boolean(),
    allowHostNetns: fc.boolean(),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['host', 'guest', 'ip'] },
);

/** As it arrives: through JSON (fast-check's records have no prototype; JSON.parse's objects do). */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

fuzz(
  'daemon',
  'valid attach, detach, list and gc params are accepted unchanged',
  fc.tuple(attachSpec, guest, fc.option(word), fc.option(fc.boolean())),
  ([spec, g, ifname, dryRun]) => {
    const s = wire(spec) as Record<string, unknown>;
    assert.deepEqual(attachParams(s), s);
    const detach = wire({ guest: g, ...(ifname !== null ? { ifname } : {}) });
    assert.deepEqual(detachParams(detach), detach);
    assert.deepEqual(listParams(wire({ guest: g })), wire({ guest: g }));
    assert.deepEqual(gcParams(wire(dryRun === null ? {} : { dryRun })), { dryRun: dryRun === true });
  },
);

/** Where to put a random value into valid params: a top-level key, or a key of ip, guest or metadata. */
const slot = fc.tuple(
  fc.constantFrom(null, 'ip', 'guest', 'metadata'),
  fc.oneof(
    fc.constantFrom(
      'host',
      'guest',
      'ip',
      'kind',
      'address',
      'client',
      'options',
      'pid',
      'startTime',
      'netns',
      'trunks',
      'metadata',
      'vlan',
      'family',
      'foreground',
    ),
    hostileString(12),
  ),
);

fuzz(
  'daemon',
  'valid params with one part replaced by any JSON value are accepted or refused with INVALID_ARGUMENT',
  fc.tuple(attachSpec, slot, hostileJson(200)),
  ([spec, [parent, key], value]) => {
    const s = wire(spec) as Record<string, unknown>;
    const target = parent === null ? s : s[parent];
    if (typeof target === 'object' && target !== null)
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
    else s[parent ?? key] = value;
    returnsOrThrows(() => attachParams(s), 'INVALID_ARGUMENT');
    returnsOrThrows(() => detachParams({ guest: s.guest, ifname: s.ifname }), 'INVALID_ARGUMENT');
    returnsOrThrows(() => listParams({ guest: s.guest }), 'INVALID_ARGUMENT');
  },
);

// ------------------------------------------------------------------ error objects

const errorCode = fc.constantFrom(...Object.values(ErrorCode));

fuzz(
  'daemon',
  'errorFromRpc: any error object becomes a NetplumbError; a NetplumbError sent as data comes back the same',
  fc.tuple(
    hostileJson(200),
    errorCode,
    fc.string({ maxLength: 40 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== 'code' && k !== 'message'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    ),
  ),
  ([any, code, message, details]) => {
    for (const err of [
      any,
      { code: any, message: any, data: any },
      { code: -32000, message: 'x', data: { code: any, message: any } },
    ]) {
      if (typeof err !== 'object' || err === null) continue;
      assert.ok(errorFromRpc(err as Record<string, unknown>) instanceof NetplumbError);
    }
    const sent = new NetplumbError(code, message, wire(details) as Record<string, unknown>);
    const back = errorFromRpc(wire({ code: -32000, message, data: sent.toJSON() }) as Record<string, unknown>);
    assert.deepEqual([back.code, back.message, back.details], [sent.code, sent.message, sent.details]);
  },
);
