/** NLMSG_ERROR / NLMSG_DONE decoding, extended ACKs, and the errors they become. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { constants } from 'node:os';
import { NetplumbError, fromSysError, sysErrorText } from '../../src/errors.js';
import { ERRNO_NAMES, errnoName } from '../../src/netlink/errno.js';
import { decodeMessages } from '../../src/netlink/header.js';
import { kernelError } from '../../src/netlink/kernel-error.js';
import { messageTypeName } from '../../src/netlink/message-types.js';
import { decodeDone, decodeNlMsgErr } from '../../src/netlink/nlmsgerr.js';
import { CAPTURES, hex } from './fixtures/iproute2.js';
import { throwsCode } from './support/assert-error.js';

function only<T>(xs: T[]): T {
  assert.equal(xs.length, 1);
  return xs[0] as T;
}

test('errno table: Linux numbers and names', () => {
  const expected: Record<number, string> = {
    1: 'EPERM',
    2: 'ENOENT',
    13: 'EACCES',
    16: 'EBUSY',
    17: 'EEXIST',
    19: 'ENODEV',
    22: 'EINVAL',
    34: 'ERANGE',
    95: 'EOPNOTSUPP',
    99: 'EADDRNOTAVAIL',
    101: 'ENETUNREACH',
    105: 'ENOBUFS',
    110: 'ETIMEDOUT',
    113: 'EHOSTUNREACH',
  };
  for (const [n, name] of Object.entries(expected)) assert.equal(errnoName(Number(n)), name);
  assert.ok(Object.keys(ERRNO_NAMES).length >= 40);
  assert.equal(errnoName(4000), 'E4000');
});

test('errno table: every errno the C library knows (os.constants.errno) has its name, aliases aside', () => {
  const aliases: Record<string, string> = { EWOULDBLOCK: 'EAGAIN', ENOTSUP: 'EOPNOTSUPP', EDEADLOCK: 'EDEADLK' };
  for (const [name, n] of Object.entries(constants.errno))
    assert.equal(errnoName(n), aliases[name] ?? name, `errno ${n}`);
});

test('a native error record {errno, syscall} becomes a NetplumbError named by the table', () => {
  const err = fromSysError({ errno: 17, syscall: 'openat2' }, 'opening x', { field: 'netns' });
  assert.equal(err.code, 'ALREADY_EXISTS');
  assert.equal(err.message, 'opening x: openat2: EEXIST (already exists)');
  assert.deepEqual(err.details, { errno: 17, errnoCode: 'EEXIST', syscall: 'openat2', field: 'netns' });
  assert.equal(fromSysError({ errno: 1, syscall: 'setns' }, 'entering y').code, 'PRIVILEGE');
  assert.equal(sysErrorText({ errno: 110, syscall: 'connect' }), 'connect: ETIMEDOUT');
});

test('message type names', () => {
  assert.equal(messageTypeName(16), 'RTM_NEWLINK');
  assert.equal(messageTypeName(21), 'RTM_DELADDR');
  assert.equal(messageTypeName(2), 'NLMSG_ERROR');
  assert.equal(messageTypeName(999), 'NLMSG_999');
});

test('a captured ACK decodes as error 0', () => {
  const e = decodeNlMsgErr(only(decodeMessages(hex(CAPTURES.veth.replies[0]))));
  assert.equal(e.error, 0);
  assert.equal(e.request.type, 16);
});

test('captured EEXIST (full request echoed, no TLVs) becomes ALREADY_EXISTS with errno fields', () => {
  const msg = only(decodeMessages(hex(CAPTURES.eexist.replies[0])));
  const e = decodeNlMsgErr(msg);
  assert.equal(e.error, -17);
  assert.equal(e.request.len, 84);
  assert.equal(e.extAck.msg, undefined);
  const err = kernelError({ errno: -e.error, type: e.request.type, extAck: e.extAck });
  assert.ok(err instanceof NetplumbError);
  assert.equal(err.code, 'ALREADY_EXISTS');
  assert.equal(err.message, 'RTM_NEWLINK: EEXIST: already exists');
  assert.deepEqual([err.details.errno, err.details.errnoCode, err.details.syscall], [17, 'EEXIST', 'RTM_NEWLINK']);
});

test('captured EADDRNOTAVAIL with an extended ACK message: the kernel text is in the error', () => {
  const msg = only(decodeMessages(hex(CAPTURES.addrdel.replies[0])));
  const e = decodeNlMsgErr(msg);
  assert.equal(e.error, -99);
  assert.equal(e.extAck.msg, 'ipv4: Address not found');
  const err = kernelError({
    errno: 99,
    type: e.request.type,
    extAck: e.extAck,
    describe: 'addr del 10.1.2.3/24 dev "br0"',
  });
  assert.equal(err.message, 'addr del 10.1.2.3/24 dev "br0": RTM_DELADDR: EADDRNOTAVAIL: ipv4: Address not found');
  assert.equal(err.details.extAck, 'ipv4: Address not found');
  assert.equal(err.code, 'INVALID_ARGUMENT');
});

test('ext-ack offset names the offending attribute of the request', () => {
  const request = hex(CAPTURES.badname.request);
  // offset 32 = the IFLA_IFNAME attribute right after nlmsghdr + ifinfomsg
  const err = kernelError({
    errno: 22,
    type: 16,
    extAck: { msg: 'Attribute failed policy validation', offset: 32, unknown: [] },
    request,
  });
  assert.equal(err.details.extAckOffset, 32);
  assert.equal(err.details.extAckAttrType, 3);
  assert.equal(err.message, 'RTM_NEWLINK: EINVAL: Attribute failed policy validation');
});

test('NLMSG_DONE: status and ext-ack', () => {
  const done = decodeMessages(hex(CAPTURES.linkdump.replies[1]));
  assert.equal(only(done).type, 3);
  assert.equal(decodeDone(only(done)).error, 0);
});

test('malformed NLMSG_ERROR payloads are PROTOCOL errors', () => {
  const msg = only(decodeMessages(hex(CAPTURES.eexist.replies[0])));
  throwsCode(() => decodeNlMsgErr({ ...msg, payload: msg.payload.subarray(0, 19) }), 'PROTOCOL');
  throwsCode(() => decodeNlMsgErr({ ...msg, payload: msg.payload.subarray(0, 60) }), 'PROTOCOL');
  const positive = Buffer.from(msg.payload);
  positive.writeInt32LE(5, 0);
  throwsCode(() => decodeNlMsgErr({ ...msg, payload: positive }), 'PROTOCOL');
  throwsCode(() => decodeDone({ ...msg, type: 3, payload: Buffer.alloc(2) }), 'PROTOCOL');
});
