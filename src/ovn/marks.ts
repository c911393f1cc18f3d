/**
 * netplumb's marks in the northbound database. A logical switch port of an attachment
 * carries the attachment's record as its OVS port does (record.ts `externalIdsFor`), plus
 * the chassis it lives on: ports are cluster-wide, and each host judges (list, gc) only its
 * own. A network netplumb made carries `netplumb.owner` and its settings.
 */
import { attachmentId, OWNER } from '../plumb/record.js';

export const CHASSIS_KEY = 'netplumb.chassis';
export const NETWORK_KEY = 'netplumb.network';
/** A network's MTU for its attachments (not an OVN setting: OVN leaves MTUs to the CMS). */
export const MTU_KEY = 'netplumb.mtu';
/** The physical network and VLAN a network is bridged to. */
export const PHYSNET_KEY = 'netplumb.physnet';
export const VLAN_KEY = 'netplumb.vlan';

/** The external_ids that mark an attachment's logical port as this chassis's. */
export function chassisMark(systemId: string): Record<string, string> {
  return { 'netplumb.owner': OWNER, [CHASSIS_KEY]: systemId };
}

/**
 * An attachment's logical port: `np-<attachment id>-<6 characters of the chassis>`. The
 * attachment id alone could repeat on another host (a namespace's device and inode
 * numbers do), so the chassis is part of the name; the same attachment on the same host
 * always has the same one. It is also the OVS interface's `external_ids:iface-id`.
 */
export function logicalPortName(id: string, systemId: string): string {
  return `np-${id}-${attachmentId({ guestId: `chassis:${systemId}`, ifname: '' }).slice(0, 6)}`;
}

/** The localnet port that bridges a network to its physical network. */
export function localnetPortName(network: string): string {
  return `np-localnet-${network}`;
}
