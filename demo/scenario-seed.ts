/**
 * The seed's scenario 1: one host, four guests on OVS bridge ovs0, VLANs 100 and 200.
 *   pipework ovs0 con1 10.0.0.1/24 @100   …   pipework ovs0 con4 10.0.0.4/24 @200
 * (ovs0 is created by the first attach, datapath_type=netdev).
 */
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { seedGuests, vlanOf, type Bed, type Scenario } from './scenario.js';

export const BRIDGE = 'ovs0';

/** Hosts that are each a private Open vSwitch, as a bed. */
export function ovsBed(hosts: { name: string; ovs: OvsInstance }[]): Bed {
  return {
    hosts: hosts.map((h) => ({ name: h.name, ovsDb: h.ovs.remote, netns: h.ovs.netns })),
    dirs: () => hosts.map((h) => h.ovs.dir),
    netns: () => hosts.map((h) => h.ovs.netns),
    pids: () => hosts.flatMap((h) => h.ovs.alivePids()),
    leftovers: () => attachmentPorts(hosts),
    stop: async () => {
      const errors: unknown[] = [];
      for (const h of hosts) await h.ovs.stop().catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw new AggregateError(errors, 'stopping the hosts failed');
    },
  };
}

/** Ports of netplumb's attachments on a host. Equivalent to: ovs-vsctl find Port external_ids:netplumb.owner=netplumb */
export async function attachmentPorts(hosts: readonly { ovs: OvsInstance }[]): Promise<number> {
  let n = 0;
  for (const { ovs } of hosts)
    n += (await ovs.vsctl(['--bare', '--columns=name', 'find', 'Port', 'external_ids:netplumb.owner=netplumb']))
      .split('\n')
      .filter((p) => p !== '').length;
  return n;
}

const guests = seedGuests(['@100', '@100', '@200', '@200'], [0, 0, 0, 0]);

export const seed: Scenario = {
  name: 'seed',
  title: "the seed's scenario 1: four guests on one Open vSwitch bridge, VLANs 100 and 200",
  guests,
  segmentKind: 'VLAN',
  setupLabel: 'private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath)',

  async setup(tag) {
    // A stock configuration: netplumb itself makes TCP work over the userspace datapath
    // (it turns off TX checksum offload on each guest's veth).
    const ovs = await startOvs({ netnsName: `${tag}-host` });
    return ovsBed([{ name: 'host', ovs }]);
  },

  describeBed: (bed) => `ok, in namespace ${bed.netns().join(' ')}, pids ${bed.pids().join(' ')}`,

  spec: (i, guest) => ({
    host: BRIDGE,
    createBridge: true,
    guest,
    ip: { kind: 'static', address: `${guests[i]?.ip}/24` },
    vlan: vlanOf(guests[i] as (typeof guests)[number]),
  }),

  command: (i) => `pipework ${BRIDGE} ${guests[i]?.name} ${guests[i]?.ip}/24 ${guests[i]?.segment}`,

  throughput: [0, 1],
};
