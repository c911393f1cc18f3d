/**
 * RFC 7047 §5.1 notation as explicit types, with encoders from plain TypeScript values,
 * decoders back to plain values, and validation of the strings we write (faults A8/A9).
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';

export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];
export type Atom = string | number | boolean | Uuid | NamedUuid;
export type OvsSet = ['set', Atom[]];
export type OvsMap = ['map', [Atom, Atom][]];
/** Any column value: an atom (a set of one), a set or a map. */
export type Value = Atom | OvsSet | OvsMap;
/** A row as it travels on the wire: column name → value. */
export type Row = Record<string, Value>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------- encoders

export function uuid(u: string): Uuid {
  if (!UUID_RE.test(u)) throw invalidArgument('uuid', `"${u}" is not a UUID`);
  return ['uuid', u.toLowerCase()];
}

/** A reference to a row inserted earlier in the same transaction with `uuid-name`. */
export function namedUuid(name: string): NamedUuid {
  if (!ID_RE.test(name)) throw invalidArgument('uuid-name', `"${name}" must match ${ID_RE.source}`);
  return ['named-uuid', name];
}

export function set(atoms: Iterable<Atom>): OvsSet {
  return ['set', [...atoms]];
}

/** The empty set: how an optional column (`min: 0`) is cleared. */
export const EMPTY_SET: OvsSet = ['set', []];

/** A value for an optional column: the atom, or the empty set when undefined/null. */
export function optional(atom: Atom | undefined | null): Atom | OvsSet {
  return atom === undefined || atom === null ? EMPTY_SET : atom;
}

export function map(entries: Record<string, Atom> | ReadonlyMap<Atom, Atom>): OvsMap {
  const pairs = entries instanceof Map ? [...entries] : Object.entries(entries);
  return ['map', pairs as [Atom, Atom][]];
}

// ---------------------------------------------------------------- decoders

function protocol(what: string, v: unknown): NetplumbError {
  return new NetplumbError(
    ErrorCode.PROTOCOL,
    `OVSDB peer sent an invalid ${what}: ${JSON.stringify(v)?.slice(0, 100)}`,
  );
}

export function isUuid(v: unknown): v is Uuid {
  return Array.isArray(v) && v.length === 2 && v[0] === 'uuid' && typeof v[1] === 'string';
}

function isAtom(v: unknown): v is Atom {
  return (
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    isUuid(v) ||
    (Array.isArray(v) && v[0] === 'named-uuid')
  );
}

/** Plain form of an atom: UUIDs become their string. */
export type PlainAtom = string | number | boolean;

function plainAtom(a: unknown, what: string): PlainAtom {
  if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') return a;
  if (isUuid(a)) return a[1];
  throw protocol(what, a);
}

/** Decode a set (or a bare atom, which is a set of one) to an array of plain atoms. */
export function decodeSet(v: unknown): PlainAtom[] {
  if (Array.isArray(v) && v[0] === 'set') {
    if (v.length !== 2 || !Array.isArray(v[1])) throw protocol('set', v);
    return (v[1] as unknown[]).map((a) => plainAtom(a, 'set element'));
  }
  if (v === undefined) return [];
  return [plainAtom(v, 'atom')];
}

export function decodeStringSet(v: unknown): string[] {
  return decodeSet(v).map((a) => (typeof a === 'string' ? a : String(a)));
}

export function decodeIntegerSet(v: unknown): number[] {
  return decodeSet(v).map((a) => {
    if (typeof a !== 'number' || !Number.isInteger(a)) throw protocol('integer', a);
    return a;
  });
}

/** An optional column (a set of 0 or 1 element): the element or undefined. */
export function decodeOptional(v: unknown): PlainAtom | undefined {
  const s = decodeSet(v);
  if (s.length > 1) throw protocol('optional value', v);
  return s[0];
}

export function decodeOptionalInteger(v: unknown): number | undefined {
  const a = decodeOptional(v);
  if (a !== undefined && (typeof a !== 'number' || !Number.isInteger(a))) throw protocol('integer', a);
  return a;
}

export function decodeOptionalString(v: unknown): string | undefined {
  const a = decodeOptional(v);
  return a === undefined ? undefined : String(a);
}

