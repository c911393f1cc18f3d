/**
 * OVN logical switch ports as a store of attachment objects: the ports of the northbound
 * database whose external_ids carry `netplumb.owner=netplumb` and this chassis
 * (`netplumb.chassis`), each with the attachment id, the guest id and the full record.
 * Ports are cluster-wide: a host lists, judges and removes only its own. Read from the
 * northbound monitor cache.
 */
import { ErrorCode, NetplumbError } from '../../errors.js';
import { CHASSIS_KEY, chassisMark, logicalPortName } from '../../ovn/marks.js';
import type { LogicalSwitchPortRow } from '../../ovsdb/nb-model.js';
import { northboundError, ovnServices, type Chassis } from '../../ovn/services.js';
import type { HostServices } from '../host-services.js';
import { decodeRecord, OWNER, portCreated, type AttachmentRecord } from '../record.js';
import type { PortView, RemoteStore } from './mode.js';

/** This host's chassis, or undefined when it is none (then it has no logical ports either). */
function chassisOf(host: HostServices): Promise<Chassis | undefined> {
  return ovnServices(host)
    .chassis()
    .catch(() => undefined);
}

function viewOf(p: LogicalSwitchPortRow): PortView {
  const record = decodeRecord(p.externalIds['netplumb.record']);
  const created = portCreated(p.externalIds);
  return {
    uuid: p.uuid,
    name: p.name,
    attachment: p.externalIds['netplumb.attachment'] ?? record?.id ?? `lsp:${p.name}`,
    ...(record ? { record } : {}),
    ...(created !== undefined ? { created } : {}),
  };
}

export const OVN_PORTS: RemoteStore = {
  what: 'OVN logical port',

  reachable: (host) => ovnServices(host).reachable(),

  /**
   * This chassis's logical ports; and those of a chassis the southbound database no longer
   * has (a host removed from the cluster), down, which any remaining host may collect.
   * Equivalent to: ovn-nbctl find Logical_Switch_Port external_ids:netplumb.owner=netplumb
   *   external_ids:netplumb.chassis=SYSTEM-ID ; ovn-sbctl list Chassis
   */
  async ours(host) {
    const svc = ovnServices(host);
    const chassis = await chassisOf(host);
    if (chassis === undefined) return [];
    const nb = await svc.northbound();
    const own = (await nb.findPortsByExternalIds(chassisMark(chassis.systemId))).map(viewOf);
    const alive = await svc.chassisNames();
    if (alive === undefined) return own;
    const orphans = (await nb.findPortsByExternalIds({ 'netplumb.owner': OWNER })).flatMap((p) => {
      const of = p.externalIds[CHASSIS_KEY];
      if (of === undefined || of === chassis.systemId || alive.has(of) || p.up === true) return [];
      return [{ ...viewOf(p), gone: `its chassis ${of} is no longer in the southbound database` }];
    });
    return [...own, ...orphans];
  },

  /** Equivalent to: ovn-nbctl find Logical_Switch_Port external_ids:netplumb.guest=GUEST external_ids:netplumb.chassis=… */
  async recordsOf(host, guestId) {
    const chassis = await chassisOf(host);
    if (chassis === undefined) return [];
    const nb = await ovnServices(host).northbound();
    const ports = await nb.findPortsByExternalIds({ 'netplumb.guest': guestId, ...chassisMark(chassis.systemId) });
    return ports.flatMap((p) => decodeRecord(p.externalIds['netplumb.record']) ?? []);
  },

  /** Equivalent to: ovn-nbctl --if-exists lsp-del PORT… (one transaction, naming the rows judged) */
  async removePorts(host, ports) {
    if (ports.length === 0) return;
    const svc = ovnServices(host);
    try {
      await (await svc.northbound()).delPortRows(ports.map((p) => p.uuid));
    } catch (e) {
      throw northboundError(e, svc.remote, 'removing logical ports');
    }
  },
};

/**
 * Remove this chassis's logical ports of attachment `id` (only the row `onlyUuid` when
 * given), batched with concurrent removals. Equivalent to: ovn-nbctl --if-exists lsp-del PORT
 */
export async function removeLogicalPortsOf(host: HostServices, id: string, onlyUuid?: string): Promise<void> {
  const svc = ovnServices(host);
  const chassis = await svc.chassis();
  try {
    const nb = await svc.northbound();
    const rows = await nb.findPortsByExternalIds({ 'netplumb.attachment': id, ...chassisMark(chassis.systemId) });
    await Promise.all(
      rows.filter((p) => onlyUuid === undefined || p.uuid === onlyUuid).map((p) => svc.lsps.del(p.uuid)),
    );
  } catch (e) {
    throw northboundError(e, svc.remote, `removing the logical port of attachment ${id}`);
  }
}

/** The attachment's logical port name is free or its own: one made by another tool is a CONFLICT. */
export async function ownLogicalPort(host: HostServices, wanted: AttachmentRecord): Promise<void> {
  const svc = ovnServices(host);
  const chassis = await svc.chassis();
  const name = logicalPortName(wanted.id, chassis.systemId);
  const row = await (await svc.connectedNorthbound()).getPort(name);
  if (row !== undefined && row.externalIds['netplumb.attachment'] !== wanted.id)
    throw new NetplumbError(
      ErrorCode.CONFLICT,
      `logical switch port ${name} exists in the OVN northbound database and was not made by netplumb for this attachment; it is left alone (remove it, or attach another interface name)`,
      { field: 'ifname', port: name },
    );
}
