/** Addresses of OVN logical ports: static, allocated by ovn-northd, conflicts; the port names. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { addressesOf, allocatedIpv4, holderOf, portAddressing, subnetOf } from '../../src/ovn/ipam.js';
import { logicalPortName } from '../../src/ovn/marks.js';
import type { LogicalSwitchPortRow, LogicalSwitchRow } from '../../src/ovsdb/nb-model.js';
import { ipPrefix } from '../../src/validate.js';
import { isNetplumbError } from './support/assert-error.js';

const MAC = '02:00:00:00:00:01';

function sw(otherConfig: Record<string, string> = {}): LogicalSwitchRow {
  return { uuid: 'u', name: 'vlan100', ports: [], otherConfig, externalIds: {} };
}

function port(name: string, addresses: string[], dynamicAddresses?: string): LogicalSwitchPortRow {
  return {
    uuid: name,
    name,
    type: '',
    options: {},
    addresses,
    dynamicAddresses,
    portSecurity: [],
    up: undefined,
    tag: undefined,
    externalIds: {},
  };
}

test('a static address: "MAC IP" for addresses and port security; outside the subnet refused', () => {
  const a = portAddressing(
    MAC,
    { kind: 'static', address: ipPrefix('ip', '10.0.0.5/24') },
    sw({ subnet: '10.0.0.0/24' }),
    'vlan100',
  );
  assert.deepEqual(a.addresses, [`${MAC} 10.0.0.5`]);
  assert.deepEqual(a.portSecurity, [`${MAC} 10.0.0.5`]);
  assert.equal(a.staticIp?.address, '10.0.0.5');
  assert.equal(a.dynamicFrom, undefined);
  assert.throws(
    () =>
      portAddressing(
        MAC,
        { kind: 'static', address: ipPrefix('ip', '10.1.0.5/24') },
        sw({ subnet: '10.0.0.0/24' }),
        'vlan100',
      ),
    isNetplumbError('INVALID_ARGUMENT', 'ip', /outside the subnet 10\.0\.0\.0\/24/),
  );
  // Without a subnet any address is the user's to choose.
  assert.equal(
    portAddressing(MAC, { kind: 'static', address: ipPrefix('ip', '192.168.7.7/24') }, sw(), 'n').staticIp?.address,
    '192.168.7.7',
  );
});

test('no address: ovn-northd allocates from the subnet ("MAC dynamic"); without a subnet the MAC alone', () => {
  const d = portAddressing(MAC, { kind: 'none' }, sw({ subnet: '10.0.0.0/24' }), 'vlan100');
  assert.deepEqual(d.addresses, [`${MAC} dynamic`]);
  assert.deepEqual(d.portSecurity, [MAC]);
  assert.equal(d.dynamicFrom?.cidr, '10.0.0.0/24');
  const l2 = portAddressing(MAC, { kind: 'none' }, sw(), 'vlan100');
  assert.deepEqual([l2.addresses, l2.portSecurity, l2.dynamicFrom], [[MAC], [MAC], undefined]);
  assert.throws(
    () => portAddressing(MAC, { kind: 'dhcp', client: 'udhcpc', foreground: false, options: [] }, sw(), 'vlan100'),
    isNetplumbError('INVALID_ARGUMENT', 'ip'),
  );
});

test('the addresses a port holds, who holds one, what ovn-northd allocated', () => {
  const ports = [
    port('a', [`${MAC} 10.0.0.5 fd00::5`]),
    port('b', ['02:00:00:00:00:02 dynamic'], '02:00:00:00:00:02 10.0.0.9'),
    port('ln', ['unknown']),
    port('r', ['router']),
  ];
  assert.deepEqual(addressesOf(ports[0] as LogicalSwitchPortRow), ['10.0.0.5', 'fd00::5']);
  assert.deepEqual(addressesOf(ports[1] as LogicalSwitchPortRow), ['10.0.0.9']);
  assert.deepEqual(addressesOf(ports[2] as LogicalSwitchPortRow), []);
  assert.equal(holderOf('10.0.0.5', ports)?.name, 'a');
  assert.equal(holderOf('10.0.0.9', ports)?.name, 'b', 'an allocated address is held too');
  assert.equal(holderOf('10.0.0.5', ports, 'a'), undefined, 'the port being replaced does not count');
  assert.equal(holderOf('10.0.0.6', ports), undefined);
  assert.equal(allocatedIpv4(ports[1]), '10.0.0.9');
  assert.equal(allocatedIpv4(port('c', ['02:00:00:00:00:03 dynamic'])), undefined, 'not yet allocated');
  assert.equal(subnetOf(sw({ subnet: '10.0.0.0/24' }))?.prefixLen, 24);
  assert.equal(subnetOf(sw({ subnet: 'garbage' })), undefined);
});

test('logical port names: the attachment id and the chassis, deterministic, distinct per chassis', () => {
  const a = logicalPortName('abcdefghij', 'chassis-1');
  assert.match(a, /^np-abcdefghij-[a-z2-7]{6}$/);
  assert.equal(logicalPortName('abcdefghij', 'chassis-1'), a);
  assert.notEqual(logicalPortName('abcdefghij', 'chassis-2'), a);
});
