/** Address, route and rule requests against iproute2's bytes; their dumps decoded; the verbs. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RTM } from '../../src/netlink/message-types.js';
import { decodeMessages, encodeMessage } from '../../src/netlink/header.js';
import { NLM_F } from '../../src/netlink/constants.js';
import { addressRequest, decodeAddress, validateAddress } from '../../src/rtnl/address.js';
import { decodeRoute, routeRequest, validateRoute } from '../../src/rtnl/route.js';
import { decodeRule, ruleRequest, validateRule } from '../../src/rtnl/rule.js';
import { Rtnl } from '../../src/rtnl/rtnl.js';
import { CAPTURES, hex } from './fixtures/iproute2.js';
import { assertSameBytes } from './support/as-sent.js';
import { FakeKernel, settle, tlv, u32 } from './support/fake-kernel.js';
import { isNetplumbError } from './support/assert-error.js';

test('ip addr add 10.1.2.3/24 brd + dev va: local, address and the computed broadcast', () => {
  assertSameBytes(
    addressRequest(RTM.RTM_NEWADDR, validateAddress({ dev: 5, address: '10.1.2.3/24' }), 5),
    CAPTURES.addr4.request,
  );
});

test('ip addr del 10.1.2.3/24 dev br0', () => {
  assertSameBytes(
    addressRequest(RTM.RTM_DELADDR, validateAddress({ dev: 7, address: '10.1.2.3/24' }), 7),
    CAPTURES.addrdel.request,
  );
});

test('ip -6 addr add fd00::1/64 dev va nodad: as ip sends it, plus IFA_FLAGS carrying IFA_F_NODAD', () => {
  const r = addressRequest(RTM.RTM_NEWADDR, validateAddress({ dev: 5, address: 'fd00::1/64', nodad: true }), 5);
  const ip = hex(CAPTURES.addr6.request);
  const expected = encodeMessage(
    {
      type: 20,
      flags: NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL,
      seq: ip.readUInt32LE(8),
      pid: 0,
    },
    ip.subarray(16),
    tlv(8, u32(2)),
  );
  assert.equal(
    encodeMessage(
      { type: r.type, flags: NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | r.flags, seq: ip.readUInt32LE(8), pid: 0 },
      r.payload,
    ).toString('hex'),
    expected.toString('hex'),
  );
});

test('no broadcast on /31 and /32, none when disabled, never for IPv6', () => {
  const attrsLen = (address: string, broadcast?: boolean): number =>
    addressRequest(
      RTM.RTM_NEWADDR,
      validateAddress({ dev: 1, address, ...(broadcast === undefined ? {} : { broadcast }) }),
      1,
    ).payload.length;
  assert.equal(attrsLen('10.0.0.1/31'), 8 + 16);
  assert.equal(attrsLen('10.0.0.1/32'), 8 + 16);
  assert.equal(attrsLen('10.0.0.1/30'), 8 + 24);
  assert.equal(attrsLen('10.0.0.1/24', false), 8 + 16);
  assert.throws(
    () => validateAddress({ dev: 1, address: '10.0.0.1/24', nodad: true }),
    isNetplumbError('INVALID_ARGUMENT', 'nodad'),
  );
});

test('routes: default via onlink, table/metric/src, IPv6 via, delete', () => {
  assertSameBytes(
    routeRequest(RTM.RTM_NEWROUTE, validateRoute({ dst: 'default', via: '10.9.9.1', dev: 5, onlink: true }), 5),
    CAPTURES.route.request,
  );
  assertSameBytes(
    routeRequest(
      RTM.RTM_NEWROUTE,
      validateRoute({ dst: '10.5.0.0/16', dev: 5, table: 100, metric: 50, src: '10.1.2.3' }),
      5,
    ),
    CAPTURES.route2.request,
  );
  assertSameBytes(
    routeRequest(RTM.RTM_NEWROUTE, validateRoute({ dst: 'fd01::/64', via: 'fd00::2', dev: 5 }), 5),
    CAPTURES.route6.request,
  );
  assertSameBytes(
    routeRequest(RTM.RTM_DELROUTE, validateRoute({ dst: '10.5.0.0/16', dev: 5, table: 100 }), 5),
    CAPTURES.routedel.request,
  );
});

test('routes: tables above 255 go in RTA_TABLE; replace uses NLM_F_REPLACE; bad input is refused', () => {
  const r = routeRequest(
    RTM.RTM_NEWROUTE,
    validateRoute({ dst: '10.0.0.0/8', dev: 2, table: 1000 }),
    2,
    NLM_F.NLM_F_CREATE | NLM_F.NLM_F_REPLACE,
  );
  assert.equal(r.payload[4], 0);
  assert.ok(r.payload.subarray(12).toString('hex').includes('08000f00e8030000'));
  assert.equal(r.flags, NLM_F.NLM_F_CREATE | NLM_F.NLM_F_REPLACE);
  assert.match(r.describe, /^route replace 10\.0\.0\.0\/8 dev ifindex 2/);
  assert.throws(() => validateRoute({ dst: '10.0.0.1/8' }), isNetplumbError('INVALID_ARGUMENT', 'dst'));
  assert.throws(() => validateRoute({ dst: '10.0.0.0/8', via: 'fd00::1' }), isNetplumbError('INVALID_ARGUMENT', 'via'));
  assert.throws(
    () => validateRoute({ dst: 'default', via: '10.0.0.1', onlink: true }),
    isNetplumbError('INVALID_ARGUMENT', 'onlink'),
  );
  assert.throws(
    () => validateRoute({ dst: 'default', via: '10.0.0.1', table: 0 }),
    isNetplumbError('INVALID_ARGUMENT', 'table'),
  );
});

test('rules: from/to/iif/fwmark/mask/table/priority, not + lookup ≥ 256, delete by priority', () => {
  assertSameBytes(
    ruleRequest(
      RTM.RTM_NEWRULE,
      validateRule({
        from: '10.1.0.0/16',
        to: '10.2.0.0/16',
        iif: 'va',
        fwmark: 1,
        fwmask: 0xff,
        table: 100,
        priority: 1000,
      }),
    ),
    CAPTURES.rule.request,
  );
  assertSameBytes(
    ruleRequest(RTM.RTM_NEWRULE, validateRule({ not: true, from: '10.3.0.0/16', table: 1000, priority: 1001 })),
    CAPTURES.rulenot.request,
  );
  assertSameBytes(ruleRequest(RTM.RTM_DELRULE, validateRule({ priority: 1000 })), CAPTURES.ruledel.request);
  assert.throws(() => validateRule({ fwmask: 3 }), isNetplumbError('INVALID_ARGUMENT', 'fwmask'));
  assert.throws(() => validateRule({ from: '10.0.0.0/8', to: 'fd00::/8' }), isNetplumbError('INVALID_ARGUMENT', 'to'));
});

test('captured address, route and rule dumps decode', () => {
  const msgs = [...CAPTURES.addrdump.replies, ...CAPTURES.routedump.replies, ...CAPTURES.ruledump.replies].flatMap(
    (r) => decodeMessages(hex(r)),
  );
  const addrs = msgs.filter((m) => m.type === RTM.RTM_NEWADDR).map(decodeAddress);
  const v4 = addrs.find((a) => a.family === 4);
  assert.deepEqual(
    { cidr: v4?.cidr, broadcast: v4?.broadcast, label: v4?.label, index: v4?.index, scope: v4?.scope },
    { cidr: '10.1.2.3/24', broadcast: '10.1.2.255', label: 'va', index: 5, scope: 'global' },
  );
  const nodad = addrs.find((a) => a.address === 'fd00::1');
  assert.equal(nodad?.nodad, true);
  assert.equal(nodad?.validLft, 0xffffffff);
  assert.ok(addrs.some((a) => a.scope === 'link' && a.address.startsWith('fe80::') && a.tentative));
  const routes = msgs.filter((m) => m.type === RTM.RTM_NEWROUTE).map(decodeRoute);
  assert.deepEqual(
    routes.map((r) => [r.dst, r.gateway, r.oif, r.onlink, r.table, r.scope]),
    [
      ['default', '10.9.9.1', 5, true, 'main', 'global'],
      ['10.1.2.0/24', undefined, 5, false, 'main', 'link'],
    ],
  );
  const rules = msgs.filter((m) => m.type === RTM.RTM_NEWRULE).map(decodeRule);
  assert.deepEqual(
    rules.map((r) => [r.priority ?? 0, r.from, r.table, r.not]),
    [
      [0, undefined, 'local', false],
      [1001, '10.3.0.0/16', 1000, true],
      [32766, undefined, 'main', false],
      [32767, undefined, 'default', false],
    ],
  );
});

test('verbs resolve the device by name, and invalid input sends nothing', async () => {
  const k = new FakeKernel(3, (req, kk) => {
    if (req.type === RTM.RTM_GETLINK) {
      const link = decodeMessages(hex(CAPTURES.linkdump.replies[0])).find(
        (m) => m.type === RTM.RTM_NEWLINK && m.payload.readInt32LE(4) === 5,
      );
      return link === undefined ? [kk.error(req, 19)] : [kk.reply(req, RTM.RTM_NEWLINK, link.payload), kk.ack(req)];
    }
    return [kk.ack(req)];
  });
  const rtnl = new Rtnl(k);
  await rtnl.addr.add({ dev: 'va', address: '10.1.2.3/24' });
  await rtnl.route.add({ dst: 'default', via: '10.9.9.1', dev: 'va', onlink: true });
  await rtnl.rule.add({ from: '10.1.0.0/16', table: 100, priority: 10 });
  assert.deepEqual(
    k.requests.map((r) => r.type),
    [RTM.RTM_GETLINK, RTM.RTM_NEWADDR, RTM.RTM_GETLINK, RTM.RTM_NEWROUTE, RTM.RTM_NEWRULE],
  );
  const newaddr = k.requests[1];
  assert.equal(
    newaddr?.payload.subarray(0, 8).toString('hex'),
    hex(CAPTURES.addr4.request).subarray(16, 24).toString('hex'),
  );
  const n = k.requests.length;
  await assert.rejects(
    rtnl.addr.add({ dev: 'va', address: '10.0.0.1' }),
    isNetplumbError('INVALID_ARGUMENT', 'address'),
  );
  await assert.rejects(
    rtnl.route.add({ dst: 'default', via: '010.0.0.1' }),
    isNetplumbError('INVALID_ARGUMENT', 'via'),
  );
  await assert.rejects(rtnl.rule.add({ iif: 'a/b' }), isNetplumbError('INVALID_ARGUMENT', 'iif'));
  await settle();
  assert.equal(k.requests.length, n);
});
