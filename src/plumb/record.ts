/**
 * What netplumb records about an attachment, and where: OVS `external_ids` (ours and
 * pipework's keys) and the kernel link's alias. The record is what makes attach
 * idempotent and detach/list work after the container died.
 */
import { createHash } from 'node:crypto';
import type { AttachMode, MacvlanMode } from './spec.js';

export const OWNER = 'netplumb';
export const ALIAS_PREFIX = 'netplumb ';

/** The identity of an attachment: which guest, which interface inside it. */
export interface AttachmentKey {
  /** Container id, or `netns:<dev>:<ino>` for a bare namespace. */
  guestId: string;
  ifname: string;
}

/** The settings that make two attach requests "the same". */
export interface AttachmentRecord extends AttachmentKey {
  /** Short stable id derived from the key; also the tail of the host-side name. */
  id: string;
  mode: AttachMode;
  host: string;
  hostIfname: string;
  guestName?: string;
  pid?: number;
  addresses: string[];
  gateway?: string;
  /** DHCP client form (`udhcpc`, `udhcpc-f` …) when the address comes from DHCP. */
  dhcp?: string;
  mac: string;
  /** The OVN network (mode `ovn`). */
  network?: string;
  vlan?: number;
  trunks?: number[];
  /** macvlan: bridge, vepa, private or passthru. */
  macvlanMode?: MacvlanMode;
  mtu: number;
  /**
   * Who asked for it, when not a plain attach (a CNI runtime, a declaration applied again
   * after a restart…): kept with the record, not one of its settings.
   */
  source?: string;
  /** Digest of the settings, as read back from a link alias (which has no room for them all). */
  digest?: string;
}

