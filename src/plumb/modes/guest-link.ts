/**
 * The guest-side modes' common part (macvlan, dummy, a moved NIC): the attachment is the
 * guest's interface alone, which carries the record; nothing stays on the host.
 */
import type { DummyOptions, LinkAddOptions, MacvlanOptions, Rtnl } from '../../rtnl/index.js';
import { configureGuest } from '../guest-config.js';
import { ignoreMissing } from '../host-services.js';
import { aliasFor, type AttachmentRecord } from '../record.js';
import type { Rollback } from '../rollback.js';
import type { Attaching, Found, Place } from './mode.js';
import { recordOnLink } from './stored-record.js';

/** The kind-specific part of a link made straight into the guest (a macvlan names its parent). */
type GuestLinkKind = DummyOptions | (MacvlanOptions & { link: string });

/**
 * The guest interface, created directly in the guest's namespace under its final name.
 * Equivalent to: ip link add [link PARENT] name IF netns G address MAC mtu M type KIND …
 */
export async function createInGuest(a: Attaching, rb: Rollback, kind: GuestLinkKind): Promise<void> {
  const r = a.record;
  const options: LinkAddOptions = {
    name: r.ifname,
    netnsFd: a.guest.netns.fd,
    mtu: r.mtu,
    ...(r.mac ? { mac: r.mac } : {}),
    ...kind,
  };
  await rb.step(
    'guest link',
    () => a.host.rtnl.link.add(options),
    () => ({
      what: `${r.mode} "${r.ifname}" in ${a.guest.label}`,
      run: () => ignoreMissing(a.guest.rtnl.link.del(r.ifname)),
    }),
  );
}

/**
 * The guest interface's record (the kernel ignores an alias on creation: it is set where the
 * link now lives), its MTU and MAC when they are to change, then its addresses and routes.
 * Equivalent to: ip -n G link set IF alias RECORD [mtu M] [address MAC] ; then guest-config.ts
 */
export async function finishInGuest(
  a: Attaching,
  rb: Rollback,
  set: { mtu?: number; mac?: string } = {},
): Promise<void> {
  await a.guest.rtnl.link.set(a.record.ifname, { alias: aliasFor(a.record), ...set });
  await configureGuest(a.guest.rtnl, a.record.ifname, a.addresses, rb, a.host.log);
}

/** The attachment recorded on the guest's interface of that name, if there is one. */
export async function findInGuest(
  wanted: AttachmentRecord,
  at: Place & { readonly guest: Rtnl },
): Promise<Found | undefined> {
  const link = await at.guest.link.find(wanted.ifname);
  return link === undefined ? undefined : recordOnLink(link, wanted, 'ifname');
}

/** Equivalent to: ip -n G link del IF (nothing to do once the guest is gone: it went with it). */
export async function removeFromGuest(r: AttachmentRecord, at: Place): Promise<void> {
  if (at.guest !== undefined) await ignoreMissing(at.guest.link.del(r.ifname));
}