/** Decode a map to a Map of plain atoms (a missing column is an empty map). */
export function decodeMap(v: unknown): Map<PlainAtom, PlainAtom> {
  if (v === undefined) return new Map();
  if (!Array.isArray(v) || v[0] !== 'map' || v.length !== 2 || !Array.isArray(v[1])) throw protocol('map', v);
  const out = new Map<PlainAtom, PlainAtom>();
  for (const pair of v[1] as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw protocol('map pair', pair);
    out.set(plainAtom(pair[0], 'map key'), plainAtom(pair[1], 'map value'));
  }
  return out;
}

/** Decode a string→string map (external_ids, options) to a plain record. */
export function decodeStringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, val] of decodeMap(v)) out[String(k)] = String(val);
  return out;
}

export function decodeUuid(v: unknown): string {
  if (!isUuid(v)) throw protocol('uuid', v);
  return v[1];
}

export function isValue(v: unknown): v is Value {
  if (isAtom(v)) return true;
  return Array.isArray(v) && v.length === 2 && (v[0] === 'set' || v[0] === 'map') && Array.isArray(v[1]);
}

// ---------------------------------------------------------------- validation (A8, A9)

export interface StringRules {
  /** Largest accepted UTF-8 length in bytes (default 1024). */
  maxBytes?: number;
  /** Whether "" is accepted (default false). */
  allowEmpty?: boolean;
}

/**
 * Reject strings OVSDB or a later reader would mangle: NUL and other control characters
 * (ovsdb-server drops the whole connection on `\u0000`, fault F7), lone surrogates
 * (not encodable as UTF-8), U+FFFD (the mark of invalid UTF-8 decoded from a Buffer),
 * and over-long values.
 */
export function validateString(field: string, s: unknown, rules: StringRules = {}): string {
  if (typeof s !== 'string') throw invalidArgument(field, `expected a string, got ${typeof s}`);
  const maxBytes = rules.maxBytes ?? 1024;
  if (s === '' && !rules.allowEmpty) throw invalidArgument(field, 'must not be empty');
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > maxBytes) throw invalidArgument(field, `is ${bytes} bytes, longer than ${maxBytes}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
      throw invalidArgument(
        field,
        `contains control character U+${c.toString(16).padStart(4, '0').toUpperCase()} at index ${i}`,
      );
    }
    if (c === 0xfffd) throw invalidArgument(field, `contains U+FFFD at index ${i} (invalid UTF-8 in the source?)`);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw invalidArgument(field, `contains a lone surrogate at index ${i}`);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw invalidArgument(field, `contains a lone surrogate at index ${i}`);
    }
  }
  return s;
}

/** external_ids / options keys: a conservative charset, no spaces, 1–64 characters. */
export const EXTERNAL_ID_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Keys other systems (OVN, libvirt, OpenStack) give meaning to, and netplumb's own prefix. */
export const RESERVED_EXTERNAL_ID_KEYS: readonly string[] = [
  'iface-id',
  'attached-mac',
  'iface-status',
  'vm-id',
  'vm-uuid',
];
export const NETPLUMB_KEY_PREFIX = 'netplumb.';

/** Validate a string→string map we are about to write (keys charset, values as validateString). */
export function validateStringMap(
  field: string,
  m: Record<string, string>,
  valueRules: StringRules = { allowEmpty: true },
): Record<string, string> {
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    throw invalidArgument(field, 'expected an object of strings');
  for (const [k, v] of Object.entries(m)) {
    if (!EXTERNAL_ID_KEY_RE.test(k))
      throw invalidArgument(`${field}.${JSON.stringify(k)}`, `key must match ${EXTERNAL_ID_KEY_RE.source}`);
    validateString(`${field}.${k}`, v, valueRules);
  }
  return m;
}

/**
 * Validate external_ids that come from user metadata: everything validateStringMap checks,
 * plus reserved keys (`iface-id`, `attached-mac`, `iface-status`, `vm-id`, `netplumb.*`) are refused.
 */
export function validateUserExternalIds(m: Record<string, string>, field = 'externalIds'): Record<string, string> {
  validateStringMap(field, m);
  for (const k of Object.keys(m)) {
    if (RESERVED_EXTERNAL_ID_KEYS.includes(k) || k.startsWith(NETPLUMB_KEY_PREFIX)) {
      throw invalidArgument(
        `${field}.${k}`,
        `key "${k}" is reserved (used by OVN/virtualisation or by netplumb itself)`,
      );
    }
  }
  return m;
}
