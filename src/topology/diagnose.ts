/**
 * What is wrong with one of netplumb's attachments, judged from its pieces as they are —
 * OVS port, host veth, guest, the guest's interface — against its record, with the reason
 * in words and the command that fixes it. Pure: no I/O.
 *
 * The checks follow gc's (src/plumb/gc.ts) for the pieces netplumb owns, and add what gc
 * does not judge: the guest (gone, stopped, restarted), the guest's interface, the VLAN
 * and addresses against the record, links set down.
 */
import type { InterfaceRow, PortRow } from '../ovsdb/index.js';
import type { AttachmentRecord } from '../plumb/record.js';
import type { Link } from '../rtnl/index.js';
import { attachCommand, detachCommand, reattachCommand, restoreVlanCommand, shellWord } from './fix.js';
import type { GuestFacts } from './guests.js';
import type { Issue } from './model.js';

export interface AttachmentPieces {
  record: AttachmentRecord;
  /** The record came whole from the OVS port (not only the veth's short alias). */
  complete: boolean;
  attachingSince?: string;
  bridgePresent: boolean;
  /** OVSDB could not be read: the OVS pieces are not judged. */
  ovsUnknown?: boolean;
  port?: PortRow;
  iface?: InterfaceRow;
  hostLink?: Link;
  guest: GuestFacts;
}

export function linkStateWord(l: Pick<Link, 'flags' | 'operstate'>): string {
  return l.flags.up ? l.operstate : 'admin-down';
}

