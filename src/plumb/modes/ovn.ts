/**
 * A port of an OVN network: a logical switch port in the northbound database (addresses
 * and port security from the attachment's MAC and IP), and a veth whose host end is a port
 * of this chassis's integration bridge named for it (`external_ids:iface-id`), which
 * ovn-controller binds. Done means bound: `ovn-installed` on the interface and the logical
 * port `up`, within the apply timeout.
 *
 * Equivalent to:
 *   ip link add HOSTIF type veth peer name IF netns G address MAC mtu M
 *   ovn-nbctl lsp-add NETWORK PORT -- lsp-set-addresses PORT "MAC IP" -- lsp-set-port-security PORT "MAC IP"
 *   ovs-vsctl add-port br-int HOSTIF -- set Interface HOSTIF external_ids:iface-id=PORT
 *   ovs-vsctl wait-until Interface HOSTIF external_ids:ovn-installed=true
 * with the veth and the logical port made at once (two databases: two transactions, each
 * batched with concurrent attaches'). Between them a crash can leave a logical port without
 * an OVS port, or the reverse: the host veth carries the "attaching since" stamp until the
 * end, and gc removes both halves (the logical port carries this chassis and the
 * attachment's record, so gc finds it even without the veth).
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, NetplumbError, invalidArgument } from '../../errors.js';
import { waitAllocated, waitBound } from '../../ovn/binding.js';
import { portAddressing } from '../../ovn/ipam.js';
import { chassisMark, logicalPortName } from '../../ovn/marks.js';
import { findNetwork, networkMtu } from '../../ovn/networks.js';
import { ovnServices } from '../../ovn/services.js';
import type { AddedLogicalPort } from '../../ovsdb/nb.js';
import { ipPrefix } from '../../validate.js';
import { settleAll } from '../host-services.js';
import { stableMac } from '../mac.js';
import { externalIdsFor } from '../record.js';
import type { Rollback } from '../rollback.js';
import { addVeth, completeOnHost, configureGuestEnd, findOnHost, removeHostEnd } from './host-veth.js';
import type { Attaching, Mode } from './mode.js';
import { ownLogicalPort, OVN_PORTS, removeLogicalPortsOf } from './ovn-store.js';
import { addPort } from './ovs.js';
import { OVS_PORTS, recordOnPort, removeStalePorts } from './ovs-store.js';

function networkOf(r: { network?: string; id: string }): string {
  if (r.network === undefined)
    throw new NetplumbError(ErrorCode.INTERNAL, `attachment ${r.id} is of mode ovn but names no network`);
  return r.network;
}

/**
 * The logical port, in one northbound transaction with those of concurrent attaches.
 * Its undo is registered once its outcome is known or unknown, not when it surely failed:
 * with the northbound database down there is nothing to undo there.
 */
async function addLogicalPort(
  a: Attaching,
  rb: Rollback,
  port: { switchUuid: string; name: string; addresses: string[]; portSecurity: string[]; staticIp?: string },
): Promise<AddedLogicalPort> {
  const r = a.record;
  const svc = ovnServices(a.host);
  const chassis = await svc.chassis();
  const ids = externalIdsFor(r, a.plan.metadata);
  const undo = (uuid?: string) => ({
    what: `logical switch port ${port.name} in the OVN northbound database`,
    run: () => removeLogicalPortsOf(a.host, r.id, uuid),
  });
  try {
    return await rb.step(
      'ovn logical port',
      () =>
        svc.lsps.add({
          switchUuid: port.switchUuid,
          network: networkOf(r),
          port: {
            name: port.name,
            addresses: port.addresses,
            portSecurity: port.portSecurity,
            externalIds: { ...ids.port, ...chassisMark(chassis.systemId) },
          },
          ...(port.staticIp !== undefined ? { staticIp: port.staticIp } : {}),
        }),
      (added) => undo(added.uuid),
    );
  } catch (e) {
    if (e instanceof NetplumbError && e.code === ErrorCode.OUTCOME_UNKNOWN) rb.push(undo());
    throw e;
  }
}

