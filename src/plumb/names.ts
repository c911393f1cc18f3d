/**
 * Deterministic names for the host-side interfaces netplumb creates.
 *
 * pipework's names (`v<cif>pl<pid>`, `ph<pid><cif>`) overflow IFNAMSIZ (pipework#28, #58,
 * PR #205) and are keyed on a PID that gets reused. Ours are keyed on what identifies an
 * attachment — the container id and the interface name inside it — and always fit:
 *
 *     np + 10 base32 characters (50 bits of sha256(containerId NUL ifname)) + kind letter
 *     npk3v7q2m4xa9h  (13 bytes, [a-z2-7])
 *
 * The 10-character hash is the attachment id recorded in the link alias and OVS
 * external_ids (see record.ts), so every name leads back to its container; the same key
 * gives the same name on every run and host. 50 bits keep 10⁵ attachments on one host
 * collision-free with probability 1 − 4·10⁻⁶.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { IFNAME_MAX_BYTES, ifName, type VlanId } from '../validate.js';

/** What the generated name is for, and the letter that ends it. */
export const NAME_KIND_LETTER = {
  /** host end of a veth pair */
  veth: 'h',
  /** a macvlan child before it moves into the container */
  macvlan: 'm',
  /** a dummy interface before it moves into the container */
  dummy: 'd',
  /** an 802.1Q subinterface whose `<parent>.<vid>` name would not fit */
  vlan: 'v',
} as const;
export type NameKind = keyof typeof NAME_KIND_LETTER;

export const NAME_PREFIX = 'np';
export const NAME_HASH_CHARS = 10;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const GENERATED = new RegExp(
  `^${NAME_PREFIX}([a-z2-7]{${NAME_HASH_CHARS}})([${Object.values(NAME_KIND_LETTER).join('')}])$`,
);

/** Which attachment: the container's id (or a namespace identity) and its interface name. */
export interface NameKey {
  containerId: string;
  containerIfName: string;
}

function validKey(key: NameKey): NameKey {
  if (typeof key.containerId !== 'string' || key.containerId.length === 0)
    throw invalidArgument('containerId', 'is empty');
  if (key.containerId.includes('\0')) throw invalidArgument('containerId', 'contains NUL');
  return { containerId: key.containerId, containerIfName: ifName('containerIfName', key.containerIfName) };
}

/** The top `NAME_HASH_CHARS` × 5 bits of sha256(parts joined by NUL), in lowercase base32. */
function hash50(parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\0')).digest();
  const top = digest.readBigUInt64BE(0);
  let out = '';
  for (let i = 0; i < NAME_HASH_CHARS; i++) out += BASE32[Number((top >> BigInt(59 - 5 * i)) & 31n)];
  return out;
}

/** The attachment id: 10 base32 characters, the hash part of every generated name. */
export function attachmentHash(key: NameKey): string {
  const k = validKey(key);
  return hash50([k.containerId, k.containerIfName]);
}

function generated(hash: string, kind: NameKind): string {
  return `${NAME_PREFIX}${hash}${NAME_KIND_LETTER[kind]}`;
}

/** Host end of the veth pair of an attachment. */
export function vethHostName(key: NameKey): string {
  return generated(attachmentHash(key), 'veth');
}

/** The macvlan created on the host for an attachment (renamed once inside the container). */
export function macvlanName(key: NameKey): string {
  return generated(attachmentHash(key), 'macvlan');
}

/** The dummy interface created on the host for an attachment (renamed once inside the container). */
export function dummyName(key: NameKey): string {
  return generated(attachmentHash(key), 'dummy');
}

/**
 * The 802.1Q subinterface of `parent` for `vid`: pipework's `<parent>.<vid>` when it fits
 * in 15 bytes (so it is shared with pipework and `ip link` users), else a generated name
 * keyed on (parent, vid).
 */
export function vlanSubinterfaceName(parent: string, vid: VlanId): string {
  const classic = `${parent}.${vid}`;
  if (Buffer.byteLength(classic) <= IFNAME_MAX_BYTES) return classic;
  return generated(hash50(['vlan', parent, String(vid)]), 'vlan');
}

/** Recognise a name this module generated: its kind and hash, or undefined. */
export function parseGeneratedName(name: string): { kind: NameKind; hash: string } | undefined {
  const m = GENERATED.exec(name);
  if (m === null) return undefined;
  const kind = (Object.keys(NAME_KIND_LETTER) as NameKind[]).find((k) => NAME_KIND_LETTER[k] === m[2]);
  return kind === undefined ? undefined : { kind, hash: m[1] ?? '' };
}
