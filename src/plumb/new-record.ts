/**
 * The record of a new attach, put together from what the attach decided: its plan, its
 * guest, the host side its mode found and that mode's defaults (./record.ts: the record
 * itself, and where it is kept).
 */
import { cniSource } from './cni-owner.js';
import type { HostTarget, ModeSettings } from './modes/mode.js';
import type { AttachPlan } from './plan.js';
import { attachmentId, defaultHostIfname, type AttachmentRecord } from './record.js';

/** Where a new attachment's guest is, for its record. */
export interface RecordedGuest {
  guestId: string;
  guestName?: string;
  pid?: number;
}

/** The record of a new attach: the plan's settings, its guest, its host side and its mode's defaults. */
export function newRecord(
  plan: AttachPlan,
  ifname: string,
  guest: RecordedGuest,
  target: HostTarget,
  settings: ModeSettings,
): AttachmentRecord {
  const id = attachmentId({ guestId: guest.guestId, ifname });
  const ip = plan.ip;
  return {
    id,
    guestId: guest.guestId,
    ifname,
    mode: target.mode,
    host: target.name,
    hostIfname: plan.hostIfname ?? defaultHostIfname(id),
    ...(guest.guestName ? { guestName: guest.guestName } : {}),
    ...(guest.pid ? { pid: guest.pid } : {}),
    addresses: ip.kind === 'static' ? [ip.address.cidr] : [],
    ...(ip.kind === 'dhcp' ? { dhcp: `${ip.client}${ip.foreground ? '-f' : ''}` } : {}),
    ...(ip.kind === 'static' && ip.gateway !== undefined ? { gateway: ip.gateway.address } : {}),
    mac: plan.mac?.address ?? settings.macFor?.(id) ?? '',
    ...(plan.network !== undefined ? { network: plan.network } : {}),
    ...(plan.vlan !== undefined ? { vlan: plan.vlan } : {}),
    ...(plan.trunks !== undefined ? { trunks: [...plan.trunks] } : {}),
    ...(settings.macvlanMode !== undefined ? { macvlanMode: settings.macvlanMode } : {}),
    mtu: settings.mtu,
    ...(plan.cni !== undefined ? { source: cniSource(plan.cni.network) } : {}),
  };
}
