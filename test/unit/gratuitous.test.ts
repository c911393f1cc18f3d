/** Gratuitous ARP and unsolicited neighbour advertisement builders: byte fixtures, checksums. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ETH_BROADCAST,
  gratuitousArp,
  icmpv6Checksum,
  ipv6MulticastMac,
  unsolicitedNeighborAdvertisement,
  unsolicitedNeighborAdvertisementPacket,
} from '../../src/plumb/gratuitous.js';
import { throwsCode } from './support/assert-error.js';

const hex = (b: Buffer): string => b.toString('hex');

test('ARP reply, as arping -A sends it: op 2, sender = target = the IP, target MAC = sender MAC', () => {
  const p = gratuitousArp({ op: 'reply', senderMac: '02:42:ac:11:00:02', ip: '10.0.0.5' });
  assert.equal(
    hex(p),
    '0001' + '0800' + '06' + '04' + '0002' + '0242ac110002' + '0a000005' + '0242ac110002' + '0a000005',
  );
});

test('ARP request (RFC 5227 announcement): op 1, target MAC zero; or an explicit target MAC', () => {
  const p = gratuitousArp({ op: 'request', senderMac: '02:42:AC:11:00:02', ip: '192.168.1.200' });
  assert.equal(hex(p), '000108000604000102' + '42ac110002' + 'c0a801c8' + '000000000000' + 'c0a801c8');
  const u = gratuitousArp({
    op: 'request',
    senderMac: Buffer.from('0242ac110002', 'hex'),
    ip: Buffer.from([192, 168, 1, 200]),
    targetMac: ETH_BROADCAST,
  });
  assert.equal(hex(u.subarray(18, 24)), 'ffffffffffff');
});

test('ARP builder refuses IPv6, bad MACs and wrong byte lengths', () => {
  throwsCode(
    () => gratuitousArp({ op: 'reply', senderMac: '02:42:ac:11:00:02', ip: '2001:db8::1' }),
    'INVALID_ARGUMENT',
    'ip',
  );
  throwsCode(
    () => gratuitousArp({ op: 'reply', senderMac: 'ff:ff:ff:ff:ff:ff', ip: '10.0.0.1' }),
    'INVALID_ARGUMENT',
    'senderMac',
  );
  throwsCode(
    () => gratuitousArp({ op: 'reply', senderMac: Buffer.alloc(5), ip: '10.0.0.1' }),
    'INVALID_ARGUMENT',
    'senderMac',
  );
  throwsCode(
    () => gratuitousArp({ op: 'reply', senderMac: '02:00:00:00:00:01', ip: Buffer.alloc(16) }),
    'INVALID_ARGUMENT',
    'ip',
  );
});

// Fixtures computed by an independent implementation (Python struct + RFC 1071 sum).
const NA_2001_DB8_5 = '88004cce2000000020010db800000000000000000000000502010242ac110002';
const NA_FROM_LINK_LOCAL = '8800d0b52000000020010db800000000000000000000000502010242ac110002';

test('unsolicited NA: type 136, Override only, target, target link-layer option, checksum', () => {
  const m = unsolicitedNeighborAdvertisement({ mac: '02:42:ac:11:00:02', target: '2001:db8::5' });
  assert.equal(hex(m), NA_2001_DB8_5);
  assert.equal(m[0], 136);
  assert.equal(m[4], 0x20);
  const ll = unsolicitedNeighborAdvertisement({
    mac: '02:42:ac:11:00:02',
    target: '2001:db8::5',
    source: 'fe80::42:acff:fe11:2',
  });
  assert.equal(hex(ll), NA_FROM_LINK_LOCAL);
});

test('unsolicited NA packet: IPv6 header (hop limit 255, next header 58, ff02::1) + the message', () => {
  const p = unsolicitedNeighborAdvertisementPacket({ mac: '02:42:ac:11:00:02', target: '2001:db8::5' });
  assert.equal(
    hex(p),
    `6000000000203aff20010db8000000000000000000000005ff020000000000000000000000000001${NA_2001_DB8_5}`,
  );
});

/** An independent check: the one's-complement sum of pseudo-header + message with its checksum is 0xffff. */
function sumsToAllOnes(src: Buffer, dst: Buffer, msg: Buffer): boolean {
  const all = Buffer.concat([src, dst, Buffer.from([0, 0, msg.length >> 8, msg.length & 0xff, 0, 0, 0, 58]), msg]);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) {
    s += all.readUInt16BE(i);
    s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  return s === 0xffff;
}

test('property: every NA carries a checksum that verifies independently', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 6, maxLength: 6 }),
      (target, source, mac) => {
        const m = unsolicitedNeighborAdvertisement({ mac, target, source });
        assert.ok(sumsToAllOnes(Buffer.from(source), Buffer.from('ff020000000000000000000000000001', 'hex'), m));
        const zeroed = Buffer.from(m);
        zeroed.writeUInt16BE(0, 2);
        assert.equal(
          icmpv6Checksum(source, Buffer.from('ff020000000000000000000000000001', 'hex'), zeroed),
          m.readUInt16BE(2),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('IPv6 multicast MAC (RFC 2464) and bad NA inputs', () => {
  assert.equal(hex(ipv6MulticastMac('ff02::1')), '333300000001');
  assert.equal(hex(ipv6MulticastMac('ff02::1:ff11:2')), '3333ff110002');
  throwsCode(() => ipv6MulticastMac('2001:db8::1'), 'INVALID_ARGUMENT', 'address');
  throwsCode(
    () => unsolicitedNeighborAdvertisement({ mac: '02:42:ac:11:00:02', target: '10.0.0.1' }),
    'INVALID_ARGUMENT',
    'target',
  );
  throwsCode(
    () => unsolicitedNeighborAdvertisement({ mac: '02:42:ac:11:00:02', target: 'fe80::1%eth0' }),
    'INVALID_ARGUMENT',
    'target',
  );
});
