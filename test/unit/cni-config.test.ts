/**
 * netplumb-cni's network configuration (src/cni/config.ts) and its attach plan: ovs-cni's
 * keys read into the engine's plan (which the daemon's params check and the engine's parse
 * give back unchanged), every wrong value a CNI error 7 naming its key, an unsupported
 * version 1, a configuration that is not JSON 6.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cniCall } from '../../src/cni/args.js';
import { attachPlan } from '../../src/cni/attach-plan.js';
import { parseNetConf, versionOfRaw, type NetConf } from '../../src/cni/config.js';
import { CniError } from '../../src/cni/errors.js';
import { attachParams } from '../../src/daemon/params.js';
import { parseAttachSpec } from '../../src/plumb/parse-spec.js';
import { specOf } from '../../src/plumb/plan.js';

const base = { cniVersion: '1.0.0', name: 'net1', type: 'netplumb-cni', bridge: 'br1' };

function parse(extra: Record<string, unknown>): NetConf {
  return parseNetConf(Buffer.from(JSON.stringify({ ...base, ...extra })));
}

/** The CNI error of `fn`: its code and details (the field). */
function cniError(fn: () => unknown): { code: number; details: string | undefined; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, `a CniError, got ${String(e)}`);
    return { code: e.code, details: e.details, message: e.message };
  }
  assert.fail('expected a CNI error');
}

const call = cniCall('ADD', {
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/run/netns/c1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
});

test("ovs-cni's configuration: bridge, vlan, mtu, socket_file, interface_type, ofport_request", () => {
  const c = parse({
    vlan: 100,
    mtu: 1400,
    socket_file: '/var/run/openvswitch/db.sock',
    interface_type: '',
    ofport_request: 7,
  });
  assert.deepEqual(c.target, { mode: 'ovs', bridge: 'br1', vlan: 100, ofportRequest: 7 });
  assert.equal(c.mtu, 1400);
  assert.equal(c.ovsdb, 'unix:/var/run/openvswitch/db.sock');
  assert.equal(parse({ socket_file: 'tcp:127.0.0.1:6640' }).ovsdb, 'tcp:127.0.0.1:6640');
  assert.equal(c.ipamType, undefined);
  assert.equal(parse({ ipam: {} }).ipamType, undefined, 'an empty ipam delegates nothing');
  assert.equal(parse({ ipam: { type: 'host-local', subnet: '10.1.0.0/24' } }).ipamType, 'host-local');
});

test('trunk: ids and ranges merged, ascending; a trunk and a vlan together are refused', () => {
  const c = parse({ trunk: [{ id: 42 }, { minID: 10, maxID: 12 }, { minID: 11, maxID: 13 }] });
  assert.deepEqual(c.target, { mode: 'ovs', bridge: 'br1', trunks: [10, 11, 12, 13, 42] });
  assert.deepEqual(cniError(() => parse({ vlan: 5, trunk: [{ id: 6 }] })).details, 'trunk');
});

test('the MAC: runtimeConfig first, then args.cni, then the configuration; CNI_ARGS MAC= over all', () => {
  assert.equal(parse({ mac: '02:00:00:00:00:01' }).mac?.address, '02:00:00:00:00:01');
  assert.equal(
    parse({ mac: '02:00:00:00:00:01', args: { cni: { mac: '02:00:00:00:00:02' } } }).mac?.address,
    '02:00:00:00:00:02',
  );
  const c = parse({ mac: '02:00:00:00:00:01', runtimeConfig: { mac: '02:00:00:00:00:03' } });
  assert.equal(c.mac?.address, '02:00:00:00:00:03');
  assert.equal(attachPlan(c, call, { kind: 'none' }).mac?.address, '02:00:00:00:00:03');
  const withArgs = cniCall('ADD', {
    CNI_CONTAINERID: 'abc123',
    CNI_NETNS: '/run/netns/c1',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'MAC=02:00:00:00:00:04',
  });
  assert.equal(attachPlan(c, withArgs, { kind: 'none' }).mac?.address, '02:00:00:00:00:04');
});

