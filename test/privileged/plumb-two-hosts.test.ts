/**
 * Seed scenario 2: two emulated hosts (a namespace each, each with its own ovsdb-server +
 * ovs-vswitchd), joined by a cable `eth1` that netplumb makes a trunk port of each host's
 * `ovs0` (`netplumb uplink add`, no ovs-vsctl). Guests of VLAN 100 and 200 on both hosts:
 * same-VLAN pairs reach each other across the trunk, nothing else does.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { Plumber } from '../../src/plumb/plumber.js';
import { connectHosts } from '../../sandbox/cable.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

let host1: OvsInstance;
let host2: OvsInstance;

before(async () => {
  host1 = await startOvs({ withVswitchd: true });
  host2 = await startOvs({ withVswitchd: true });
  await connectHosts({ netns: host1.netns, nic: 'eth1' }, { netns: host2.netns, nic: 'eth1' });
});
after(async () => {
  await host1?.stop();
  await host2?.stop();
});
useLeakCheck();

test('seed scenario 2: VLANs 100/200 across a trunk between two hosts', async () => {
  const p1 = Plumber.open({ ovsDb: host1.remote, hostNetns: { name: host1.netns } });
  const p2 = Plumber.open({ ovsDb: host2.remote, hostNetns: { name: host2.netns } });
  const con = await Promise.all([1, 2, 3, 4].map(() => TestNetns.create('con')));
  try {
    // The seed's `ovs-vsctl add-br ovs0; ovs-vsctl add-port ovs0 eth1`, on each host.
    for (const p of [p1, p2]) await p.uplinks.add({ bridge: 'ovs0', nic: 'eth1', createBridge: true });
    const [c1, c2, c3, c4] = con as [TestNetns, TestNetns, TestNetns, TestNetns];
    const plan: [Plumber, TestNetns, number, number][] = [
      [p1, c1, 1, 100],
      [p1, c2, 2, 200],
      [p2, c3, 3, 100],
      [p2, c4, 4, 200],
    ];
    for (const [p, c, n, vlan] of plan) {
      await p.attach({
        host: 'ovs0',
        guest: { netns: c.name },
        ip: { kind: 'static', address: `10.0.0.${n}/24` },
        vlan,
      });
    }
    // Oracle: each host's ovs-vsctl sees its own two tagged ports plus the trunk.
    for (const [h, tags] of [
      [host1, ['100', '200']],
      [host2, ['100', '200']],
    ] as const) {
      const ports = (await h.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
      assert.equal(ports.length, 3);
      const got = await Promise.all(
        ports.filter((x) => x !== 'eth1').map(async (x) => (await h.vsctl(['get', 'port', x, 'tag'])).trim()),
      );
      assert.deepEqual(got.sort(), [...tags]);
    }
    assert.equal(await c1.ping('10.0.0.3', 3), true, 'con1 → con3 across the trunk (VLAN 100)');
    assert.equal(await c2.ping('10.0.0.4', 3), true, 'con2 → con4 across the trunk (VLAN 200)');
    for (const [a, b] of [
      [c1, '10.0.0.2'],
      [c1, '10.0.0.4'],
      [c2, '10.0.0.3'],
      [c3, '10.0.0.4'],
    ] as const) {
      assert.equal(await a.ping(b), false, `${a.name} ↛ ${b}`);
    }
    for (const [p, c] of plan) await p.detach({ guest: { netns: c.name } });
    assert.deepEqual((await host1.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean), ['eth1']);
    for (const p of [p1, p2]) await p.uplinks.del({ nic: 'eth1' });
    for (const h of [host1, host2]) assert.equal((await h.vsctl(['list-ports', 'ovs0'])).trim(), '');
  } finally {
    for (const c of con) await c.destroy();
    await p1.close();
    await p2.close();
  }
});
