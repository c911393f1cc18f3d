/**
 * OVS ports as a store of attachment objects: the ports whose external_ids carry
 * `netplumb.owner=netplumb`, each with the attachment id, the guest id and the full record
 * (record.ts `externalIdsFor`). Read from the OVSDB monitor cache.
 */
import type { HostServices } from '../host-services.js';
import { OWNER, decodeRecord, portCreated, type AttachmentRecord } from '../record.js';
import type { PortView, RemoteStore } from './mode.js';

export const OVS_PORTS: RemoteStore = {
  what: 'OVS port',

  reachable: (host) => host.vswitchReachable(),

  /** Equivalent to: ovs-vsctl find Port external_ids:netplumb.owner=netplumb ; ovs-vsctl list Interface NAME */
  async ours(host) {
    const vs = await host.vswitch();
    const views: PortView[] = [];
    for (const p of await vs.findPortsByExternalIds({ 'netplumb.owner': OWNER })) {
      const iface = await vs.getInterface(p.name);
      const record = decodeRecord(p.externalIds['netplumb.record']);
      const created = portCreated(p.externalIds);
      views.push({
        uuid: p.uuid,
        name: p.name,
        attachment: p.externalIds['netplumb.attachment'] ?? record?.id ?? `port:${p.name}`,
        ...(record ? { record } : {}),
        ...(created !== undefined ? { created } : {}),
        ...(iface?.ofport !== undefined ? { ofport: iface.ofport } : {}),
        ...(iface?.error !== undefined ? { error: iface.error } : {}),
        ...(iface === undefined ? { interfaceMissing: true } : {}),
      });
    }
    return views;
  },

  /** Equivalent to: ovs-vsctl find Port external_ids:netplumb.guest=GUEST */
  async recordsOf(host, guestId) {
    const ports = await (await host.vswitch()).findPortsByExternalIds({ 'netplumb.guest': guestId });
    return ports.flatMap((p) => decodeRecord(p.externalIds['netplumb.record']) ?? []);
  },

  /** Equivalent to: ovs-vsctl --if-exists del-port P… (one transaction, naming the rows judged) */
  async removePorts(host, ports) {
    if (ports.length > 0) await (await host.vswitch()).delPortRows(ports.map((p) => p.uuid));
  },
};

/** The full record of an attachment, as its OVS port keeps it (a link alias has only a digest). */
export async function recordOnPort(host: HostServices, id: string): Promise<AttachmentRecord | undefined> {
  const ports = await (await host.vswitch()).findPortsByExternalIds({ 'netplumb.attachment': id });
  return decodeRecord(ports[0]?.externalIds['netplumb.record']);
}

/**
 * Remove the ports an attachment left behind (its veth went with its container), so the name
 * can be reused: through the port queue, which waits until ovs-vswitchd has let go of them —
 * closing the old device restores its flags by name, and would set a new veth of the same
 * name down (or out of promiscuous mode) if that veth came first.
 */
export async function removeStalePorts(host: HostServices, id: string): Promise<void> {
  const stale = await (await host.vswitch()).findPortsByExternalIds({ 'netplumb.attachment': id });
  await Promise.all(stale.map((p) => host.ports.del(p.name)));
}
