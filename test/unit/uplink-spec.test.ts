/** Uplink requests: parsing (library and command line), the OVS VLAN columns, ovn-bridge-mappings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetplumbArgs } from '../../src/cli/netplumb-args.js';
import {
  formatBridgeMappings,
  parseBridgeMappings,
  parseUplinkSpec,
  portVlansOf,
} from '../../src/plumb/uplink-spec.js';
import { isNetplumbError } from './support/assert-error.js';

function assertInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, isNetplumbError('INVALID_ARGUMENT', field));
}

test('a trunk by default; access with vlan; native VLAN joins a listed trunk', () => {
  assert.deepEqual(portVlansOf(parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1' }).vlans), { vlanMode: 'trunk' });
  assert.deepEqual(portVlansOf(parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', vlan: 100 }).vlans), {
    tag: 100,
    vlanMode: 'access',
  });
  assert.deepEqual(portVlansOf(parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', trunks: [200, 100] }).vlans), {
    trunks: [100, 200],
    vlanMode: 'trunk',
  });
  assert.deepEqual(
    portVlansOf(parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', trunks: [200, 100], nativeVlan: 7 }).vlans),
    { tag: 7, trunks: [7, 100, 200], vlanMode: 'native-untagged' },
  );
  assert.deepEqual(portVlansOf(parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', nativeVlan: 7 }).vlans), {
    tag: 7,
    vlanMode: 'native-untagged',
  });
});

test('bad uplink requests are refused naming the field', () => {
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', vlan: 100, trunks: [1] }), 'vlan');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', trunks: [] }), 'trunks');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', trunks: [5, 5] }), 'trunks');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', nativeVlan: 4095 }), 'nativeVlan');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'ovs0' }), 'nic');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'a'.repeat(16) }), 'nic');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', physnet: 'a,b' }), 'physnet');
  assertInvalid(() => parseUplinkSpec({ bridge: 'ovs0', nic: 'eth1', physnet: 'a:b' }), 'physnet');
});

test('ovn-bridge-mappings: read and written back in order', () => {
  assert.deepEqual(parseBridgeMappings(undefined), []);
  assert.deepEqual(parseBridgeMappings(' physnet1:br-ex , physnet2:ovs0'), [
    ['physnet1', 'br-ex'],
    ['physnet2', 'ovs0'],
  ]);
  assert.equal(
    formatBridgeMappings([
      ['a', 'b'],
      ['c', 'd'],
    ]),
    'a:b,c:d',
  );
});

test('netplumb uplink: actions and the options each takes', () => {
  const add = parseNetplumbArgs([
    'uplink',
    'add',
    '--bridge',
    'ovs0',
    '--nic',
    'eth1',
    '--trunks',
    '100,200',
    '--native-vlan',
    '1',
  ]);
  assert.deepEqual(add, {
    command: 'uplink',
    action: 'add',
    spec: { bridge: 'ovs0', nic: 'eth1', trunks: [100, 200], nativeVlan: 1 },
    json: false,
    connection: {},
  });
  assert.deepEqual(parseNetplumbArgs(['uplink', 'del', '--nic', 'eth1', '--json']), {
    command: 'uplink',
    action: 'del',
    request: { nic: 'eth1' },
    json: true,
    connection: {},
  });
  assert.equal((parseNetplumbArgs(['uplink', 'list']) as { action: string }).action, 'list');
  assertInvalid(() => parseNetplumbArgs(['uplink']), 'action');
  assertInvalid(() => parseNetplumbArgs(['uplink', 'ad', '--nic', 'eth1']), 'action');
  assertInvalid(() => parseNetplumbArgs(['uplink', 'del', '--nic', 'eth1', '--trunks', '5']), 'trunks');
  assertInvalid(() => parseNetplumbArgs(['uplink', 'list', 'extra']), 'argv');
  assertInvalid(() => parseNetplumbArgs(['uplink', 'add', '--bridge', 'ovs0', '--nic', 'eth1', '--vlan', '0']), 'vlan');
});

test('netplumb network: create NAME with its options, delete NAME, list; attach --network defaults --bridge to br-int', () => {
  assert.deepEqual(
    parseNetplumbArgs([
      'network',
      'create',
      'vlan100',
      '--subnet',
      '10.0.0.0/24',
      '--exclude-ips',
      '10.0.0.1..10.0.0.9,10.0.0.20',
      '--vlan',
      '100',
      '--physnet',
      'physnet1',
      '--ovn-nb',
      'unix:/run/ovn/nb.sock',
    ]),
    {
      command: 'network',
      action: 'create',
      spec: {
        name: 'vlan100',
        subnet: '10.0.0.0/24',
        excludeIps: ['10.0.0.1..10.0.0.9', '10.0.0.20'],
        vlan: 100,
        physnet: 'physnet1',
      },
      json: false,
      connection: { ovnNb: 'unix:/run/ovn/nb.sock' },
    },
  );
  assert.deepEqual(parseNetplumbArgs(['network', 'delete', 'vlan100', '--force']), {
    command: 'network',
    action: 'delete',
    name: 'vlan100',
    force: true,
    json: false,
    connection: {},
  });
  assertInvalid(() => parseNetplumbArgs(['network', 'create']), 'name');
  assertInvalid(() => parseNetplumbArgs(['network', 'create', 'a b']), 'name');
  assertInvalid(() => parseNetplumbArgs(['network', 'delete', 'x', '--subnet', '10.0.0.0/24']), 'subnet');
  assertInvalid(() => parseNetplumbArgs(['network', 'list', 'x']), 'argv');
  const attach = parseNetplumbArgs(['attach', '--network', 'vlan100', '--container', 'web1']) as {
    spec: { host: string; network?: string; mode?: string };
  };
  assert.deepEqual([attach.spec.host, attach.spec.network, attach.spec.mode], ['br-int', 'vlan100', 'ovn']);
  assertInvalid(() => parseNetplumbArgs(['attach', '--network', 'n', '--container', 'w', '--mode', 'ovs']), 'mode');
  assertInvalid(() => parseNetplumbArgs(['attach', '--container', 'w']), 'bridge');
});
