/**
 * The front door's framing (src/daemon/front-frames.ts): frames come out whole and in order
 * whatever the chunking; a stream that does not begin with the magic, or a frame longer
 * than the bound, is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallerFrame, FRONT_MAGIC, FrameReader, frame } from '../../src/daemon/front-frames.js';

const request = (args: string[]): Buffer =>
  Buffer.concat([
    FRONT_MAGIC,
    frame(CallerFrame.PROGRAM, 'pipework'),
    ...args.map((a) => frame(CallerFrame.ARG, a)),
    frame(CallerFrame.VAR, 'OVS_RUNDIR=/run/openvswitch'),
    frame(CallerFrame.GO),
  ]);

test('a frame is TYPE, LENGTH (u32 big-endian), PAYLOAD', () => {
  assert.deepEqual([...frame(0x41, 'ab')], [0x41, 0, 0, 0, 2, 0x61, 0x62]);
  assert.deepEqual([...frame(0x47)], [0x47, 0, 0, 0, 0]);
  assert.equal(FRONT_MAGIC.toString('latin1'), '\0netplumb-front 1\n');
});

test('frames come out whole and in order, however the stream is cut', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (args, cuts) => {
        const bytes = request(args);
        const reader = new FrameReader(1 << 20);
        const frames = [];
        let at = 0;
        for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
          const got = reader.push(bytes.subarray(at, Math.max(at, cut)));
          assert.ok(Array.isArray(got));
          frames.push(...got);
          at = Math.max(at, cut);
        }
        assert.deepEqual(
          frames.map((f) => [String.fromCharCode(f.type), f.payload.toString()]),
          [['P', 'pipework'], ...args.map((a) => ['A', a]), ['V', 'OVS_RUNDIR=/run/openvswitch'], ['G', '']],
        );
      },
    ),
    { numRuns: Number(process.env.NETPLUMB_FUZZ_RUNS ?? 300) },
  );
});

test('a stream without the magic, or a frame over the bound, is refused', () => {
  assert.equal(new FrameReader(100).push(Buffer.from('{"jsonrpc":"2.0"}\n')), 'not-framing');
  assert.equal(new FrameReader(100).push(Buffer.from('\0netplumb-front 2\n')), 'not-framing');
  assert.deepEqual(new FrameReader(100).push(FRONT_MAGIC.subarray(0, 5)), []);
  const big = Buffer.concat([FRONT_MAGIC, frame(CallerFrame.ARG, 'x'.repeat(101))]);
  assert.equal(new FrameReader(100).push(big.subarray(0, FRONT_MAGIC.length + 5)), 'overflow');
});
