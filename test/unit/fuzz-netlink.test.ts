/**
 * Fuzzing the netlink parser: message headers, attribute streams and parse tables,
 * NLMSG_ERROR / NLMSG_DONE with extended ACKs, and the link/address/route/rule decoders.
 * Inputs are real iproute2 captures mutated where it hurts (length fields that lie, nested
 * attributes whose nla_len runs past their parent, truncation, bit flips), attribute trees
 * built by the encoder, and rtnetlink messages assembled from random parts. Every decoder
 * must return or throw a PROTOCOL NetplumbError; encoder → decoder must be the identity.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import { AttrWriter } from '../../src/netlink/attr-writer.js';
import { parseAttrs, splitAttrs, type RawAttr } from '../../src/netlink/attr-reader.js';
import { NLA_F, NLA_HDRLEN, NLM_F, NLMSG_HDRLEN, NLMSGERR_ATTR, align4 } from '../../src/netlink/constants.js';
import { decodeMessages, encodeMessage, type NlMsgHdr } from '../../src/netlink/header.js';
import { kernelError } from '../../src/netlink/kernel-error.js';
import { decodeDone, decodeNlMsgErr, type NlMsgErr } from '../../src/netlink/nlmsgerr.js';
import { IFLA, IFLA_INFO } from '../../src/rtnl/constants/if-link.js';
import { LINK_TABLE } from '../../src/rtnl/link-attrs.js';
import { CAPTURES, hex } from './fixtures/iproute2.js';
import { returnsOrThrows } from './support/assert-error.js';
import { fuzz, HOSTILE_WORDS } from './support/fuzz.js';
import { DECODERS } from './support/netlink-decoders.js';

// ------------------------------------------------------------------ structure of real messages

/** Size of the fixed struct that opens each message type's payload (before its attributes). */
const FIXED_HEADER: Readonly<Record<number, number>> = {
  16: 16,
  17: 16,
  18: 16,
  19: 16,
  20: 8,
  21: 8,
  22: 8,
  24: 12,
  25: 12,
  26: 12,
  32: 12,
  33: 12,
  34: 12,
};

/** Whether `buf[start, end)` is a whole number of well-formed attributes. */
function tiles(buf: Buffer, start: number, end: number): boolean {
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > end) return false;
    off += align4(len);
  }
  return off >= end && start < end;
}

/** Offsets of the attribute headers in `buf[start, end)`, descending into payloads that are themselves attributes (after an ifinfomsg, too, as in VETH_INFO_PEER). */
function attrHeaders(buf: Buffer, start: number, end: number, out: number[]): void {
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > end) return;
    out.push(off);
    for (const skip of [0, 16]) {
      if (tiles(buf, off + NLA_HDRLEN + skip, off + len)) {
        attrHeaders(buf, off + NLA_HDRLEN + skip, off + len, out);
        break;
      }
    }
    off += align4(len);
  }
}

/** Offsets of the nlmsghdrs of a datagram, and of every attribute header inside its messages. */
function layout(buf: Buffer): { messages: number[]; attrs: number[] } {
  const messages: number[] = [];
  const attrs: number[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    messages.push(off);
    const type = buf.readUInt16LE(off + 4);
    const fixed = type === 2 ? 4 + NLMSG_HDRLEN : (FIXED_HEADER[type] ?? 0);
    attrHeaders(buf, off + NLMSG_HDRLEN + fixed, off + len, attrs);
    off += align4(len);
  }
  return { messages, attrs };
}

// ------------------------------------------------------------------ mutations

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'repeat'; at: number; length: number }
  | { op: 'nlmsgLen'; which: number; value: number; relative: boolean }
  | { op: 'nlaLen'; which: number; value: number; relative: boolean };

const lengthLie = (max: number): fc.Arbitrary<{ value: number; relative: boolean }> =>
  fc.oneof(
    fc.record({ value: fc.integer({ min: -9, max: 9 }), relative: fc.constant(true) }),
    fc.record({
      value: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(max), fc.integer({ min: 0, max })),
      relative: fc.constant(false),
    }),
  );

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 3, 4, 0x7f, 0x80, 0xff) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.tuple(fc.nat(), lengthLie(0xffffffff)).map(([which, lie]) => ({ op: 'nlmsgLen' as const, which, ...lie })),
  fc.tuple(fc.nat(), lengthLie(0xffff)).map(([which, lie]) => ({ op: 'nlaLen' as const, which, ...lie })),
);

function pick(offsets: readonly number[], which: number): number | undefined {
  return offsets.length === 0 ? undefined : offsets[which % offsets.length];
}

