/**
 * The seed's scenario on OVN, across three hosts: an OVN central and chassis h1, h2, h3
 * (each its own Open vSwitch and ovn-controller), Geneve tunnels over an underlay.
 *   netplumb network create vlan100 --subnet 10.0.0.0/24 --exclude-ips 10.0.0.1..10.0.0.99   (and vlan200)
 *   h1: netplumb attach --network vlan100 --container con1 --ip 10.0.0.1/24
 *   h2: netplumb attach --network vlan100 --container con2 --ip 10.0.0.2/24
 *   h1: netplumb attach --network vlan200 --container con3 --ip 10.0.0.3/24
 *   h3: netplumb attach --network vlan200 --container con4 --ip 10.0.0.4/24
 * con1 ↔ con2 and con3 ↔ con4 reach each other across hosts; no other pair does.
 */
import { startOvnBed } from '../sandbox/ovn-bed.js';
import { seedGuests, type Scenario } from './scenario.js';
import { attachmentPorts } from './scenario-seed.js';

const NETWORKS = ['vlan100', 'vlan200'];
const guests = seedGuests(['vlan100', 'vlan100', 'vlan200', 'vlan200'], [0, 1, 0, 2]);

export const ovn: Scenario = {
  name: 'ovn',
  title: "the seed's scenario on OVN: three hosts, networks vlan100 and vlan200 in one /24, Geneve between the hosts",
  guests,
  segmentKind: 'network',
  setupLabel: 'OVN central (northbound, southbound, ovn-northd) and chassis h1, h2, h3 (Open vSwitch, ovn-controller)',

  async setup(tag) {
    const bed = await startOvnBed({ tag, hosts: 3 });
    return {
      hosts: bed.hosts.map((h) => ({
        name: h.name,
        ovsDb: h.ovs.remote,
        netns: h.ovs.netns,
        ovnNb: bed.central.nbRemote,
      })),
      dirs: bed.dirs,
      netns: bed.netns,
      pids: bed.alivePids,
      /** Equivalent to: ovn-nbctl find Logical_Switch_Port external_ids:netplumb.owner=netplumb ; ovs-vsctl find Port … */
      leftovers: async () => {
        const lsps = (
          await bed.central.nbctl([
            '--bare',
            '--columns=name',
            'find',
            'Logical_Switch_Port',
            'external_ids:netplumb.owner=netplumb',
          ])
        )
          .split('\n')
          .filter((n) => n !== '' && !n.startsWith('np-localnet-'));
        return lsps.length + (await attachmentPorts(bed.hosts));
      },
      stop: bed.stop,
    };
  },

  describeBed: (bed) => `ok, namespaces ${bed.netns().join(' ')}, ${bed.pids().length} daemons`,

  async prepare(plumbers, out) {
    await out.step(
      `networks: netplumb network create ${NETWORKS.join(', ')} --subnet 10.0.0.0/24 --exclude-ips 10.0.0.1..10.0.0.99`,
      async () => {
        for (const name of NETWORKS)
          await plumbers[0]?.networks.create({ name, subnet: '10.0.0.0/24', excludeIps: ['10.0.0.1..10.0.0.99'] });
      },
    );
  },

  async unprepare(plumbers) {
    for (const name of NETWORKS) await plumbers[0]?.networks.delete(name);
  },

  spec: (i, guest) => ({
    host: 'br-int',
    network: guests[i]?.segment as string,
    guest,
    ip: { kind: 'static', address: `${guests[i]?.ip}/24` },
  }),

  command: (i) =>
    `h${(guests[i]?.host ?? 0) + 1}: netplumb attach --network ${guests[i]?.segment} --container ${guests[i]?.name} --ip ${guests[i]?.ip}/24`,

  throughput: [0, 1],
};
