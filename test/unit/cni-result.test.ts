/**
 * netplumb-cni's results and errors: an IPAM plugin's result read (and what the engine
 * configures of it), the ADD's result in each version, a previous result read for CHECK,
 * netplumb's errors as CNI codes, the IPAM plugin's spawn options (the caller's uid and gid
 * when the daemon runs it), and VERSION's answer.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cniErrorOf, errorJson, CniError } from '../../src/cni/errors.js';
import { spawnOptions } from '../../src/cni/ipam.js';
import { ipamPlan, parseIpamResult } from '../../src/cni/ipam-result.js';
import { addResult, prevResultFor } from '../../src/cni/result.js';
import { versionJson } from '../../src/cni/version.js';
import { ErrorCode, NetplumbError } from '../../src/errors.js';

const hostLocal = {
  cniVersion: '1.0.0',
  ips: [{ address: '10.77.0.2/24', gateway: '10.77.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: { nameservers: ['10.77.0.1'] },
};

function ipPlan(r: ReturnType<typeof ipam> | undefined) {
  return ipamPlan(r).ip;
}

function ipam(o: unknown) {
  return parseIpamResult('host-local', Buffer.from(JSON.stringify(o)));
}

test("an IPAM result: the address, and the default route's gateway, for the engine", () => {
  const r = ipam(hostLocal);
  const plan = ipPlan(r);
  assert.equal(plan.kind, 'static');
  assert.equal(plan.kind === 'static' && plan.address.cidr, '10.77.0.2/24');
  assert.equal(plan.kind === 'static' && plan.gateway?.address, '10.77.0.1');
  const routeGw = ipPlan(ipam({ ...hostLocal, routes: [{ dst: '0.0.0.0/0', gw: '10.77.0.254' }] }));
  assert.equal(routeGw.kind === 'static' && routeGw.gateway?.address, '10.77.0.254');
  const noRoute = ipPlan(ipam({ ...hostLocal, routes: [] }));
  assert.equal(noRoute.kind === 'static' && noRoute.gateway, undefined, 'no default route: no gateway');
  assert.deepEqual(ipPlan(undefined), { kind: 'none' });
  assert.deepEqual(ipPlan(ipam({ ips: [] })), { kind: 'none' });
});

test('the rest of an IPAM result, added after the attach: other addresses, other routes with their gateway', () => {
  const dual = {
    ...hostLocal,
    ips: [...hostLocal.ips, { address: '2001:db8::2/64', gateway: '2001:db8::1' }],
    routes: [
      { dst: '0.0.0.0/0' },
      { dst: '::/0' },
      { dst: '192.168.0.0/16', gw: '10.77.0.254' },
      { dst: '172.16.0.0/12' },
    ],
  };
  const { ip, more } = ipamPlan(ipam(dual));
  assert.equal(ip.kind === 'static' && ip.gateway?.address, '10.77.0.1');
  assert.deepEqual(
    more.addresses.map((a) => a.cidr),
    ['2001:db8::2/64'],
  );
  assert.deepEqual(
    more.routes.map((r) => [r.dst.cidr, r.via?.address]),
    [
      ['::/0', '2001:db8::1'],
      ['192.168.0.0/16', '10.77.0.254'],
      ['172.16.0.0/12', '10.77.0.1'],
    ],
  );
  assert.deepEqual(ipamPlan(ipam(hostLocal)).more, { addresses: [], routes: [] });
});

test('an IPAM result that is not one is error 6', () => {
  for (const bad of ['nope', '{"ips":{}}', '{"ips":[{"address":"10.0.0.1"}]}', '{"routes":[{"dst":"x"}]}'])
    assert.throws(
      () => parseIpamResult('host-local', Buffer.from(bad)),
      (e: CniError) => e.code === 6 && /host-local/.test(e.message),
    );
});

test("the ADD's result: host veth and container interface (sandbox, mac), the address on the container's", () => {
  const made = {
    host: { name: 'npabcdefghijh', mac: '0a:00:00:00:00:01' },
    container: { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/c1', mtu: 1500 },
  };
  assert.deepEqual(addResult('1.0.0', made, ipam(hostLocal)), {
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'npabcdefghijh', mac: '0a:00:00:00:00:01' },
      { name: 'eth0', mac: '02:00:00:00:00:02', mtu: 1500, sandbox: '/run/netns/c1' },
    ],
    ips: [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.77.0.1'] },
  });
  const old = addResult('0.4.0', { container: made.container }, ipam(hostLocal));
  assert.deepEqual(old.ips, [{ version: '4', address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 0 }]);
  assert.equal(old.interfaces.length, 1, 'a macvlan: the container interface only');
});

test('a previous result read for CHECK: the sandbox interface of that name, its MAC and addresses', () => {
  const prev = addResult(
    '1.0.0',
    {
      host: { name: 'nph' },
      container: { name: 'eth0', mac: '02:00:00:00:00:AA', sandbox: '/run/netns/c1' },
    },
    ipam(hostLocal),
  );
  assert.deepEqual(prevResultFor(prev, 'eth0'), { mac: '02:00:00:00:00:aa', addresses: ['10.77.0.2/24'] });
  assert.equal(prevResultFor(prev, 'eth1'), undefined);
  assert.equal(prevResultFor(prev, 'nph'), undefined, 'the host end is not in a sandbox');
  assert.equal(prevResultFor('x', 'eth0'), undefined);
});

test("netplumb's errors as CNI codes; the error's JSON", () => {
  const code = (c: ErrorCode) => cniErrorOf(new NetplumbError(c, 'm', { field: 'f' }));
  assert.deepEqual([code(ErrorCode.INVALID_ARGUMENT).code, code(ErrorCode.INVALID_ARGUMENT).details], [7, 'f']);
  assert.equal(code(ErrorCode.NAMESPACE_GONE).code, 3);
  assert.equal(code(ErrorCode.UNAVAILABLE).code, 11);
  assert.equal(code(ErrorCode.OUTCOME_UNKNOWN).code, 11);
  assert.equal(code(ErrorCode.ALREADY_EXISTS).code, 108);
  assert.equal(code(ErrorCode.CONFLICT).code, 109);
  assert.equal(cniErrorOf(new Error('boom')).code, 170);
  assert.deepEqual(JSON.parse(errorJson('1.0.0', new CniError(7, 'vlan: bad', 'vlan'))), {
    cniVersion: '1.0.0',
    code: 7,
    msg: 'vlan: bad',
    details: 'vlan',
  });
});

test("the IPAM plugin's spawn options: the call's variables, CNI_COMMAND, a PATH; the caller's uid and gid when given", () => {
  const call = {
    type: 'host-local',
    path: ['/x'],
    env: { CNI_CONTAINERID: 'c1', CNI_COMMAND: 'ADD' },
    config: Buffer.alloc(0),
  };
  const own = spawnOptions(call, 'DEL');
  assert.equal(own.env.CNI_COMMAND, 'DEL');
  assert.equal(own.env.CNI_CONTAINERID, 'c1');
  assert.match(own.env.PATH ?? '', /\/usr\/bin/);
  assert.equal(own.uid, undefined, 'in its own process: as that process');
  assert.equal(own.gid, undefined);
  const relayed = spawnOptions({ ...call, as: { uid: 1234, gid: 567 } }, 'ADD');
  assert.equal(relayed.uid, 1234);
  assert.equal(relayed.gid, 567);
});

test('VERSION', () => {
  assert.deepEqual(JSON.parse(versionJson()), {
    cniVersion: '1.1.0',
    supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
});