/** Overwrite the little-endian length field of `width` bytes at `at` with a lie (absolute or relative to the truth). */
function lie(b: Buffer, at: number | undefined, width: 2 | 4, m: { value: number; relative: boolean }): Buffer {
  if (at === undefined) return b;
  const value = m.relative ? b.readUIntLE(at, width) + m.value : m.value;
  b.writeUIntLE(Math.min(2 ** (8 * width) - 1, Math.max(0, value)), at, width);
  return b;
}

/** Apply one mutation; length lies land on real nlmsg_len / nla_len fields, found by `locate` (a datagram's by default). */
function mutate(
  buf: Buffer,
  m: Mutation,
  locate: (b: Buffer) => { messages: number[]; attrs: number[] } = layout,
): Buffer {
  if (buf.length === 0) return m.op === 'append' ? Buffer.from(m.bytes) : buf;
  const b = Buffer.from(buf);
  switch (m.op) {
    case 'flip':
      b[m.at % b.length] ^= 1 << m.bit;
      return b;
    case 'byte':
      b[m.at % b.length] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, m.at % b.length);
    case 'append':
      return Buffer.concat([b, m.bytes]);
    case 'repeat': {
      const at = m.at % b.length;
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.length), b.subarray(at)]);
    }
    case 'nlmsgLen':
      return lie(b, pick(locate(b).messages, m.which), 4, m);
    case 'nlaLen':
      return lie(b, pick(locate(b).attrs, m.which), 2, m);
  }
}

/** Decode every message of a datagram with its type's decoder; a decoded kernel error must map to a NetplumbError. */
function decodeAll(datagram: Buffer): void {
  for (const m of decodeMessages(datagram)) {
    const decoded = DECODERS[m.type]?.(m);
    if (m.type === 2) {
      const e = decoded as NlMsgErr;
      if (e.error !== 0)
        assert.ok(
          kernelError({
            errno: -e.error,
            type: e.request.type,
            extAck: e.extAck,
            request: m.payload.subarray(4),
          }) instanceof NetplumbError,
        );
    }
  }
}

const SAMPLES: readonly Buffer[] = Object.values(CAPTURES)
  .flatMap((c) => [...('request' in c ? [c.request] : []), ...c.replies])
  .map((h) => hex(h));

fuzz(
  'netlink',
  'captured messages with lying lengths, cuts, flips and repeats decode or fail with PROTOCOL',
  fc.tuple(fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 })),
  ([i, mutations]) => {
    const buf = mutations.reduce<Buffer>((b, m) => mutate(b, m), SAMPLES[i] as Buffer);
    returnsOrThrows(() => decodeAll(buf), 'PROTOCOL');
  },
);

// ------------------------------------------------------------------ attribute trees

interface AttrNode {
  type: number;
  /** NLA_F_NESTED set on the wire. */
  nestedFlag: boolean;
  body: Uint8Array | AttrNode[];
}

const attrType = fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: NLA_F.NLA_TYPE_MASK }));
const payload = fc.oneof(
  fc.constantFrom(0, 1, 2, 4, 6, 8, 16).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  fc.uint8Array({ maxLength: 40 }),
);

const { forest } = fc.letrec<{ node: AttrNode; forest: AttrNode[] }>((tie) => ({
  node: fc.record({
    type: attrType,
    nestedFlag: fc.boolean(),
    body: fc.oneof({ depthSize: 'small', withCrossShrink: true }, payload, tie('forest')),
  }),
  forest: fc.array(tie('node'), { maxLength: 4 }),
}));

/** Where the attribute headers of a bare attribute stream are. */
function attrStream(b: Buffer): { messages: number[]; attrs: number[] } {
  const attrs: number[] = [];
  attrHeaders(b, 0, b.length, attrs);
  return { messages: [], attrs };
}

function writeForest(w: AttrWriter, nodes: readonly AttrNode[]): AttrWriter {
  for (const n of nodes) {
    if (n.body instanceof Uint8Array) w.bytes(n.nestedFlag ? n.type | NLA_F.NLA_F_NESTED : n.type, n.body);
    else {
      const children = n.body;
      w.nest(n.type, (c) => writeForest(c, children), { nestedFlag: n.nestedFlag });
    }
  }
  return w;
}

