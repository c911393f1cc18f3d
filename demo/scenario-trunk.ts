/**
 * The seed's scenario 2: two hosts h1 and h2 (each its own Open vSwitch), joined by a
 * cable (a veth, `eth1` at both ends) that netplumb makes a trunk port of each host's
 * ovs0 — no ovs-vsctl:
 *   h1, h2: netplumb uplink add --bridge ovs0 --nic eth1 --create-bridge
 *   h1: pipework ovs0 con1 10.0.0.1/24 @100 ; pipework ovs0 con2 10.0.0.2/24 @200
 *   h2: pipework ovs0 con3 10.0.0.3/24 @100 ; pipework ovs0 con4 10.0.0.4/24 @200
 * con1 ↔ con3 and con2 ↔ con4 reach each other across the trunk; no other pair does.
 */
import { connectHosts } from '../sandbox/cable.js';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { seedGuests, vlanOf, type Scenario } from './scenario.js';
import { BRIDGE, ovsBed } from './scenario-seed.js';

const NIC = 'eth1';
const guests = seedGuests(['@100', '@200', '@100', '@200'], [0, 0, 1, 1]);

export const trunk: Scenario = {
  name: 'trunk',
  title: "the seed's scenario 2: two hosts, VLANs 100 and 200 across a trunk between them",
  guests,
  segmentKind: 'VLAN',
  setupLabel: 'two hosts h1, h2 (a private Open vSwitch each), a cable eth1 ↔ eth1 between them',

  async setup(tag) {
    const hosts: { name: string; ovs: OvsInstance }[] = [];
    try {
      for (const name of ['h1', 'h2']) hosts.push({ name, ovs: await startOvs({ netnsName: `${tag}-${name}` }) });
      const [h1, h2] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
      await connectHosts({ netns: h1.ovs.netns, nic: NIC }, { netns: h2.ovs.netns, nic: NIC });
    } catch (e) {
      for (const h of hosts) await h.ovs.stop().catch(() => undefined);
      throw e;
    }
    return ovsBed(hosts);
  },

  describeBed: (bed) => `ok, namespaces ${bed.netns().join(' ')}, pids ${bed.pids().join(' ')}`,

  async prepare(plumbers, out) {
    await out.step(
      `trunk: netplumb uplink add --bridge ${BRIDGE} --nic ${NIC} --create-bridge, on h1 and h2`,
      async () => {
        for (const p of plumbers) await p.uplinks.add({ bridge: BRIDGE, nic: NIC, createBridge: true });
      },
    );
  },

  async unprepare(plumbers) {
    for (const p of plumbers) await p.uplinks.del({ nic: NIC });
  },

  spec: (i, guest) => ({
    host: BRIDGE,
    guest,
    ip: { kind: 'static', address: `${guests[i]?.ip}/24` },
    vlan: vlanOf(guests[i] as (typeof guests)[number]),
  }),

  command: (i) =>
    `h${(guests[i]?.host ?? 0) + 1}: pipework ${BRIDGE} ${guests[i]?.name} ${guests[i]?.ip}/24 ${guests[i]?.segment}`,

  throughput: [0, 2],
};