function sameNumbers(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = [...(a ?? [])].sort((p, q) => p - q);
  const y = [...(b ?? [])].sort((p, q) => p - q);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function describeVlan(tag: number | undefined, trunks: readonly number[] | undefined): string {
  if (tag !== undefined) return `VLAN ${tag}`;
  if (trunks !== undefined && trunks.length > 0) return `trunks ${trunks.join(',')}`;
  return 'no VLAN (untagged)';
}

/** Every issue of one attachment, the ones that break it first. */
export function diagnose(p: AttachmentPieces): Issue[] {
  const g = p.guest;
  // For the fixes: a short record (from a veth's alias) completed with what the guest shows.
  const r: AttachmentRecord = {
    ...p.record,
    ...(p.record.guestName === undefined && g.kind === 'container' && g.name !== undefined
      ? { guestName: g.name }
      : {}),
    ...(!Array.isArray(p.record.addresses) && g.iface !== undefined ? { addresses: g.iface.addresses } : {}),
  };
  const who = `${g.name ?? r.guestName?.replace(/^\//, '') ?? r.guestId.slice(0, 12)} ${r.ifname}`;
  const where = `port ${r.hostIfname} on ${r.host} (${who})`;
  const ns = g.netnsName !== undefined ? { netnsName: g.netnsName } : {};
  const opts = { ...ns, complete: p.complete };
  const issues: Issue[] = [];
  const add = (i: Omit<Issue, 'where'>): void => {
    issues.push({ where, ...i });
  };
  const guestAlive = g.state === 'running' || g.state === 'restarted';
  const ovs = r.mode === 'ovs' && p.ovsUnknown !== true;

  if (p.attachingSince !== undefined) {
    add({
      code: 'unfinished',
      severity: 'broken',
      reason: `its attach began ${p.attachingSince} and has not finished: still under way, or killed`,
      fix: 'netplumb gc   (it removes what a killed attach left once the grace period is over; then attach again)',
    });
    return issues;
  }
  if (ovs && !p.bridgePresent) {
    add({
      code: 'bridge-gone',
      severity: 'broken',
      reason: `bridge ${r.host} is not in OVSDB: it was deleted (with its ports)`,
      fix:
        guestAlive && p.hostLink !== undefined
          ? reattachCommand(r, { ...opts, createBridge: true })
          : detachCommand(r, g.netnsName),
    });
    return issues;
  }
  if (ovs && p.port === undefined) {
    add({
      code: 'port-gone',
      severity: 'broken',
      reason: `the host veth ${r.hostIfname} has no OVS port on ${r.host}: the port was removed behind netplumb's back (ovs-vsctl del-port)`,
      fix: guestAlive ? reattachCommand(r, opts) : detachCommand(r, g.netnsName),
    });
    return issues;
  }
  if (p.hostLink === undefined && (ovs || r.mode !== 'ovs')) {
    if (g.state === 'gone')
      add({
        code: 'guest-gone',
        severity: 'broken',
        reason: `the guest is gone (${g.detail ?? 'removed'}); its veth went with its namespace, the port stayed`,
        fix: `${detachCommand(r, g.netnsName)}   (or netplumb gc)`,
      });
    else if (g.state === 'stopped')
      add({
        code: 'guest-stopped',
        severity: 'broken',
        reason: `the guest is not running (${g.detail ?? 'stopped'}); its veth went with its namespace`,
        fix: `${detachCommand(r, g.netnsName)}   (or start it, then: ${attachCommand(r, opts)})`,
      });
    else if (g.state === 'restarted')
      add({
        code: 'guest-restarted',
        severity: 'broken',
        reason: `the container was restarted (pid ${r.pid ?? '?'} → ${g.pid ?? '?'}): its new namespace has no ${r.ifname}, the old veth went with the old one`,
        fix: attachCommand(r, opts),
      });
    else
      add({
        code: 'veth-gone',
        severity: 'broken',
        reason: `the host veth ${r.hostIfname} is gone (deleted with ip link del?), and ${r.ifname} in the guest with it`,
        fix: attachCommand(r, opts),
      });
    return issues;
  }
  const error = p.iface?.error ?? (p.iface?.ofport === -1 ? 'ofport -1' : undefined);
  if (ovs && (p.iface === undefined || error !== undefined)) {
    add({
      code: 'interface-error',
      severity: 'broken',
      reason: `OVS cannot use interface ${r.hostIfname}: ${error ?? 'no Interface row'}`,
      fix: reattachCommand(r, opts),
    });
  }
  if (g.state === 'running' && g.iface === undefined) {
    add({
      code: 'guest-interface-gone',
      severity: 'broken',
      reason: `${r.ifname} is not in the guest's namespace any more (deleted or moved from inside the guest)`,
      fix: reattachCommand(r, opts),
    });
  }
  if (g.state === 'unknown')
    add({
      code: 'guest-unreadable',
      severity: 'notice',
      reason: `the guest could not be read: ${g.detail ?? 'unknown'}`,
      fix: 'check the container engine (--docker-host) and run as root',
    });
  if (ovs && p.port !== undefined && p.complete) {
    const trunksRecorded = r.trunks !== undefined && r.trunks.length > 0;
    const drift = trunksRecorded
      ? !sameNumbers(p.port.trunks, r.trunks) || p.port.tag !== undefined
      : p.port.tag !== r.vlan;
    if (drift)
      add({
        code: 'vlan-drift',
        severity: 'drift',
        reason: `OVS forwards it in ${describeVlan(p.port.tag, p.port.trunks)}, netplumb attached it to ${describeVlan(r.vlan, r.trunks)}: changed behind netplumb's back`,
        fix: restoreVlanCommand(p.port.name, r),
      });
  }
  const recorded = Array.isArray(r.addresses) ? r.addresses : [];
  if (p.complete && r.dhcp === undefined && g.iface !== undefined) {
    const missing = recorded.filter((a) => !g.iface?.addresses.includes(a));
    if (missing.length > 0)
      add({
        code: 'address-drift',
        severity: 'drift',
        reason: `${r.ifname} lacks ${missing.join(', ')} (recorded), it has ${g.iface.addresses.join(', ') || 'no address'}`,
        fix: reattachCommand(r, opts),
      });
  }
  if (p.hostLink !== undefined && !p.hostLink.flags.up)
    add({
      code: 'link-down',
      severity: 'drift',
      reason: `the host veth ${r.hostIfname} is set down`,
      fix: `ip link set ${shellWord(r.hostIfname)} up`,
    });
  if (g.iface !== undefined && !g.iface.link.flags.up)
    add({
      code: 'link-down',
      severity: 'drift',
      reason: `${r.ifname} is set down inside the guest`,
      fix:
        g.pid !== undefined
          ? `nsenter --net=/proc/${g.pid}/ns/net ip link set ${shellWord(g.iface.link.name)} up`
          : `ip -n ${shellWord(g.netnsName ?? '<netns>')} link set ${shellWord(g.iface.link.name)} up`,
    });
  return issues;
}