test("netplumb's own targets: a Linux bridge, a macvlan of a master", () => {
  assert.deepEqual(parse({ attach: 'bridge' }).target, { mode: 'bridge', bridge: 'br1' });
  const { bridge: _, ...noBridge } = base;
  const m = parseNetConf(
    Buffer.from(JSON.stringify({ ...noBridge, attach: 'macvlan', master: 'eth9', macvlan_mode: 'vepa' })),
  );
  assert.deepEqual(m.target, { mode: 'macvlan', master: 'eth9', macvlanMode: 'vepa' });
  assert.equal(cniError(() => parse({ attach: 'bridge', vlan: 3 })).details, 'vlan');
  assert.equal(cniError(() => parse({ attach: 'macvlan', master: 'eth9' })).details, 'bridge');
  assert.equal(cniError(() => parse({ attach: 'ipvlan' })).details, 'attach');
});

test('the plan the engine is given: parsed once, the daemon and the engine read it back unchanged', () => {
  const c = parse({ vlan: 100, mtu: 1400, ofport_request: 9 });
  const plan = attachPlan(c, call, { kind: 'none' });
  assert.deepEqual(plan.cni, { containerId: 'abc123', network: 'net1' });
  assert.equal(plan.guest.kind, 'path');
  assert.equal(plan.ifname, 'eth0');
  const spec = specOf(plan);
  const overTheWire = attachParams(JSON.parse(JSON.stringify(spec)));
  assert.deepEqual(parseAttachSpec(overTheWire), plan);
});

test('every wrong value is error 7 naming its key', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ vlan: 0 }, 'vlan'],
    [{ vlan: '100' }, 'vlan'],
    [{ trunk: [] }, 'trunk'],
    [{ trunk: [{ id: 4095 }] }, 'trunk[0].id'],
    [{ trunk: [{ minID: 9, maxID: 3 }] }, 'trunk[0]'],
    [{ trunk: [{ id: 3, minID: 1, maxID: 4 }] }, 'trunk[0]'],
    [{ mtu: 67 }, 'mtu'],
    [{ bridge: 'x'.repeat(16) }, 'bridge'],
    [{ socket_file: '' }, 'socket_file'],
    [{ socket_file: 'unix:relative' }, 'socket_file'],
    [{ interface_type: 'dpdk' }, 'interface_type'],
    [{ ofport_request: 0 }, 'ofport_request'],
    [{ ofport_request: 65280 }, 'ofport_request'],
    [{ mac: '01:00:00:00:00:01' }, 'mac'],
    [{ runtimeConfig: 'x' }, 'runtimeConfig'],
    [{ ipam: { subnet: '10.0.0.0/8' } }, 'ipam.type'],
    [{ ipam: { type: '../../bin/sh' } }, 'ipam.type'],
    [{ name: 'a b' }, 'name'],
    [{ type: 7 }, 'type'],
    [{ 'cni.dev/valid-attachments': [{ containerID: 'x' }] }, 'cni.dev/valid-attachments[0]'],
  ];
  for (const [extra, field] of cases) {
    const e = cniError(() => parse(extra));
    assert.equal(e.code, 7, `${JSON.stringify(extra)}: ${e.message}`);
    assert.equal(e.details, field, `${JSON.stringify(extra)}: ${e.message}`);
    assert.ok(e.message.includes(field), `the message names ${field}: ${e.message}`);
  }
});

test('an unsupported cniVersion is error 1; a configuration that is not JSON 6; errors speak its version', () => {
  for (const v of ['0.2.0', '2.0.0', undefined, 1]) assert.equal(cniError(() => parse({ cniVersion: v })).code, 1);
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) assert.equal(parse({ cniVersion: v }).cniVersion, v);
  assert.equal(cniError(() => parseNetConf(Buffer.from('{'))).code, 6);
  assert.equal(cniError(() => parseNetConf(Buffer.from('[]'))).code, 6);
  assert.equal(versionOfRaw(Buffer.from('{"cniVersion":"0.4.0"}')), '0.4.0');
  assert.equal(versionOfRaw(Buffer.from('nope')), '1.1.0');
});
