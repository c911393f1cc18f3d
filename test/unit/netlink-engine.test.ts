/** The request engine against a fake kernel peer. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { NetplumbError } from '../../src/errors.js';
import { NLMSG, NLM_F } from '../../src/netlink/constants.js';
import { NetlinkEngine } from '../../src/netlink/engine.js';
import { encodeMessage, type NetlinkMessage } from '../../src/netlink/header.js';
import { FakeKernel, settle, u32 } from './support/fake-kernel.js';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const BODY = Buffer.alloc(16);

function expectRejects(p: Promise<unknown>, check: (e: NetplumbError) => void): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NetplumbError, String(e));
    check(e);
    return true;
  });
}

test("a change carries REQUEST|ACK plus the caller's flags and resolves on the ACK", async () => {
  const k = new FakeKernel(77, (req, kk) => [kk.ack(req)]);
  const e = new NetlinkEngine(k, { firstSeq: 1000 });
  const replies = await e.request(RTM_NEWLINK, BODY, { flags: NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL });
  assert.deepEqual(replies, []);
  const [req] = k.requests;
  assert.equal(req?.flags, NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL);
  assert.equal(req?.seq, 1000);
  assert.equal(e.inFlight, 0);
  assert.deepEqual(k.activity, [true, false]);
});

test('a GET resolves with the reply that precedes the ACK', async () => {
  const k = new FakeKernel(5, (req, kk) => [
    Buffer.concat([kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, 1)), kk.ack(req)]),
  ]);
  const e = new NetlinkEngine(k);
  const replies = await e.request(RTM_GETLINK, BODY);
  assert.equal(replies.length, 1);
  assert.equal(replies[0]?.type, RTM_NEWLINK);
});

test('an error with an extended ACK rejects with errno, errnoCode, syscall and the kernel text', async () => {
  const k = new FakeKernel(5, (req, kk) => [kk.error(req, 17, 'Interface already exists', 32)]);
  const e = new NetlinkEngine(k);
  await expectRejects(e.request(RTM_NEWLINK, BODY, { describe: 'link add "h1" (veth)' }), (err) => {
    assert.equal(err.code, 'ALREADY_EXISTS');
    assert.equal(err.message, 'link add "h1" (veth): RTM_NEWLINK: EEXIST: Interface already exists');
    assert.equal(err.details.errno, 17);
    assert.equal(err.details.errnoCode, 'EEXIST');
    assert.equal(err.details.syscall, 'RTM_NEWLINK');
    assert.equal(err.details.extAck, 'Interface already exists');
    assert.equal(err.details.extAckOffset, 32);
  });
});

test('a dump collects multipart replies, across datagrams, until NLMSG_DONE', async () => {
  const k = new FakeKernel(5, (req, kk) => [
    Buffer.concat([
      kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, 1), NLM_F.NLM_F_MULTI),
      kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, 2), NLM_F.NLM_F_MULTI),
    ]),
    kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, 3), NLM_F.NLM_F_MULTI),
    kk.done(req),
  ]);
  const e = new NetlinkEngine(k);
  const replies = await e.dump(RTM_GETLINK, BODY);
  assert.deepEqual(
    replies.map((r) => r.payload[0]),
    [1, 2, 3],
  );
  assert.equal(k.requests[0]?.flags, NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_DUMP);
});

test('a dump whose DONE carries an error rejects', async () => {
  const k = new FakeKernel(5, (req, kk) => {
    const e = Buffer.alloc(4);
    e.writeInt32LE(-95);
    return [kk.reply(req, NLMSG.NLMSG_DONE, e, NLM_F.NLM_F_MULTI)];
  });
  await expectRejects(new NetlinkEngine(k).dump(RTM_GETLINK, BODY), (err) =>
    assert.equal(err.details.errnoCode, 'EOPNOTSUPP'),
  );
});

test('NLM_F_DUMP_INTR restarts the dump under a new sequence number; the caller sees only the clean pass', async () => {
  let attempt = 0;
  const k = new FakeKernel(5, (req, kk) => {
    attempt++;
    const flags = NLM_F.NLM_F_MULTI | (attempt < 3 ? NLM_F.NLM_F_DUMP_INTR : 0);
    return [kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, attempt), flags), kk.done(req, flags)];
  });
  const e = new NetlinkEngine(k);
  const replies = await e.dump(RTM_GETLINK, BODY);
  assert.deepEqual(
    replies.map((r) => r.payload[0]),
    [3],
  );
  const seqs = k.requests.map((r) => r.seq);
  assert.equal(new Set(seqs).size, 3);
});

test('a dump interrupted more often than the bound fails as UNAVAILABLE', async () => {
  const k = new FakeKernel(5, (req, kk) => [
    kk.reply(req, RTM_NEWLINK, Buffer.alloc(16), NLM_F.NLM_F_MULTI | NLM_F.NLM_F_DUMP_INTR),
    kk.done(req),
  ]);
  const e = new NetlinkEngine(k, { maxDumpRetries: 2 });
  await expectRejects(e.dump(RTM_GETLINK, BODY), (err) => assert.equal(err.code, 'UNAVAILABLE'));
  assert.equal(k.requests.length, 3);
});

test('replies with a foreign port id, an unknown sequence number or NOOP are ignored', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k, { firstSeq: 10 });
  let settled = false;
  const p = e.request(RTM_NEWLINK, BODY).then(() => (settled = true));
  await settle();
  const req = k.requests[0] as NetlinkMessage;
  const foreign = encodeMessage(
    { type: NLMSG.NLMSG_ERROR, flags: 0, seq: req.seq, pid: 6 },
    Buffer.concat([Buffer.alloc(4), encodeMessage(req)]),
  );
  const unknownSeq = encodeMessage(
    { type: NLMSG.NLMSG_ERROR, flags: 0, seq: req.seq + 1, pid: 5 },
    Buffer.concat([Buffer.alloc(4), encodeMessage(req)]),
  );
  const multicast = encodeMessage({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0 }, BODY);
  k.deliver(foreign, unknownSeq, multicast, k.reply(req, NLMSG.NLMSG_NOOP, Buffer.alloc(0)));
  await settle();
  assert.equal(settled, false);
  k.deliver(k.ack(req));
  await p;
  assert.equal(settled, true);
});

test('a burst of requests issued in one tick goes to transport.send as one array, replies pair by seq', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k);
  const results = Array.from({ length: 50 }, (_, i) => e.request(RTM_NEWLINK, u32(i)));
  await settle();
  assert.equal(k.sends.length, 1);
  assert.equal(k.sends[0]?.length, 50);
  // Answer in reverse order; each request gets its own answer.
  const reqs = k.requests;
  for (const r of [...reqs].reverse()) {
    const i = r.payload.readUInt32LE(0);
    k.deliver(i % 2 === 0 ? k.ack(r) : k.error(r, 19));
  }
  const outcomes = await Promise.allSettled(results);
  outcomes.forEach((o, i) => {
    assert.equal(o.status, i % 2 === 0 ? 'fulfilled' : 'rejected', `request ${i}`);
  });
});

test('a transport error rejects every pending request', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k);
  const ps = [e.request(RTM_NEWLINK, BODY), e.dump(RTM_GETLINK, BODY)];
  await settle();
  k.onError?.(new NetplumbError('UNAVAILABLE', 'ENOBUFS: replies were lost', { errnoCode: 'ENOBUFS' }));
  for (const p of ps) await expectRejects(p, (err) => assert.equal(err.code, 'UNAVAILABLE'));
  assert.equal(e.inFlight, 0);
});

test('a failed send rejects the requests it did not hand over', async () => {
  const k = new FakeKernel(5);
  k.sendError = new NetplumbError('PRIVILEGE', 'sendmsg: EPERM', { errnoCode: 'EPERM' });
  const e = new NetlinkEngine(k);
  await expectRejects(e.request(RTM_NEWLINK, BODY), (err) => {
    assert.equal(err.code, 'PRIVILEGE');
    assert.match(err.message, /^RTM_NEWLINK: sendmsg: EPERM/);
  });
});

test('a garbled datagram fails what is pending with a PROTOCOL error, and nothing crashes', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k);
  const p = e.request(RTM_NEWLINK, BODY);
  await settle();
  k.deliver(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]));
  await expectRejects(p, (err) => assert.equal(err.code, 'PROTOCOL'));
});

test('a garbled NLMSG_ERROR for one request fails only that request', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k);
  const a = e.request(RTM_NEWLINK, u32(1));
  const b = e.request(RTM_NEWLINK, u32(2));
  await settle();
  const [ra, rb] = k.requests as [NetlinkMessage, NetlinkMessage];
  k.deliver(k.reply(ra, NLMSG.NLMSG_ERROR, Buffer.alloc(3)), k.ack(rb));
  await expectRejects(a, (err) => assert.equal(err.code, 'PROTOCOL'));
  await b;
});

test('close() rejects pending requests, closes the transport, and later requests fail at once', async () => {
  const k = new FakeKernel(5);
  const e = new NetlinkEngine(k);
  const p = e.request(RTM_NEWLINK, BODY);
  e.close();
  e.close();
  await expectRejects(p, (err) => assert.equal(err.code, 'UNAVAILABLE'));
  assert.equal(k.closed, true);
  await expectRejects(e.request(RTM_NEWLINK, BODY), (err) => assert.match(err.message, /closed/));
  await settle();
  assert.equal(k.sends.length, 0);
});

test('sequence numbers wrap around and skip 0', async () => {
  const k = new FakeKernel(5, (req, kk) => [kk.ack(req)]);
  const e = new NetlinkEngine(k, { firstSeq: 0xffffffff });
  await e.request(RTM_NEWLINK, BODY);
  await e.request(RTM_NEWLINK, BODY);
  assert.deepEqual(
    k.requests.map((r) => r.seq),
    [0xffffffff, 1],
  );
});

test('dumps run one at a time per socket (the kernel answers a second one with EBUSY); identical queued dumps are shared', async () => {
  let running = 0;
  let maxRunning = 0;
  const k = new FakeKernel(5);
  k.handler = (req, kk) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    // Answer later, as a kernel walking a big table would.
    setTimeout(() => {
      running--;
      kk.deliver(kk.reply(req, RTM_NEWLINK, Buffer.alloc(16, req.payload[0] ?? 0), NLM_F.NLM_F_MULTI), kk.done(req));
    }, 5);
    return [];
  };
  const e = new NetlinkEngine(k);
  const other = Buffer.from(BODY);
  other[0] = 7;
  const results = await Promise.all([
    e.dump(RTM_GETLINK, BODY),
    e.dump(RTM_GETLINK, other),
    e.dump(RTM_GETLINK, other),
    e.dump(RTM_GETLINK, BODY),
  ]);
  assert.equal(maxRunning, 1, 'never two dumps in flight');
  assert.deepEqual(
    results.map((r) => r[0]?.payload[0]),
    [BODY[0], 7, 7, BODY[0]],
  );
  assert.equal(k.requests.length, 2, 'each duplicate issued while its twin still waited was shared');
  // Once a dump has started, a new identical one is a new dump (it must see the table as it is now).
  const later = e.dump(RTM_GETLINK, BODY);
  await later;
  assert.equal(k.requests.length, 3);
});