export const ovn: Mode = {
  name: 'ovn',
  side: 'host',
  stores: [OVS_PORTS, OVN_PORTS],

  /** This chassis's integration bridge, and the network: both must exist (never detected: only asked for). */
  async target(p) {
    if (p.network === undefined) throw invalidArgument('network', 'mode ovn attaches to an OVN network: name it');
    const svc = ovnServices(p.host);
    const [chassis, nb] = await Promise.all([svc.chassis(), svc.connectedNorthbound()]);
    if (p.name !== chassis.integrationBridge)
      throw invalidArgument(
        'host',
        `"${p.name}" is not this chassis's integration bridge "${chassis.integrationBridge}" (Open_vSwitch external_ids:ovn-bridge): name it, or leave the bridge out`,
      );
    const vs = await p.host.vswitch();
    const bridge = await vs.getBridge(p.name);
    if (bridge === undefined)
      throw new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `integration bridge "${p.name}" does not exist in ${vs.remote} yet: ovn-controller makes it; is it running on this host?`,
        { field: 'host' },
      );
    const sw = await findNetwork(nb, p.network);
    return {
      mode: 'ovn',
      name: p.name,
      ...(p.link ? { link: p.link } : {}),
      mtu: await networkMtu(nb, sw),
      created: false,
      datapathType: bridge.datapathType,
    };
  },

  /** A network's VLAN is its own (a bridged network's localnet port); the MAC is known before the link. */
  settings(plan, target) {
    if (plan.vlan !== undefined || plan.trunks !== undefined)
      throw invalidArgument(
        plan.vlan !== undefined ? 'vlan' : 'trunks',
        'the VLAN of an OVN network is the network\'s own: bridge it with "netplumb network create NAME --vlan N --physnet P"',
      );
    return { mtu: plan.mtu ?? target.mtu, macFor: (id) => stableMac(`netplumb-ovn-${id}`) };
  },

  async apply(a, rb) {
    const r = a.record;
    const network = networkOf(r);
    const svc = ovnServices(a.host);
    const [nb, chassis, vs] = await Promise.all([svc.northbound(), svc.chassis(), a.host.vswitch()]);
    const sw = await findNetwork(nb, network);
    const name = logicalPortName(r.id, chassis.systemId);
    const addressing = portAddressing(r.mac, a.plan.ip, sw, network);
    // 1. The veth and the logical port at once.
    let port: AddedLogicalPort | undefined;
    await settleAll([
      addVeth(a, rb),
      addLogicalPort(a, rb, {
        switchUuid: sw.uuid,
        name,
        addresses: addressing.addresses,
        portSecurity: addressing.portSecurity,
        ...(addressing.staticIp !== undefined ? { staticIp: addressing.staticIp.address } : {}),
      }).then((p) => {
        port = p;
      }),
    ]);
    if (port === undefined) throw new NetplumbError(ErrorCode.INTERNAL, `logical port ${name} not reported added`);
    const lsp = port;
    // 2. No address given, a subnet: ovn-northd allocates one; port security then holds it.
    let attaching = a;
    const subnet = addressing.dynamicFrom;
    if (subnet !== undefined) {
      const ip = await waitAllocated(nb, lsp, network, a.host.applyTimeoutMs);
      await nb.setPortSecurity(lsp.uuid, [`${r.mac} ${ip}`]);
      attaching = { ...a, addresses: { addresses: [ipPrefix('ip', `${ip}/${subnet.prefixLen}`)] } };
    }
    // 3. The port on the integration bridge, named for ovn-controller, while the guest is configured.
    let ofport: number | undefined;
    let guestLink: Awaited<ReturnType<typeof configureGuestEnd>>;
    const t0 = performance.now();
    let portMs = 0;
    let guestMs = 0;
    await settleAll([
      addPort(attaching, rb, { 'iface-id': name, 'attached-mac': r.mac }).then((p) => {
        ofport = p;
        portMs = performance.now() - t0;
      }),
      configureGuestEnd(attaching, rb).then((l) => {
        guestLink = l;
        guestMs = performance.now() - t0;
      }),
    ]);
    // 4. Bound by ovn-controller, up in the northbound database.
    const boundMs = await waitBound(vs, nb, chassis, { hostIfname: r.hostIfname, port: lsp }, a.host.applyTimeoutMs);
    // Waited: for ovs-vswitchd's apply beyond the guest's configuration, then for the binding.
    const waitedMs = Math.max(0, portMs - guestMs) + boundMs;
    return {
      waitedMs,
      ...(ofport !== undefined ? { ofport } : {}),
      ...(guestLink !== undefined ? { guestLink } : {}),
    };
  },

  complete: completeOnHost,

  /**
   * Its veth's host end; without one, what a dead container left (its OVS port, its logical
   * port) is removed so the names are free. A logical port of that name made by another
   * tool is a CONFLICT, and left alone.
   */
  async find(wanted, at) {
    await ownLogicalPort(at.host, wanted);
    const found = await findOnHost(wanted, at);
    if (found === undefined) {
      await Promise.all([removeStalePorts(at.host, wanted.id), removeLogicalPortsOf(at.host, wanted.id)]);
      return undefined;
    }
    if (found.attachingSince !== undefined) return found;
    const full = await recordOnPort(at.host, wanted.id);
    return full !== undefined ? { record: full } : found;
  },

  /** Equivalent to: ovs-vsctl --if-exists del-port HOSTIF ; ip link del HOSTIF ; ovn-nbctl --if-exists lsp-del PORT */
  async remove(r, at) {
    await settleAll([
      at.host.ports.del(r.hostIfname).then(() => at.done(`ovs port ${r.hostIfname}`)),
      removeHostEnd(r, at),
      removeLogicalPortsOf(at.host, r.id).then(() => at.done(`ovn logical port of ${r.id}`)),
    ]);
  },
};
