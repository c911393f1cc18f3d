/** Input validators: every bad input of faults.md A1, A3, A5, A6, A7 and H5 (names), and the edge values that must pass. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import {
  gateway,
  ifAlias,
  ifName,
  integer,
  ipAddress,
  ipPrefix,
  ipv4Broadcast,
  macAddress,
  macBytes,
  mtu,
  vlanId,
} from '../../src/validate.js';
import { throwsCode } from './support/assert-error.js';

function rejects(f: () => unknown, field: string, reason?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NetplumbError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.details.field, field);
    assert.ok(e.message.startsWith(`invalid ${field}: `), e.message);
    if (reason !== undefined) assert.match(e.message, reason);
    return true;
  });
}

test('A1: a 16-byte interface name exceeds 15 bytes', () => {
  rejects(() => ifName('hostIfName', 'aaaaaaaaaaaaaaaa'), 'hostIfName', /exceeds 15 bytes/);
  assert.equal(ifName('hostIfName', 'aaaaaaaaaaaaaaa'), 'aaaaaaaaaaaaaaa');
});

test('A3: empty, dot names, "/", ":", whitespace, newline, NUL are refused', () => {
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'eth0\n', 'eth\u0000', 'a\tb', 'eth%d', 'é', 'a\u007f'])
    rejects(() => ifName('ifname', bad), 'ifname');
  for (const bad of [undefined, null, 5, {}]) rejects(() => ifName('ifname', bad), 'ifname');
  for (const ok of ['eth0', 'veth-1.2_x', 'a', '...', '.a', 'a..b', 'ÿ'.replace('ÿ', 'y')])
    assert.equal(ifName('ifname', ok), ok);
});

test('H5: shell syntax in an interface name is refused: $, backquote, ;, |, &, quotes, globs, redirections', () => {
  for (const bad of [
    '$(reboot)',
    '`id`',
    'a;b',
    'a|b',
    'a&b',
    "a'b",
    'a"b',
    'a*',
    'a?',
    '[a]',
    '{a}',
    'a<b',
    'a>b',
    'a\\b',
    '!a',
    '#a',
    '(a)',
  ]) {
    rejects(() => ifName('ifname', bad), 'ifname', /contains/);
  }
  for (const ok of ['br-ext', 'eth0.100', 'a_b', 'a+b', 'a=b', 'a,b', 'a@b', 'a^b', 'a~b'])
    assert.equal(ifName('ifname', ok), ok);
});

test('property: every accepted interface name is 1..15 bytes of printable ASCII without / : %', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 20, unit: 'binary' }), (s) => {
      try {
        ifName('n', s);
      } catch (e) {
        assert.ok(e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT');
        return;
      }
      assert.ok(Buffer.byteLength(s) >= 1 && Buffer.byteLength(s) <= 15);
      assert.match(s, /^[\x21-\x7e]+$/);
      assert.ok(!/[/:%]/.test(s) && s !== '.' && s !== '..');
    }),
    { numRuns: 3000 },
  );
});

test('A5: VLAN ids 0, 4095, 4096, -1, 1.5, "10abc", "0x10", "", null are refused; 1 and 4094 accepted', () => {
  for (const bad of [
    0,
    4095,
    4096,
    -1,
    1.5,
    '10abc',
    '0x10',
    '',
    null,
    undefined,
    NaN,
    Infinity,
    '010',
    ' 10',
    '1e3',
    true,
  ])
    rejects(() => vlanId('vlan', bad), 'vlan');
  assert.equal(vlanId('vlan', 1), 1);
  assert.equal(vlanId('vlan', 4094), 4094);
  assert.equal(vlanId('vlan', '100'), 100);
});

test('A6: broadcast, all-zero, 5 octets, non-hex, dotted Cisco form are refused; dashes normalised', () => {
  for (const bad of [
    'ff:ff:ff:ff:ff:ff',
    '00:00:00:00:00:00',
    'aa:bb:cc:dd:ee',
    'AA:BB:CC:DD:EE:FG',
    'aabb.ccdd.eeff',
    '01:00:5e:00:00:01',
    'aa:bb:cc:dd:ee:ff:00',
    'a:b:c:d:e:f',
    'aa:bb-cc:dd:ee:ff',
    'aabbccddeeff',
    '',
    42,
  ])
    rejects(() => macAddress('mac', bad), 'mac');
  assert.equal(macAddress('mac', 'AA-BB-CC-DD-EE-01'.replace('AA', 'AE')), 'ae:bb:cc:dd:ee:01');
  assert.equal(macAddress('mac', '02:42:AC:11:00:02'), '02:42:ac:11:00:02');
  assert.equal(macBytes('02:42:ac:11:00:02').toString('hex'), '0242ac110002');
});

test('A6: the multicast bit (bit 0 of the first octet) is what is refused', () => {
  rejects(() => macAddress('mac', 'AA-BB-CC-DD-EE-01'.replace('AA', 'AB')), 'mac', /multicast/);
  rejects(() => macAddress('mac', '33:33:00:00:00:01'), 'mac', /multicast/);
  assert.equal(macAddress('mac', 'fe:ff:ff:ff:ff:ff'), 'fe:ff:ff:ff:ff:ff');
});

test('A7: IPv4 prefixes: missing length (with a hint), /33, leading zeros', () => {
  rejects(() => ipPrefix('ip', '10.0.0.1'), 'ip', /maybe you meant 10\.0\.0\.1\/24\?/);
  rejects(() => ipPrefix('ip', '10.0.0.1/33'), 'ip', /exceeds 32/);
  rejects(() => ipPrefix('ip', '010.0.0.1/24'), 'ip', /leading zero/);
  for (const bad of [
    '10.0.0.256/24',
    '10.0.0/24',
    '10.0.0.1/',
    '10.0.0.1/024',
    '10.0.0.1/-1',
    '10.0.0.1/2/3',
    'a.b.c.d/8',
    '10.0.0.1 /24',
    ' 10.0.0.1/24',
  ])
    rejects(() => ipPrefix('ip', bad), 'ip');
  assert.deepEqual(
    { ...ipPrefix('ip', '10.0.0.1/24'), bytes: undefined },
    { family: 4, address: '10.0.0.1', prefixLen: 24, cidr: '10.0.0.1/24', bytes: undefined },
  );
  assert.equal(ipPrefix('ip', '0.0.0.0/0').prefixLen, 0);
  assert.equal(ipPrefix('ip', '255.255.255.255/32').prefixLen, 32);
});

test('A7: IPv6 prefixes: zone ids and IPv4-mapped addresses refused, /0..128 accepted', () => {
  rejects(() => ipPrefix('ip', 'fe80::1%eth0/64'), 'ip', /zone id/);
  rejects(() => ipPrefix('ip', '::ffff:10.0.0.1/120'), 'ip', /IPv4-mapped/);
  rejects(() => ipPrefix('ip', '::ffff:10.0.0.1/120', { family: 4 }), 'ip');
  rejects(() => ipPrefix('ip', 'fd00::1/129'), 'ip', /exceeds 128/);
  for (const bad of [
    'fd00:::1/64',
    '1:2:3:4:5:6:7:8:9/64',
    'fd00::1::2/64',
    'g::1/64',
    '1.2.3.4::/64',
    'fd00::12345/64',
    ':/64',
  ])
    rejects(() => ipPrefix('ip', bad), 'ip');
  assert.equal(ipPrefix('ip', 'FD00:0:0::1/64').cidr, 'fd00::1/64');
  assert.equal(ipPrefix('ip', '::/0').cidr, '::/0');
  assert.equal(ipPrefix('ip', '1:2:3:4:5:6:7:8/128').address, '1:2:3:4:5:6:7:8');
  assert.equal(ipPrefix('ip', '64:ff9b::10.0.0.1/96').address, '64:ff9b::a00:1');
  rejects(() => ipPrefix('ip', 'fd00::1/64', { family: 4 }), 'ip', /expected IPv4/);
  rejects(() => ipPrefix('ip', '10.0.0.1/8', { network: true }), 'ip', /host bits/);
});

test('A7: a gateway equal to the address is refused; a gateway outside the subnet is valid', () => {
  const addr = ipPrefix('ip', '10.0.0.2/24');
  rejects(() => gateway('gateway', '10.0.0.2', addr), 'gateway', /own address/);
  rejects(() => gateway('gateway', 'fd00::1', addr), 'gateway');
  assert.equal(gateway('gateway', '192.168.1.1', addr).address, '192.168.1.1');
});

test('property: IPv6 text → bytes → canonical text round-trips', () => {
  fc.assert(
    fc.property(fc.ipV6(), (s) => {
      if (/^::ffff:/i.test(s) || /^(0{1,4}:){5}ffff:/i.test(s) || s.includes('%')) return;
      let a: ReturnType<typeof ipAddress>;
      try {
        a = ipAddress('ip', s);
      } catch (e) {
        // Only IPv4-mapped forms may be refused.
        assert.match((e as Error).message, /IPv4-mapped/);
        return;
      }
      assert.deepEqual(ipAddress('ip', a.address).bytes, a.bytes);
    }),
    { numRuns: 2000 },
  );
});

test('MTU: 68..65535 integers', () => {
  for (const bad of [67, 65536, 0, -1, 1500.5, '1500x', null]) rejects(() => mtu('mtu', bad), 'mtu');
  assert.equal(mtu('mtu', 68), 68);
  assert.equal(mtu('mtu', 65535), 65535);
  assert.equal(mtu('mtu', '9000'), 9000);
});

test('integers, aliases, broadcast', () => {
  throwsCode(() => integer('n', 2 ** 53, 0, 2 ** 60), 'INVALID_ARGUMENT', 'n');
  assert.equal(integer('n', '-5', -10, 0), -5);
  rejects(() => ifAlias('alias', 'x'.repeat(256)), 'alias');
  rejects(() => ifAlias('alias', 'a\0'), 'alias');
  assert.equal(ifAlias('alias', ''), '');
  assert.equal(ipv4Broadcast(ipPrefix('ip', '10.1.2.3/24')).toString('hex'), '0a0102ff');
  assert.equal(ipv4Broadcast(ipPrefix('ip', '10.1.2.3/0')).toString('hex'), 'ffffffff');
  assert.equal(ipv4Broadcast(ipPrefix('ip', '10.1.2.3/32')).toString('hex'), '0a010203');
});