/** Read `buf` back along the shape of `nodes` (nests are split again). */
function readForest(buf: Buffer, nodes: readonly AttrNode[]): AttrNode[] {
  const attrs: RawAttr[] = splitAttrs(buf);
  return attrs.map((a, i) => {
    const shape = nodes[i]?.body;
    return {
      type: a.type,
      nestedFlag: a.nested,
      body: shape === undefined || shape instanceof Uint8Array ? new Uint8Array(a.data) : readForest(a.data, shape),
    };
  });
}

function plainForest(nodes: readonly AttrNode[]): AttrNode[] {
  return nodes.map((n) => ({
    ...n,
    body: n.body instanceof Uint8Array ? new Uint8Array(n.body) : plainForest(n.body),
  }));
}

fuzz(
  'netlink',
  'attribute trees: encode → split is the identity, and the IFLA table parses them or fails with PROTOCOL',
  forest,
  (nodes) => {
    const buf = writeForest(new AttrWriter(), nodes).encode();
    assert.deepEqual(readForest(buf, nodes), plainForest(nodes));
    returnsOrThrows(() => parseAttrs(buf, LINK_TABLE), 'PROTOCOL');
  },
);

fuzz(
  'netlink',
  'attribute trees whose nla_len lies (nested ones included) fail with PROTOCOL, never a RangeError',
  fc.tuple(forest, fc.array(fc.tuple(fc.nat(), lengthLie(0xffff)), { minLength: 1, maxLength: 3 })),
  ([nodes, lies]) => {
    let buf = writeForest(new AttrWriter(), nodes).encode();
    for (const [which, lie] of lies) buf = mutate(buf, { op: 'nlaLen', which, ...lie }, attrStream);
    returnsOrThrows(() => readForest(buf, nodes), 'PROTOCOL');
    returnsOrThrows(() => parseAttrs(buf, LINK_TABLE), 'PROTOCOL');
  },
);

// ------------------------------------------------------------------ headers

const header: fc.Arbitrary<NlMsgHdr> = fc.record({
  type: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.nat({ max: 0xffffffff }),
  pid: fc.nat({ max: 0xffffffff }),
});

fuzz(
  'netlink',
  'datagrams: encode → decodeMessages is the identity for any headers and payloads',
  fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 48 })), { maxLength: 6 }),
  (msgs) => {
    const datagram = Buffer.concat(msgs.map(([h, p]) => encodeMessage(h, p)));
    assert.deepEqual(
      decodeMessages(datagram).map((m) => [
        { type: m.type, flags: m.flags, seq: m.seq, pid: m.pid },
        new Uint8Array(m.payload),
      ]),
      msgs.map(([h, p]) => [{ ...h }, new Uint8Array(p)]),
    );
  },
);

// ------------------------------------------------------------------ NLMSG_ERROR and NLMSG_DONE

interface ExtAckParts {
  msg?: string;
  offset?: number;
  cookie?: Uint8Array;
  missingType?: number;
  missingNestOffset?: number;
}

const extAckParts: fc.Arbitrary<ExtAckParts> = fc.record(
  {
    msg: fc.string({ maxLength: 40 }).map((s) => s.replace(/\0/g, '').replace(/[\ud800-\udfff]/g, '?')),
    offset: fc.nat({ max: 0xffffffff }),
    cookie: fc.uint8Array({ maxLength: 20 }),
    missingType: fc.nat({ max: 0xffffffff }),
    missingNestOffset: fc.nat({ max: 0xffffffff }),
  },
  { requiredKeys: [] },
);

function encodeExtAck(p: ExtAckParts): Buffer {
  const w = new AttrWriter();
  if (p.msg !== undefined) w.string(NLMSGERR_ATTR.NLMSGERR_ATTR_MSG, p.msg);
  if (p.offset !== undefined) w.u32(NLMSGERR_ATTR.NLMSGERR_ATTR_OFFS, p.offset);
  if (p.cookie !== undefined) w.bytes(NLMSGERR_ATTR.NLMSGERR_ATTR_COOKIE, p.cookie);
  if (p.missingType !== undefined) w.u32(NLMSGERR_ATTR.NLMSGERR_ATTR_MISS_TYPE, p.missingType);
  if (p.missingNestOffset !== undefined) w.u32(NLMSGERR_ATTR.NLMSGERR_ATTR_MISS_NEST, p.missingNestOffset);
  return w.encode();
}

const nlmsgerr = fc.record({
  error: fc.oneof(fc.constant(0), fc.integer({ min: -4095, max: -1 }), fc.integer({ min: -0x80000000, max: -1 })),
  capped: fc.boolean(),
  tlvs: fc.boolean(),
  request: fc.tuple(header, fc.uint8Array({ maxLength: 40 })),
  extAck: extAckParts,
});

