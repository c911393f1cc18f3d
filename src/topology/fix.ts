/**
 * The commands that repair an attachment, written from its record: what `show` prints
 * beside each inconsistency. Pure: no I/O.
 */
import type { AttachmentRecord } from '../plumb/record.js';

/** A word as a POSIX shell reads it back unchanged. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

function command(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}

/**
 * How the guest is named on a command line: the container's name, else its id; a bare
 * namespace by its /run/netns name when known (`netns:NAME`), else by its recorded id
 * (`netns:cookie:N`, which detach accepts; attach needs a live reference).
 */
export function guestWord(r: Pick<AttachmentRecord, 'guestId' | 'guestName'>, netnsName?: string): string {
  if (netnsName !== undefined) return `netns:${netnsName}`;
  if (r.guestName !== undefined && r.guestName !== '') return r.guestName.replace(/^\//, '');
  return r.guestId;
}

/** Equivalent to what removes the attachment: `netplumb detach --container G --ifname IF`. */
export function detachCommand(r: AttachmentRecord, netnsName?: string): string {
  return command(['netplumb', 'detach', '--container', guestWord(r, netnsName), '--ifname', r.ifname]);
}

/**
 * The attach that makes it again, from the record. A record read back from a veth's alias
 * alone (its OVS port is gone) lacks the VLAN and addresses: they are left as <VID> and
 * <ADDR/LEN> for the operator to fill in.
 */
export function attachCommand(
  r: AttachmentRecord,
  opts: { netnsName?: string; complete: boolean; createBridge?: boolean },
): string {
  const addresses = Array.isArray(r.addresses) ? r.addresses : [];
  const words = ['netplumb', 'attach', '--bridge', r.host];
  if (opts.createBridge === true) words.push('--create-bridge');
  if (r.mode !== 'ovs' && r.mode !== undefined) words.push('--mode', r.mode);
  words.push('--container', guestWord(r, opts.netnsName), '--ifname', r.ifname);
  if (r.dhcp !== undefined) words.push('--ip', r.dhcp);
  else if (addresses[0] !== undefined) words.push('--ip', addresses[0]);
  else if (!opts.complete) words.push('--ip', '<ADDR/LEN>');
  if (r.gateway !== undefined) words.push('--gateway', r.gateway);
  if (r.vlan !== undefined) words.push('--vlan', String(r.vlan));
  else if (r.trunks !== undefined && r.trunks.length > 0) words.push('--trunks', r.trunks.join(','));
  else if (!opts.complete && r.mode === 'ovs') words.push('--vlan', '<VID>');
  if (typeof r.mac === 'string' && r.mac !== '') words.push('--mac', r.mac);
  // Placeholders stay unquoted, so that they read as such.
  return command(words).replace(/'<(ADDR\/LEN|VID)>'/g, '<$1>');
}

/** Detach, then attach again: for an attachment whose pieces no longer fit together. */
export function reattachCommand(
  r: AttachmentRecord,
  opts: { netnsName?: string; complete: boolean; createBridge?: boolean },
): string {
  return `${detachCommand(r, opts.netnsName)} && ${attachCommand(r, opts)}`;
}

/** Equivalent to: ovs-vsctl set Port P tag=N (or trunks=…, or clear tag): the recorded VLAN back on the port. */
export function restoreVlanCommand(port: string, r: Pick<AttachmentRecord, 'vlan' | 'trunks'>): string {
  if (r.vlan !== undefined) return command(['ovs-vsctl', 'set', 'Port', port, `tag=${r.vlan}`]);
  if (r.trunks !== undefined && r.trunks.length > 0)
    return command([
      'ovs-vsctl',
      'clear',
      'Port',
      port,
      'tag',
      '--',
      'set',
      'Port',
      port,
      `trunks=${r.trunks.join(',')}`,
    ]);
  return command(['ovs-vsctl', 'clear', 'Port', port, 'tag']);
}
