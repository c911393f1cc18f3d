/**
 * Real packets through a VLAN-tagged OVS bridge (userspace datapath): four client
 * namespaces, veth host ends attached by our client as access ports (tags 100, 100, 200,
 * 200). Same-VLAN pairs ping, cross-VLAN pairs do not. All traffic stays in namespaces
 * this test created; veths and addresses are made with `ip` (the tooling side).
 */
import assert from 'node:assert/strict';
import { describe, it } from '../helpers/privileged.js';
import { must, run } from '../../sandbox/exec.js';
import { useLeakCheck } from '../helpers/leak.js';
import { withOvs } from '../helpers/ovs.js';

useLeakCheck();

const TAGS = [100, 100, 200, 200];

async function pings(ns: string, ip: string, attempts: number): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if ((await run(['ip', 'netns', 'exec', ns, 'ping', '-c1', '-W1', ip])).code === 0) return true;
  }
  return false;
}

describe('VLAN isolation through an OVS bridge configured by our client', () => {
  it('same-VLAN pairs reach each other, cross-VLAN pairs do not', () =>
    withOvs(async (ovs, vs) => {
      const clients = TAGS.map((_, i) => `np-vc-${process.pid}-${i}`);
      try {
        await vs.addBridge('br-vlan', { datapathType: 'netdev', wait: true });
        for (const [i, ns] of clients.entries()) {
          await must(['ip', 'netns', 'add', ns]);
          await must([
            'ip',
            '-n',
            ovs.netns,
            'link',
            'add',
            `npv${i}`,
            'type',
            'veth',
            'peer',
            'name',
            'eth0',
            'netns',
            ns,
          ]);
          await must(['ip', '-n', ovs.netns, 'link', 'set', `npv${i}`, 'up']);
          await must(['ip', '-n', ns, 'addr', 'add', `10.0.0.${i + 1}/24`, 'dev', 'eth0']);
          await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
          await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
        }
        const r = await vs.addPorts(
          'br-vlan',
          TAGS.map((tag, i) => ({ name: `npv${i}`, tag, externalIds: { 'netplumb.test': 'vlan' } })),
          { wait: true },
        );
        assert.ok(
          r.ports.every((p) => typeof p.ofport === 'number' && p.ofport > 0),
          JSON.stringify(r.ports),
        );
        for (const [i, tag] of TAGS.entries())
          assert.equal((await ovs.vsctl(['get', 'Port', `npv${i}`, 'tag'])).trim(), String(tag));

        assert.ok(await pings(clients[0]!, '10.0.0.2', 5), 'VLAN 100: ns0 → ns1');
        assert.ok(await pings(clients[2]!, '10.0.0.4', 5), 'VLAN 200: ns2 → ns3');
        assert.ok(await pings(clients[1]!, '10.0.0.1', 2), 'VLAN 100: ns1 → ns0');
        for (const [from, to] of [
          [0, 2],
          [0, 3],
          [1, 2],
          [3, 1],
        ] as const) {
          assert.equal(
            await pings(clients[from]!, `10.0.0.${to + 1}`, 2),
            false,
            `cross-VLAN ns${from} → ns${to} must not reach`,
          );
        }
        // Live re-tag: moving ns2 into VLAN 100 connects it to ns0.
        await vs.setPortTag('npv2', 100, { wait: true });
        assert.ok(await pings(clients[0]!, '10.0.0.3', 5), 'after re-tag: ns0 → ns2');
      } finally {
        for (const ns of clients) await run(['ip', 'netns', 'del', ns]);
      }
    }));
});