fuzz(
  'netlink',
  'NLMSG_ERROR and NLMSG_DONE built from parts decode back to those parts; mutated, they fail with PROTOCOL',
  fc.tuple(nlmsgerr, fc.array(mutation, { maxLength: 3 })),
  ([e, mutations]) => {
    const request = encodeMessage(e.request[0], e.request[1]);
    // The kernel echoes the whole request only for an error without NLM_F_CAPPED.
    const echoed = e.capped || e.error === 0 ? request.subarray(0, NLMSG_HDRLEN) : request;
    const status = Buffer.alloc(4);
    status.writeInt32LE(e.error);
    const tlvs = e.tlvs ? encodeExtAck(e.extAck) : Buffer.alloc(0);
    const flags = (e.capped ? NLM_F.NLM_F_CAPPED : 0) | (e.tlvs ? NLM_F.NLM_F_ACK_TLVS : 0);
    const err = encodeMessage({ type: 2, flags, seq: 1, pid: 0 }, status, echoed, tlvs);
    const done = encodeMessage({ type: 3, flags: flags | NLM_F.NLM_F_MULTI, seq: 1, pid: 0 }, status, tlvs);
    const expectedAck = e.tlvs
      ? { ...e.extAck, ...(e.extAck.cookie !== undefined ? { cookie: Buffer.from(e.extAck.cookie) } : {}), unknown: [] }
      : { unknown: [] };

    const [errMsg] = decodeMessages(err);
    const decoded = decodeNlMsgErr(errMsg!);
    assert.equal(decoded.error, e.error);
    assert.deepEqual({ ...decoded.request }, { len: request.readUInt32LE(0), ...e.request[0] });
    assert.deepEqual(decoded.extAck, expectedAck);
    const [doneMsg] = decodeMessages(done);
    assert.deepEqual(decodeDone(doneMsg!), { error: e.error, extAck: expectedAck });
    if (e.error !== 0) {
      const mapped = kernelError({
        errno: -e.error,
        type: e.request[0].type,
        extAck: decoded.extAck,
        request: Buffer.from(request),
      });
      assert.ok(mapped instanceof NetplumbError);
      assert.equal(mapped.details.errno, -e.error);
    }
    const broken = mutations.reduce<Buffer>((b, m) => mutate(b, m), Buffer.concat([err, done]));
    returnsOrThrows(() => decodeAll(broken), 'PROTOCOL');
  },
);

// ------------------------------------------------------------------ rtnetlink messages from random parts

const LINK_KINDS = ['veth', 'vlan', 'macvlan', 'vxlan', 'bridge', 'dummy', 'ipoib', ...HOSTILE_WORDS] as const;

/** An IFLA_LINKINFO nest: a kind (known, hostile or random) and random kind data. */
const linkInfo: fc.Arbitrary<AttrNode> = fc
  .tuple(fc.oneof(fc.constantFrom(...LINK_KINDS), fc.string({ maxLength: 10 })), forest, fc.boolean())
  .map(([kind, data, slave]) => ({
    type: IFLA.IFLA_LINKINFO,
    nestedFlag: false,
    body: [
      {
        type: slave ? IFLA_INFO.IFLA_INFO_SLAVE_KIND : IFLA_INFO.IFLA_INFO_KIND,
        nestedFlag: false,
        body: Buffer.from(`${kind.replace(/\0/g, '')}\0`),
      },
      { type: slave ? IFLA_INFO.IFLA_INFO_SLAVE_DATA : IFLA_INFO.IFLA_INFO_DATA, nestedFlag: false, body: data },
    ],
  }));

fuzz(
  'netlink',
  'link/address/route/rule messages assembled from a random fixed header and random attributes decode deterministically or fail with PROTOCOL',
  fc.tuple(
    fc.constantFrom(16, 20, 24, 32, 2, 3),
    fc.uint8Array({ minLength: 0, maxLength: 24 }),
    forest,
    fc.option(linkInfo),
  ),
  ([type, fixed, nodes, info]) => {
    const attrs = writeForest(new AttrWriter(), info === null ? nodes : [...nodes, info]).encode();
    const m = {
      type,
      flags: 0,
      seq: 0,
      pid: 0,
      payload: Buffer.concat([Buffer.from(fixed), Buffer.alloc(align4(fixed.length) - fixed.length), attrs]),
    };
    const decode = DECODERS[type]!;
    if (returnsOrThrows(() => decode(m), 'PROTOCOL') === 'ok') assert.deepEqual(decode(m), decode(m));
  },
);