/** 10 base32 characters (50 bits) of sha256 over the key: collision-free in practice. */
export function attachmentId(key: AttachmentKey): string {
  const digest = createHash('sha256').update(`${key.guestId}\0${key.ifname}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0n;
  for (const b of digest.subarray(0, 7)) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[Number((bits >> BigInt(51 - 5 * i)) & 31n)];
  return out;
}

/** Host-side interface name: `np` + the attachment id + `h`: 13 bytes, deterministic, traceable. */
export function defaultHostIfname(id: string): string {
  return `np${id}h`;
}

/** Digest of the fields compared for idempotency: the same digest ⇒ no-op, another ⇒ conflict. */
export function settingsDigest(r: AttachmentRecord): string {
  const settings = [
    r.mode,
    r.host,
    r.hostIfname,
    [...r.addresses].sort(),
    r.gateway ?? '',
    r.dhcp ?? '',
    r.mac,
    r.vlan ?? 0,
    r.trunks ?? [],
    r.macvlanMode ?? '',
    r.mtu,
    // Only when set: the digests of records without one stay what they were.
    ...(r.network !== undefined ? [r.network] : []),
  ];
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/** Does an existing attachment (full record, or a link alias carrying only a digest) have the wanted settings? */
export function sameSettings(existing: AttachmentRecord, wanted: AttachmentRecord): boolean {
  return (existing.digest ?? settingsDigest(existing)) === settingsDigest(wanted);
}

/** Compact form stored in OVS external_ids and the link alias. */
export function encodeRecord(r: AttachmentRecord): string {
  return JSON.stringify(r);
}

export function decodeRecord(text: string | undefined): AttachmentRecord | undefined {
  return decodeAlias(text)?.record;
}

/** A record read back from a link alias or external_ids, and whether its attach was still under way. */
export interface DecodedRecord {
  record: AttachmentRecord;
  /** Set while the attach that wrote it had not finished: when it began (ms since the epoch). */
  attachingSince?: number;
}

/** Decode a record; the `since` stamp of an unfinished attach is returned apart, not as part of the record. */
export function decodeAlias(text: string | undefined): DecodedRecord | undefined {
  if (text === undefined) return undefined;
  const body = text.startsWith(ALIAS_PREFIX) ? text.slice(ALIAS_PREFIX.length) : text;
  let v: Partial<AttachmentRecord> & { since?: unknown };
  try {
    v = JSON.parse(body) as Partial<AttachmentRecord> & { since?: unknown };
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if (
    typeof v.id !== 'string' ||
    typeof v.guestId !== 'string' ||
    typeof v.ifname !== 'string' ||
    typeof v.hostIfname !== 'string'
  )
    return undefined;
  const { since, ...record } = v;
  return typeof since === 'number' && Number.isFinite(since)
    ? { record: record as AttachmentRecord, attachingSince: since * 1000 }
    : { record: record as AttachmentRecord };
}

/**
 * The kernel alias (≤ 255 bytes): enough to find and clean up, and a digest of the settings.
 * `attachingSince` (ms) marks an attach under way: the alias is written with it right after
 * the host veth is created (in an attaching group, until then its only mark) and the
 * attach's last step rewrites it without, so an alias that still carries it after a crash
 * tells `gc` (and a re-run) that the attachment is half-done, and since when.
 * Stored in whole seconds: the longest alias (64-hex container id, 15-byte names) stays
 * within the kernel's 255 bytes. Records written before the stamp existed read as finished.
 */
export function aliasFor(r: AttachmentRecord, attachingSince?: number): string {
  const since = attachingSince === undefined ? {} : { since: Math.floor(attachingSince / 1000) };
  return `${ALIAS_PREFIX}${JSON.stringify({ id: r.id, guestId: r.guestId, ifname: r.ifname, hostIfname: r.hostIfname, mode: r.mode, host: r.host, digest: settingsDigest(r), ...since })}`.slice(
    0,
    255,
  );
}

/**
 * The mark a host veth carries from the very message that creates it: its link group.
 * The kernel applies IFLA_GROUP at creation, before it registers the device
 * (net/core/rtnetlink.c, rtnl_create_link), but IFLA_IFALIAS only when it changes an
 * existing link (do_setlink): the record in the alias needs a second message, and an attach
 * stopped (SIGKILL, OOM) between the two would leave a veth nothing marks as netplumb's.
 * So the veth is created in an "attaching" group, which also says when the attach began:
 * `first + (seconds since the epoch mod count)`. The attach's last step moves it back to
 * group 0 as it writes the finished record. A veth in one of these groups and with no
 * alias at all is an attach stopped before its record (see `unrecordedSince`).
 * 0x6e is "n"; src/rtnl/link.ts draws its bulk-delete groups from another range.
 * Equivalent to: ip link add HOSTIF group $((0x6e000000 + $(date +%s) % 0x1000000)) type veth …
 */
export const ATTACHING_GROUPS = { first: 0x6e00_0000, count: 0x100_0000 } as const;

/**
 * How far ahead of the clock a group's stamp may be and still read as "just begun" (the
 * clock was set back), as an alias stamp from the future does; any further ahead, it reads
 * as a stamp from the previous turn of the 2^24 s (194 days) the groups take to repeat.
 */
const AHEAD_OF_CLOCK_SECONDS = 86_400;

/** The attaching group of an attach begun at `since` (ms since the epoch). */
export function attachingGroup(since: number): number {
  return ATTACHING_GROUPS.first + (Math.floor(since / 1000) % ATTACHING_GROUPS.count);
}

/**
 * When the attach that put a link in `group` began (ms since the epoch, whole seconds), if
 * that is an attaching group: the latest such second not after `now` (a day of tolerance
 * for a clock set back). A stamp is read modulo 2^24 s: a veth left 194 days and more
 * without any gc run may read as younger than it is (and wait one grace period more).
 */
export function attachingSinceOfGroup(group: number, now: number): number | undefined {
  const { first, count } = ATTACHING_GROUPS;
  const stamp = group - first;
  if (!Number.isInteger(stamp) || stamp < 0 || stamp >= count) return undefined;
  const nowSeconds = Math.floor(now / 1000);
  let age = (((nowSeconds - stamp) % count) + count) % count;
  if (age > count - AHEAD_OF_CLOCK_SECONDS) age -= count;
  return (nowSeconds - age) * 1000;
}

/** What the attaching mark is read from: a link's kind, alias and group (as `ip -d link show` has them). */
export interface MarkedLink {
  kind?: string;
  alias?: string;
  group: number;
}

/**
 * A host veth made by an attach that was stopped before it wrote its record: a veth, in an
 * attaching group, with no alias at all. When that attach began (ms); undefined for any
 * other link (one with a record is read by its alias; another tool's carries no mark).
 */
export function unrecordedSince(link: MarkedLink, now: number): number | undefined {
  if (link.kind !== 'veth' || (link.alias !== undefined && link.alias !== '')) return undefined;
  return attachingSinceOfGroup(link.group, now);
}

/** OVS Port external_id: when the attach that wrote the port began (ISO 8601); absent on older ports. */
export const CREATED_KEY = 'netplumb.created';

/** The creation time of an OVS port we wrote (ms since the epoch), if it carries one. */
export function portCreated(externalIds: Readonly<Record<string, string>>): number | undefined {
  const text = externalIds[CREATED_KEY];
  const t = text === undefined ? NaN : Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

/** OVS external_ids for the Port and Interface rows: ours plus pipework's keys (PR #212). */
export function externalIdsFor(
  r: AttachmentRecord,
  metadata: Record<string, string> = {},
  created = Date.now(),
): { port: Record<string, string>; iface: Record<string, string> } {
  const port: Record<string, string> = {
    ...metadata,
    'netplumb.owner': OWNER,
    [CREATED_KEY]: new Date(created).toISOString(),
    'netplumb.attachment': r.id,
    'netplumb.guest': r.guestId,
    'netplumb.ifname': r.ifname,
    'netplumb.record': encodeRecord(r),
  };
  const iface: Record<string, string> = {
    'netplumb.attachment': r.id,
    'pipework.interface': r.ifname,
    'pipework.bridge': r.host,
    'pipework.containerid': r.guestId,
  };
  if (r.guestName !== undefined) iface['pipework.containername'] = r.guestName;
  if (r.pid !== undefined) iface['pipework.nspid'] = String(r.pid);
  if (r.vlan !== undefined) iface['pipework.vlan'] = String(r.vlan);
  return { port, iface };
}
