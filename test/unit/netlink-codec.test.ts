/** The netlink codec: headers, the attribute writer tree, parse tables, robustness against bad input. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { AttrWriter } from '../../src/netlink/attr-writer.js';
import { attr, attrTable, dec, multiAttr, parseAttrs, splitAttrs } from '../../src/netlink/attr-reader.js';
import { NLA_F } from '../../src/netlink/constants.js';
import { decodeMessages, encodeMessage } from '../../src/netlink/header.js';
import { formatIpv6 } from '../../src/netlink/inet.js';
import { struct } from '../../src/netlink/struct.js';
import { CAPTURES, hex } from './fixtures/iproute2.js';
import { parsesOrProtocolError, throwsCode } from './support/assert-error.js';
import { DECODERS, decodeAny } from './support/netlink-decoders.js';

test('nlmsghdr: encode writes the length, type, flags, seq and pid little-endian and pads to 4', () => {
  const m = encodeMessage({ type: 16, flags: 0x605, seq: 0x6b09bec0, pid: 0 }, Buffer.from([1, 2, 3]));
  assert.equal(m.toString('hex'), '13000000' + '1000' + '0506' + 'c0be096b' + '00000000' + '010203' + '00');
  const [d] = decodeMessages(m);
  assert.deepEqual(
    { type: d?.type, flags: d?.flags, seq: d?.seq, pid: d?.pid, payload: d?.payload.toString('hex') },
    { type: 16, flags: 0x605, seq: 0x6b09bec0, pid: 0, payload: '010203' },
  );
});

test('nlmsghdr: a datagram holding several messages splits into all of them', () => {
  const a = encodeMessage({ type: 16, flags: 2, seq: 1, pid: 7 }, Buffer.alloc(5, 0xaa));
  const b = encodeMessage({ type: 3, flags: 2, seq: 1, pid: 7 }, Buffer.alloc(4));
  const ms = decodeMessages(Buffer.concat([a, b]));
  assert.deepEqual(
    ms.map((m) => [m.type, m.payload.length]),
    [
      [16, 5],
      [3, 4],
    ],
  );
});

test('nlmsghdr: a length shorter than the header or past the end is a PROTOCOL error', () => {
  const m = encodeMessage({ type: 16, flags: 0, seq: 1, pid: 1 }, Buffer.alloc(8));
  const short = Buffer.from(m);
  short.writeUInt32LE(8, 0);
  throwsCode(() => decodeMessages(short), 'PROTOCOL');
  const long = Buffer.from(m);
  long.writeUInt32LE(100, 0);
  throwsCode(() => decodeMessages(long), 'PROTOCOL');
  throwsCode(() => decodeMessages(m.subarray(0, 10)), 'PROTOCOL');
});

test('attribute writer: typed helpers encode like the kernel expects', () => {
  const w = new AttrWriter()
    .u8(1, 0xfe)
    .u16(2, 0x1234)
    .u32(3, 0xdeadbeef)
    .s32(4, -2)
    .u64(5, 0x0102030405060708n)
    .be16(6, 4789)
    .be32(7, 0x0a000001)
    .string(8, 'ab')
    .string(9, 'veth', false)
    .bytes(10, Buffer.from([9, 9, 9]))
    .flag(11)
    .ipv4(12, Buffer.from([10, 0, 0, 1]))
    .ipv6(13, Buffer.alloc(16, 0xff));
  const hexOf = w.encode().toString('hex');
  assert.equal(
    hexOf,
    [
      '05000100fe000000',
      '0600020034120000',
      '08000300efbeadde',
      '08000400feffffff',
      '0c0005000807060504030201',
      '0600060012b50000',
      '080007000a000001',
      '0700080061620000',
      '0800090076657468',
      '07000a0009090900',
      '04000b00',
      '08000c000a000001',
      `14000d00${'ff'.repeat(16)}`,
    ].join(''),
  );
  assert.equal(w.length, hexOf.length / 2);
});

test("attribute writer: nests get deferred lengths that include their children's padding", () => {
  const w = new AttrWriter().nest(18, (li) => {
    li.string(1, 'veth', false);
    li.nest(2, (d) => d.nest(1, (p) => p.raw(Buffer.alloc(16)).string(3, 'b')));
  });
  // The IFLA_LINKINFO of `ip link add name a type veth peer name b`.
  assert.equal(
    w.encode().toString('hex'),
    `2c0012000800010076657468200002001c000100${'00'.repeat(16)}0600030062000000`,
  );
});

test('attribute writer: NLA_F_NESTED on request and omitted empty nests', () => {
  const w = new AttrWriter()
    .nest(3, (n) => n.u8(1, 1), { nestedFlag: true })
    .nest(4, () => undefined, { omitIfEmpty: true });
  const b = w.encode();
  assert.equal(b.readUInt16LE(2), 3 | NLA_F.NLA_F_NESTED);
  assert.equal(b.length, 12);
});

test('attribute writer: out-of-range values and NUL in strings are refused, not truncated', () => {
  throwsCode(() => new AttrWriter().u8(1, 256), 'INTERNAL');
  throwsCode(() => new AttrWriter().u16(1, -1), 'INTERNAL');
  throwsCode(() => new AttrWriter().u32(1, 1.5), 'INTERNAL');
  throwsCode(() => new AttrWriter().u64(1, -1n), 'INTERNAL');
  throwsCode(() => new AttrWriter().string(1, 'a\0b'), 'INTERNAL');
  throwsCode(() => new AttrWriter().ipv4(1, Buffer.alloc(5)), 'INTERNAL');
  throwsCode(() => new AttrWriter().bytes(1, Buffer.alloc(70000)), 'INTERNAL');
});

const INNER = attrTable('INNER', { 1: multiAttr('names', dec.string) });
const OUTER = attrTable('OUTER', {
  1: attr('mtu', dec.u32),
  2: attr('name', dec.string),
  3: attr('inner', dec.nested(INNER)),
  4: attr('addr', dec.ip),
  5: attr('on', dec.flag),
  6: attr('big', dec.u64),
  7: attr('port', dec.be16),
});

test('parse tables: known attributes by name, nested tables, repeated attributes, unknown ones kept raw', () => {
  const buf = new AttrWriter()
    .u32(1, 1500)
    .string(2, 'eth0')
    .nest(3, (n) => n.string(1, 'a').string(1, 'b'), { nestedFlag: true })
    .ipv6(4, Buffer.from('fd000000000000000000000000000001', 'hex'))
    .flag(5)
    .u64(6, 2n ** 40n)
    .be16(7, 4789)
    .u32(99, 7)
    .encode();
  const a = parseAttrs(buf, OUTER);
  assert.equal(a.mtu, 1500);
  assert.equal(a.name, 'eth0');
  assert.deepEqual(a.inner?.names, ['a', 'b']);
  assert.equal(a.addr, 'fd00::1');
  assert.equal(a.on, true);
  assert.equal(a.big, 2n ** 40n);
  assert.equal(a.port, 4789);
  assert.deepEqual(
    a.unknown.map((u) => [u.type, u.data.toString('hex')]),
    [[99, '07000000']],
  );
});

test('parse tables: a wrong-sized scalar is a PROTOCOL error naming the attribute', () => {
  const buf = new AttrWriter().u16(1, 5).encode();
  assert.throws(
    () => parseAttrs(buf, OUTER),
    (e: Error) => /OUTER attribute mtu \(1\)/.test(e.message) && (e as { code?: string }).code === 'PROTOCOL',
  );
  throwsCode(() => parseAttrs(new AttrWriter().bytes(4, Buffer.alloc(5)).encode(), OUTER), 'PROTOCOL');
  throwsCode(() => parseAttrs(new AttrWriter().bytes(5, Buffer.alloc(1)).encode(), OUTER), 'PROTOCOL');
  throwsCode(() => parseAttrs(new AttrWriter().bytes(2, Buffer.from([0xff, 0xfe])).encode(), OUTER), 'PROTOCOL');
});

test('splitAttrs: truncated streams and short nla_len are PROTOCOL errors', () => {
  const buf = new AttrWriter().u32(1, 1).string(2, 'abc').encode();
  for (let cut = 1; cut < buf.length; cut++) {
    const r = parsesOrProtocolError(() => splitAttrs(buf.subarray(0, cut)));
    assert.equal(r, cut === 8 ? 'ok' : 'error', `cut at ${cut}`);
  }
  const bad = Buffer.from(buf);
  bad.writeUInt16LE(2, 0);
  throwsCode(() => splitAttrs(bad), 'PROTOCOL');
});

test('struct codec: fields in order, pads skipped, range-checked, truncation is a PROTOCOL error', () => {
  const S = struct('s', [
    ['a', 'u8'],
    ['p', 'pad8'],
    ['b', 'u16'],
    ['c', 's32'],
    ['d', 'u32'],
  ]);
  const b = S.encode({ a: 1, b: 0x203, c: -1, d: 7 });
  assert.equal(b.toString('hex'), '01000302ffffffff07000000');
  assert.deepEqual(S.decode(b), { a: 1, b: 0x203, c: -1, d: 7 });
  throwsCode(() => S.decode(b.subarray(0, 11)), 'PROTOCOL');
  throwsCode(() => S.encode({ a: 256 }), 'INTERNAL');
});

test('IPv6 text form is RFC 5952', () => {
  const f = (h: string): string => formatIpv6(Buffer.from(h, 'hex'));
  assert.equal(f('20010db8000000000000000000000001'), '2001:db8::1');
  assert.equal(f('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  assert.equal(f('20010db8000100000001000000000001'), '2001:db8:1:0:1::1');
  assert.equal(f('00000000000000000000000000000000'), '::');
  assert.equal(f('fe800000000000006c7c52fffe0aec38'), 'fe80::6c7c:52ff:fe0a:ec38');
  assert.equal(f('20010db8000000000001000000000000'), '2001:db8:0:0:1::');
  assert.equal(f('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
  assert.equal(f('00000000000000000000ffff0a000001'), '::ffff:10.0.0.1');
});

// ---------------------------------------------------------------------------------------
// Robustness: every decoder on real messages, truncated at every offset, and random bytes.

const DUMP_MESSAGES = [CAPTURES.linkdump, CAPTURES.addrdump, CAPTURES.routedump, CAPTURES.ruledump, CAPTURES.getlink]
  .flatMap((c) => c.replies.map((r) => hex(r)))
  .flatMap((d) => decodeMessages(d).map((m) => ({ m, raw: d })));

test('captured dump replies decode without error', () => {
  assert.ok(DUMP_MESSAGES.length > 10);
  for (const { m } of DUMP_MESSAGES) DECODERS[m.type]?.(m);
});

test('truncating a captured message at any byte gives a PROTOCOL error, never a partial result', () => {
  let checked = 0;
  for (const { m } of DUMP_MESSAGES) {
    const whole = encodeMessage(m, m.payload);
    const len = 16 + m.payload.length;
    for (let cut = 0; cut < len; cut++) {
      // The datagram claims `len` bytes but holds `cut`: always an error.
      assert.equal(
        parsesOrProtocolError(() => decodeAny(whole.subarray(0, cut === 0 ? 1 : cut))),
        'error',
        `cut at ${cut} of type ${m.type}`,
      );
      checked++;
    }
  }
  assert.ok(checked > 10000);
});

test('truncating a message payload (with a consistent length) gives a typed error or a shorter valid message', () => {
  for (const { m } of DUMP_MESSAGES) {
    const decode = DECODERS[m.type];
    if (decode === undefined) continue;
    for (let cut = 0; cut < m.payload.length; cut++)
      parsesOrProtocolError(() => decode({ ...m, payload: m.payload.subarray(0, cut) }));
  }
});

test('property: random bytes never crash the decoders', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      parsesOrProtocolError(() => decodeAny(Buffer.from(bytes)));
      for (const decode of Object.values(DECODERS)) {
        for (const type of Object.keys(DECODERS))
          parsesOrProtocolError(() =>
            decode({ type: Number(type), flags: 0x300, seq: 0, pid: 0, payload: Buffer.from(bytes) }),
          );
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: real messages with random bytes overwritten never crash the decoders', () => {
  const samples = DUMP_MESSAGES.filter(({ m }) => DECODERS[m.type] !== undefined).map(({ m }) =>
    encodeMessage(m, m.payload),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      (i, edits) => {
        const b = Buffer.from(samples[i] ?? Buffer.alloc(0));
        for (const [pos, v] of edits) b[pos % b.length] = v;
        parsesOrProtocolError(() => decodeAny(b));
      },
    ),
    { numRuns: 3000 },
  );
});
