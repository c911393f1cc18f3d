/**
 * Which guest an attachment belongs to: the id it is recorded under (the container id, or
 * the namespace's), and whether a reference a user gives (a name, an id prefix, a
 * namespace) names it — for a detach or list of a guest that may be gone.
 */
import { parseGuestRef, type GuestRef } from '../guest/ref.js';
import type { Guest } from '../guest/resolve.js';
import { openNetns, type NetnsIdentity } from '../netns/index.js';
import { netnsCookieOf } from '../netns/sockets.js';
import type { AttachmentRecord } from './record.js';

/** What a match reads of a record (or of a declaration): the guest's id and name. */
type RecordedGuestOf = Pick<AttachmentRecord, 'guestId' | 'guestName'>;

/**
 * The guest id recorded for a namespace guest: `netns:cookie:N` (`netns:DEV:INO` in older
 * records). A detach may name a guest by it; it is never a valid namespace name.
 */
export const RECORDED_NETNS_ID = /^netns:(?:cookie:\d+|\d+:\d+)$/;

/**
 * The guest id recorded for a bare namespace: its cookie (`netns:cookie:N`), which the kernel
 * never gives to another namespace within a boot, so a stale detach of a namespace that was
 * replaced cannot reach its successor (faults.md E3); the inode (`netns:DEV:INO`), which the
 * kernel reuses quickly, only where the kernel has no cookie.
 */
function netnsGuestId(ns: NetnsIdentity, cookie: string): string {
  return cookie !== '' ? `netns:cookie:${cookie}` : `netns:${ns.dev}:${ns.ino}`;
}

/** The guest id an attachment is recorded under: the container id, else the namespace's. */
export function guestIdOf(guest: Guest, netnsCookie: string): string {
  return guest.containerId ?? netnsGuestId(guest.netns, netnsCookie);
}

/**
 * Which records belong to the guest the user named (container name/id/prefix, or a
 * namespace)? The namespace's id is read once, here, not once per record.
 */
export function guestMatcher(guest: GuestRef): (r: RecordedGuestOf) => boolean {
  const nsId = namespaceGuestId(guest);
  return nsId !== undefined ? (r) => r.guestId === nsId : (r) => matchesGuest(r, guest);
}

/** A detach request names the guest as the user knows it: container name, id or id prefix, or the namespace. */
function matchesGuest(r: RecordedGuestOf, ref: GuestRef): boolean {
  const word = typeof ref === 'string' ? ref : 'container' in ref ? ref.container : undefined;
  if (word === undefined) return false;
  return (
    r.guestName === word ||
    r.guestName === `/${word}` ||
    r.guestId === word ||
    (word.length >= 4 && r.guestId.startsWith(word))
  );
}

/** For a namespace reference (not a container), the guest id it was recorded under, if it still exists. */
function namespaceGuestId(ref: GuestRef): string | undefined {
  if (typeof ref === 'string' || 'container' in ref) return undefined;
  try {
    const parsed = parseGuestRef(ref);
    if (parsed.kind === 'container') return undefined;
    const ns = openNetns(parsed.selector);
    try {
      return netnsGuestId(ns, netnsCookieOf(ns));
    } finally {
      ns.close();
    }
  } catch {
    return '';
  }
}
