/**
 * An Open vSwitch port: a veth whose host end is a port of an OVS bridge (an access port
 * with `tag`, or a trunk port), with netplumb's and pipework's external_ids on the Port and
 * Interface rows, applied by ovs-vswitchd before the attach returns (its ofport reported).
 */
import { settleAll } from '../host-services.js';
import { externalIdsFor } from '../record.js';
import type { Rollback } from '../rollback.js';
import { bridgeNotFound } from './host-errors.js';
import { addVeth, completeOnHost, configureGuestEnd, findOnHost, removeHostEnd } from './host-veth.js';
import type { Attaching, HostProbe, HostTarget, Mode } from './mode.js';
import { OVS_PORTS, recordOnPort, removeStalePorts } from './ovs-store.js';
import { inheritedMtu } from './settings.js';

/**
 * The OVS bridge named, if OVSDB has it; created when asked and absent from the kernel too.
 * Equivalent to: ovs-vsctl br-exists NAME || ovs-vsctl --may-exist add-br NAME -- set bridge NAME datapath_type=T
 */
async function bridgeTarget(p: HostProbe): Promise<HostTarget | undefined> {
  const vs = await p.host.vswitch();
  const bridge = await vs.getBridge(p.name);
  const mtu = p.link?.mtu ?? 1500;
  if (bridge !== undefined)
    return {
      mode: 'ovs',
      name: p.name,
      ...(p.link ? { link: p.link } : {}),
      mtu,
      created: false,
      datapathType: bridge.datapathType,
    };
  if (p.link !== undefined || !p.createBridge) return undefined;
  const datapathType = p.host.datapathType();
  await vs.addBridge(p.name, { mayExist: true, datapathType, wait: p.host.applyTimeoutMs });
  const created = await p.host.rtnl.link.find(p.name);
  return {
    mode: 'ovs',
    name: p.name,
    ...(created ? { link: created } : {}),
    mtu: created?.mtu ?? 1500,
    created: true,
    datapathType,
  };
}

/**
 * The port, in one transaction with those of concurrent attaches, and ovs-vswitchd's apply.
 * Equivalent to: ovs-vsctl add-port BRIDGE HOSTIF tag=VLAN -- set interface HOSTIF external_ids:…
 * (`interfaceIds`: more Interface external_ids, such as OVN's `iface-id`).
 */
export async function addPort(
  a: Attaching,
  rb: Rollback,
  interfaceIds: Record<string, string> = {},
): Promise<number | undefined> {
  const r = a.record;
  const ids = externalIdsFor(r, a.plan.metadata);
  // The undo goes first: a port committed but not applied by ovs-vswitchd (the wait fails
  // after the commit) must be removed too; one we did not write (a clash) is left alone.
  rb.push({ what: `OVS port "${r.hostIfname}" on ${r.host}`, run: () => a.host.ports.delOwned(r.hostIfname, r.id) });
  const added = await rb.step('ovs port', () =>
    a.host.ports.add(r.host, {
      name: r.hostIfname,
      ...(a.plan.vlan !== undefined ? { tag: a.plan.vlan } : {}),
      ...(a.plan.trunks !== undefined ? { trunks: [...a.plan.trunks], vlanMode: 'trunk' as const } : {}),
      ...(a.plan.ofportRequest !== undefined ? { ofportRequest: a.plan.ofportRequest } : {}),
      externalIds: ids.port,
      interfaceExternalIds: { ...ids.iface, ...interfaceIds },
    }),
  );
  return added.ofport;
}

export const ovs: Mode = {
  name: 'ovs',
  side: 'host',
  stores: [OVS_PORTS],

  /** An existing OVS bridge (its kernel side is a tap or openvswitch device, or absent), or a new `ovs*` one. */
  async detect(p) {
    if (p.link !== undefined && p.link.kind !== 'tun' && p.link.kind !== 'openvswitch') return undefined;
    if (p.link === undefined && !p.name.startsWith('ovs') && !p.createBridge) return undefined;
    return bridgeTarget(p);
  },

  async target(p) {
    const found = await bridgeTarget(p);
    if (found !== undefined) return found;
    throw bridgeNotFound(p.name, 'Open vSwitch bridge', (await p.host.vswitch()).remote);
  },

  settings: inheritedMtu,

  async apply(a, rb) {
    await addVeth(a, rb);
    let ofport: number | undefined;
    let guestLink: Awaited<ReturnType<typeof configureGuestEnd>>;
    // The guest end is configured while ovs-vswitchd applies the port.
    await settleAll([
      addPort(a, rb).then((p) => {
        ofport = p;
      }),
      configureGuestEnd(a, rb).then((l) => {
        guestLink = l;
      }),
    ]);
    return { ...(ofport !== undefined ? { ofport } : {}), ...(guestLink !== undefined ? { guestLink } : {}) };
  },

  complete: completeOnHost,

  /** Its veth's host end; without one, a port left by a dead container is removed so the name is free. */
  async find(wanted, at) {
    const found = await findOnHost(wanted, at);
    if (found === undefined) {
      await removeStalePorts(at.host, wanted.id);
      return undefined;
    }
    if (found.attachingSince !== undefined) return found;
    const full = await recordOnPort(at.host, wanted.id);
    return full !== undefined ? { record: full } : found;
  },

  /** Equivalent to: ovs-vsctl --if-exists del-port HOSTIF ; ip link del HOSTIF (each batched with concurrent detaches') */
  async remove(r, at) {
    await settleAll([
      at.host.ports.del(r.hostIfname).then(() => at.done(`ovs port ${r.hostIfname}`)),
      removeHostEnd(r, at),
    ]);
  },
};
