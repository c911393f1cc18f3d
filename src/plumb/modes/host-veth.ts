/**
 * The host-side modes' common part (OVS port, Linux bridge port): a veth whose host end
 * carries the attachment's record, stamped "attaching since T" until the attach's last step,
 * and whose guest end is made directly in the guest's namespace under its final name.
 * From the message that creates it until that last step, the host end is also in an
 * attaching link group (record.ts): the kernel takes no alias at creation, and a veth
 * left by an attach stopped before its record is still netplumb's, and half made.
 */
import type { Link } from '../../rtnl/index.js';
import { setTxChecksum } from '../../ethtool.js';
import { configureGuest } from '../guest-config.js';
import { ignoreMissing } from '../host-services.js';
import { aliasFor, attachingGroup, unrecordedSince, type AttachmentRecord } from '../record.js';
import type { Rollback } from '../rollback.js';
import type { Attaching, Found, Place } from './mode.js';
import { recordOnLink } from './stored-record.js';

/**
 * The veth, its host end made up (and, for a Linux bridge, enslaved) and marked by its
 * attaching group in the same message; then its record, stamped "attaching since" then.
 * Equivalent to: ip link add HOSTIF mtu M group ATTACHING [master BRIDGE] up type veth peer name IF netns G address MAC mtu M ;
 *                ip link set HOSTIF alias RECORD (see aliasFor, attachingGroup)
 */
export async function addVeth(a: Attaching, rb: Rollback, master?: string): Promise<void> {
  const r = a.record;
  const began = Date.now();
  const peer = { name: r.ifname, netnsFd: a.guest.netns.fd, mtu: r.mtu, ...(r.mac ? { mac: r.mac } : {}) };
  await rb.step(
    'veth',
    () =>
      a.host.rtnl.link.add({
        name: r.hostIfname,
        kind: 'veth',
        mtu: r.mtu,
        group: attachingGroup(began),
        up: true,
        ...(master !== undefined ? { master } : {}),
        peer,
      }),
    () => ({
      what: `veth "${r.hostIfname}" in the host namespace`,
      run: () => ignoreMissing(a.host.rtnl.link.del(r.hostIfname)),
    }),
  );
  await rb.step('veth record', () => a.host.rtnl.link.set(r.hostIfname, { alias: aliasFor(r, began) }));
}

/**
 * The guest end: up with the record, addresses, routes; read back for the announcement.
 * On the userspace datapath the guest fills in its own checksums: ovs-vswitchd forwards
 * frames as they are, and TCP between guests would fail (see src/ethtool.ts).
 */
export async function configureGuestEnd(a: Attaching, rb: Rollback): Promise<Link | undefined> {
  const r = a.record;
  if (a.target.datapathType === 'netdev') await setTxChecksum(a.guest.sockets, r.ifname, false);
  await configureGuest(a.guest.rtnl, r.ifname, a.addresses, rb, a.host.log, aliasFor(r));
  return a.addresses.addresses.length > 0 ? a.guest.rtnl.link.get(r.ifname).catch(() => undefined) : undefined;
}

/**
 * Whole: the host end's record loses its `since` stamp, and the link its attaching group, in one message.
 * Equivalent to: ip link set HOSTIF alias RECORD group default
 */
export async function completeOnHost(a: Attaching): Promise<void> {
  await a.host.rtnl.link.set(a.record.hostIfname, { alias: aliasFor(a.record), group: 0 });
}

/**
 * The attachment recorded on the host end of its veth, if that exists. A veth of that name
 * in an attaching group and with no record is this attach's, begun then and stopped before
 * its record: an unfinished attach, as one whose record still has its stamp.
 */
export async function findOnHost(wanted: AttachmentRecord, at: Place): Promise<Found | undefined> {
  const link = await at.host.rtnl.link.find(wanted.hostIfname);
  if (link === undefined) return undefined;
  const since = unrecordedSince(link, Date.now());
  return since !== undefined ? { record: wanted, attachingSince: since } : recordOnLink(link, wanted, 'hostIfname');
}

/** The host end goes, with concurrent detaches' in one bulk delete; its guest end goes with it. */
export async function removeHostEnd(r: AttachmentRecord, at: Place): Promise<void> {
  await at.host.deleteLink(r.hostIfname);
  await at.done(`host link ${r.hostIfname}`);
}
