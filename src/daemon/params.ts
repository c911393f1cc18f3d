/**
 * Structural validation of the params the daemon receives: JSON from another process is
 * untrusted, so each method's params are checked for shape (known keys, JSON types)
 * before the engine sees them; the engine then validates the values themselves (names,
 * VLAN ids, MACs, addresses …) exactly as it does for a library call. Pure: no I/O.
 */
import { invalidArgument } from '../errors.js';
import type { AttachSpec, GuestRef } from '../plumb/spec.js';
import type { DetachRequest } from '../plumb/plumber.js';
import type { GcOptions } from '../plumb/gc.js';
import type { EventsSince } from '../events/event.js';
import type { NetworkSpec } from '../ovn/networks.js';
import type { UplinkDelRequest } from '../plumb/uplink.js';
import type { UplinkSpec } from '../plumb/uplink-spec.js';

type Json = Record<string, unknown>;
/** Every guest form the engine resolves: a word (`con1`, `netns:blue`, `pid:42`, a path) or an object. */
export type Guest = GuestRef;

function object(field: string, v: unknown, allowed: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidArgument(field, `expected an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k))
      throw invalidArgument(field, `unknown key ${JSON.stringify(k.slice(0, 64))} (known: ${allowed.join(', ')})`);
  }
  return v as Json;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function str(field: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidArgument(field, `expected a string, got ${describe(v)}`);
  return v;
}

function num(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidArgument(field, `expected a number, got ${describe(v)}`);
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw invalidArgument(field, `expected true or false, got ${describe(v)}`);
  return v;
}

function optional<T>(o: Json, key: string, check: (field: string, v: unknown) => T): T | undefined {
  return o[key] === undefined ? undefined : check(key, o[key]);
}

/** A guest: a word, or one of { container } { netns } { name } { path } { pid, startTime? }. */
export function guestParam(field: string, v: unknown): Guest {
  if (typeof v === 'string') return v;
  const o = object(field, v, ['container', 'netns', 'name', 'path', 'pid', 'startTime']);
  const keys = Object.keys(o).filter((k) => k !== 'startTime');
  if (keys.length !== 1 || (o.startTime !== undefined && keys[0] !== 'pid'))
    throw invalidArgument(
      field,
      'a guest object has exactly one of container, netns, name, path, pid (startTime only with pid)',
    );
  if (o.pid !== undefined) {
    num(`${field}.pid`, o.pid);
    if (o.startTime !== undefined) num(`${field}.startTime`, o.startTime);
  } else str(`${field}.${keys[0] as string}`, o[keys[0] as string]);
  return o as unknown as Guest;
}

const IP_KEYS: Record<string, readonly string[]> = {
  static: ['kind', 'address', 'gateway'],
  none: ['kind'],
  dhcp: ['kind', 'client', 'foreground', 'options'],
};

function ipParam(field: string, v: unknown): AttachSpec['ip'] {
  const kind = str(
    `${field}.kind`,
    object(field, v, ['kind', 'address', 'gateway', 'client', 'foreground', 'options']).kind,
  );
  const keys = Object.hasOwn(IP_KEYS, kind) ? IP_KEYS[kind] : undefined;
  if (keys === undefined)
    throw invalidArgument(`${field}.kind`, `${JSON.stringify(kind.slice(0, 32))} is not one of static, none, dhcp`);
  const o = object(field, v, keys);
  if (kind === 'static') {
    return {
      kind: 'static',
      address: str(`${field}.address`, o.address),
      ...(o.gateway !== undefined ? { gateway: str(`${field}.gateway`, o.gateway) } : {}),
    };
  }
  if (kind === 'none') return { kind: 'none' };
  const client = str(`${field}.client`, o.client);
  if (client !== 'udhcpc' && client !== 'dhclient' && client !== 'dhcpcd')
    throw invalidArgument(`${field}.client`, 'expected udhcpc, dhclient or dhcpcd');
  const options = o.options === undefined ? [] : o.options;
  if (!Array.isArray(options))
    throw invalidArgument(`${field}.options`, `expected an array of strings, got ${describe(options)}`);
  return {
    kind: 'dhcp',
    client,
    foreground: bool(`${field}.foreground`, o.foreground),
    options: options.map((x, i) => str(`${field}.options[${i}]`, x)),
  };
}

const ATTACH_KEYS = [
  'host',
  'hostMac',
  'mode',
  'guest',
  'ifname',
  'hostIfname',
  'family',
  'ip',
  'mac',
  'network',
  'vlan',
  'trunks',
  'mtu',
  'ofportRequest',
  'macvlanMode',
  'createBridge',
  'force',
  'allowHostNetns',
  'waitUpMs',
  'persist',
  'metadata',
  'cni',
] as const;

export function attachParams(v: unknown): AttachSpec {
  const o = object('params', v, ATTACH_KEYS);
  const trunks = o.trunks;
  if (trunks !== undefined && !Array.isArray(trunks))
    throw invalidArgument('trunks', `expected an array of VLAN ids, got ${describe(trunks)}`);
  const metadata =
    o.metadata === undefined
      ? undefined
      : object(
          'metadata',
          o.metadata,
          typeof o.metadata === 'object' && o.metadata !== null ? Object.keys(o.metadata) : [],
        );
  if (metadata) for (const [k, val] of Object.entries(metadata)) str(`metadata.${k.slice(0, 64)}`, val);
  const family = optional(o, 'family', num);
  if (family !== undefined && family !== 4 && family !== 6) throw invalidArgument('family', 'expected 4 or 6');
  // The engine validates every value (names, ids, ranges); here only the JSON types.
  const spec: AttachSpec = {
    host: str('host', o.host),
    // A word is resolved by the engine like the object forms (as in a library call).
    guest: guestParam('guest', o.guest),
    ip: ipParam('ip', o.ip),
  };
  const s = spec as unknown as Json;
  for (const k of ['hostMac', 'mode', 'ifname', 'hostIfname', 'mac', 'network', 'macvlanMode'] as const)
    if (o[k] !== undefined) s[k] = str(k, o[k]);
  for (const k of ['vlan', 'mtu', 'ofportRequest', 'waitUpMs'] as const) if (o[k] !== undefined) s[k] = num(k, o[k]);
  for (const k of ['createBridge', 'force', 'allowHostNetns', 'persist'] as const)
    if (o[k] !== undefined) s[k] = bool(k, o[k]);
  if (family !== undefined) s.family = family;
  if (trunks !== undefined) s.trunks = trunks.map((t, i) => num(`trunks[${i}]`, t));
  if (metadata !== undefined) s.metadata = metadata;
  if (o.cni !== undefined) {
    const cni = object('cni', o.cni, ['containerId', 'network']);
    s.cni = { containerId: str('cni.containerId', cni.containerId), network: str('cni.network', cni.network) };
  }
  return spec;
}

export function detachParams(v: unknown): DetachRequest {
  const o = object('params', v, ['guest', 'ifname', 'cniContainerId']);
  return {
    guest: guestParam('guest', o.guest),
    ...(o.ifname !== undefined ? { ifname: str('ifname', o.ifname) } : {}),
    ...(o.cniContainerId !== undefined ? { cniContainerId: str('cniContainerId', o.cniContainerId) } : {}),
  };
}

export interface ListFilter {
  /** Only this guest's attachments (matched as `netplumb detach` matches them). */
  guest?: Guest;
}

export function listParams(v: unknown): ListFilter {
  if (v === undefined) return {};
  const o = object('params', v, ['guest']);
  return o.guest === undefined ? {} : { guest: guestParam('guest', o.guest) };
}

export function gcParams(v: unknown): GcOptions & { dryRun: boolean } {
  if (v === undefined) return { dryRun: false };
  const o = object('params', v, ['dryRun', 'graceSeconds']);
  const grace = optional(o, 'graceSeconds', num);
  if (grace !== undefined && grace < 0) throw invalidArgument('graceSeconds', 'expected a number of seconds ≥ 0');
  return {
    dryRun: o.dryRun === undefined ? false : bool('dryRun', o.dryRun),
    ...(grace !== undefined ? { graceSeconds: grace } : {}),
  };
}

function numbers(field: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw invalidArgument(field, `expected an array of numbers, got ${describe(v)}`);
  return v.map((x, i) => num(`${field}[${i}]`, x));
}

function strings(field: string, v: unknown): string[] {
  if (!Array.isArray(v)) throw invalidArgument(field, `expected an array of strings, got ${describe(v)}`);
  return v.map((x, i) => str(`${field}[${i}]`, x));
}

/** Copy the present keys of `o`, each checked by its type. */
function fields<T>(o: Json, types: Record<string, (field: string, v: unknown) => unknown>): T {
  const out: Json = {};
  for (const [k, check] of Object.entries(types)) if (o[k] !== undefined) out[k] = check(k, o[k]);
  return out as T;
}

/** `uplink.add`: an UplinkSpec (values checked by the engine). */
export function uplinkAddParams(v: unknown): UplinkSpec {
  const types = {
    bridge: str,
    nic: str,
    vlan: num,
    trunks: numbers,
    nativeVlan: num,
    createBridge: bool,
    physnet: str,
    force: bool,
  };
  const o = object('params', v, Object.keys(types));
  str('bridge', o.bridge);
  str('nic', o.nic);
  return fields<UplinkSpec>(o, types);
}

/** `uplink.del`: { nic, bridge? } */
export function uplinkDelParams(v: unknown): UplinkDelRequest {
  const o = object('params', v, ['nic', 'bridge']);
  str('nic', o.nic);
  return fields<UplinkDelRequest>(o, { nic: str, bridge: str });
}

/** `network.create`: a NetworkSpec (values checked by the engine). */
export function networkCreateParams(v: unknown): NetworkSpec {
  const types = { name: str, subnet: str, excludeIps: strings, vlan: num, physnet: str, mtu: num };
  const o = object('params', v, Object.keys(types));
  str('name', o.name);
  return fields<NetworkSpec>(o, types);
}

/** `network.delete`: { name, force? } */
export function networkDeleteParams(v: unknown): { name: string; force: boolean } {
  const o = object('params', v, ['name', 'force']);
  return { name: str('name', o.name), force: o.force === undefined ? false : bool('force', o.force) };
}

/** `events`, `events.follow`: { since? } — a sequence number (the events after it) or an ISO 8601 time (those at or after it). */
export function eventsParams(v: unknown): { since?: EventsSince } {
  if (v === undefined) return {};
  const o = object('params', v, ['since']);
  const since = o.since;
  if (since === undefined) return {};
  if (typeof since === 'number') {
    if (!Number.isSafeInteger(since) || since < 0) throw invalidArgument('since', 'expected a sequence number ≥ 0');
    return { since };
  }
  if (typeof since === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(since) && !Number.isNaN(Date.parse(since)))
    return { since };
  throw invalidArgument(
    'since',
    `expected a sequence number or an ISO 8601 time, got ${JSON.stringify(since)?.slice(0, 64)}`,
  );
}

export function noParams(v: unknown): void {
  if (v === undefined) return;
  if (Array.isArray(v) ? v.length > 0 : typeof v !== 'object' || v === null || Object.keys(v).length > 0)
    throw invalidArgument('params', 'this method takes no params');
}
