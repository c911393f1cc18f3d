/**
 * The network configuration on stdin, parsed once into what the engine takes. It reads
 * ovs-cni's keys, so that a configuration written for ovs-cni works by changing only its
 * `type`:
 *
 *   bridge          the OVS bridge (or, with `attach`, the Linux bridge)
 *   vlan            access VLAN (the port's tag)
 *   trunk           [{"id": N}, {"minID": A, "maxID": B}] (a trunk port)
 *   mtu             the interfaces' MTU
 *   socket_file     the OVSDB remote (`unix:/path`, `tcp:HOST:PORT`, or a socket path)
 *   interface_type  the OVS interface type: only "" / "system" (the port is a veth)
 *   ofport_request  the OpenFlow port number asked for
 *
 * netplumb's own: `attach` ("ovs", the default; "bridge": a Linux bridge port; "macvlan":
 * a macvlan of `master`, `macvlan_mode` bridge, vepa, private or passthru); `mac`. From the
 * runtime: `runtimeConfig.mac`, `args.cni.mac`, `prevResult` (CHECK), `ipam` (delegated),
 * `cni.dev/valid-attachments` (GC). Other keys are left alone, as the spec wants.
 * A wrong value is code 7 naming its key; an unsupported cniVersion code 1.
 */
import { NetplumbError } from '../errors.js';
import { parseRemote } from '../ovsdb/remote.js';
import { networkName, parseTrunks, type MacPlan, type NetworkName } from '../plumb/plan.js';
import { OFPORT_MAX } from '../plumb/parse-spec.js';
import { MACVLAN_MODES, type MacvlanMode } from '../plumb/spec.js';
import {
  ifName,
  integer,
  macAddress,
  mtu as validMtu,
  vlanId,
  type IfName,
  type Mtu,
  type VlanId,
} from '../validate.js';
import { CniCode, CniError, invalidConfig } from './errors.js';
import { cniVersion, LATEST_VERSION, type CniVersion } from './version.js';

/** Where the attachment goes. */
export type CniTarget =
  | {
      mode: 'ovs';
      bridge: IfName;
      vlan?: VlanId;
      trunks?: readonly VlanId[];
      ofportRequest?: number;
    }
  | { mode: 'bridge'; bridge: IfName }
  | { mode: 'macvlan'; master: IfName; macvlanMode?: MacvlanMode };

export const ATTACH_TARGETS = ['ovs', 'bridge', 'macvlan'] as const;

/** A GC's list of attachments still in use. */
export interface ValidAttachment {
  containerId: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  name: NetworkName;
  /** The plugin's name (`type`), for messages. */
  type: string;
  target: CniTarget;
  mtu?: Mtu;
  /** The MAC asked for by the runtime (`runtimeConfig.mac`, `args.cni.mac`) or the configuration (`mac`). */
  mac?: MacPlan;
  /** The OVSDB remote (`socket_file`), as a remote. */
  ovsdb?: string;
  /** The IPAM plugin's name (`ipam.type`), when addresses are delegated. */
  ipamType?: string;
  /** The previous result (CHECK, DEL), as sent. */
  prevResult?: unknown;
  /** GC: the attachments still in use. */
  validAttachments?: ValidAttachment[];
  /** The configuration as sent, for the IPAM plugin. */
  raw: Buffer;
}

type Json = Record<string, unknown>;

/** The configuration's `cniVersion`, read before anything else (an error is given in it); LATEST_VERSION if unreadable. */
export function versionOfRaw(raw: Buffer): string {
  try {
    const v = (JSON.parse(raw.toString()) as Json | null)?.cniVersion;
    return typeof v === 'string' ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

/** Parse the configuration; CniError 7 naming the key (6 when it is not JSON, 1 for its version). */
export function parseNetConf(raw: Buffer): NetConf {
  let o: unknown;
  try {
    o = JSON.parse(raw.toString());
  } catch (e) {
    throw new CniError(CniCode.DECODE_FAILURE, `the network configuration is not JSON: ${(e as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new CniError(CniCode.DECODE_FAILURE, 'the network configuration is not a JSON object');
  const c = o as Json;
  const version = cniVersion(c.cniVersion);
  return asConfig(() => {
    const name = networkName('name', c.name);
    const type = str(c, 'type');
    if (type === undefined) throw invalidConfig('type', 'missing');
    const conf: NetConf = { cniVersion: version, name, type, target: target(c), raw };
    if (c.mtu !== undefined) conf.mtu = validMtu('mtu', jsonNumber('mtu', c.mtu));
    const mac = macOf(c);
    if (mac !== undefined) conf.mac = mac;
    if (c.socket_file !== undefined) conf.ovsdb = ovsdbRemote(c.socket_file);
    const ipam = c.ipam;
    if (ipam !== undefined && !(typeof ipam === 'object' && ipam !== null && Object.keys(ipam).length === 0)) {
      const ipamType = str(objectAt(c, 'ipam'), 'type', 'ipam.type');
      if (ipamType === undefined) throw invalidConfig('ipam.type', 'missing: the IPAM plugin to run');
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(ipamType))
        throw invalidConfig('ipam.type', `${JSON.stringify(ipamType)} is not a plugin name`);
      conf.ipamType = ipamType;
    }
    if (c.prevResult !== undefined) conf.prevResult = c.prevResult;
    if (c['cni.dev/valid-attachments'] !== undefined) conf.validAttachments = validAttachments(c);
    return conf;
  });
}

/** ovs-cni's keys, or netplumb's `attach` for a Linux bridge or a macvlan. */
function target(c: Json): CniTarget {
  const attach = c.attach ?? 'ovs';
  const mode = ATTACH_TARGETS.find((t) => t === attach);
  if (mode === undefined)
    throw invalidConfig('attach', `${JSON.stringify(attach)} is not one of ${ATTACH_TARGETS.join(', ')}`);
  if (mode === 'macvlan') {
    refuse(c, ['bridge', 'vlan', 'trunk', 'interface_type', 'ofport_request'], 'a macvlan has none');
    const master = ifName('master', c.master);
    const m = c.macvlan_mode;
    if (m === undefined) return { mode, master };
    const macvlanMode = MACVLAN_MODES.find((k) => k === m);
    if (macvlanMode === undefined)
      throw invalidConfig('macvlan_mode', `${JSON.stringify(m)} is not one of ${MACVLAN_MODES.join(', ')}`);
    return { mode, master, macvlanMode };
  }
  const bridge = ifName('bridge', c.bridge);
  if (mode === 'bridge') {
    refuse(c, ['vlan', 'trunk', 'interface_type', 'ofport_request'], 'a Linux bridge port has none here');
    return { mode, bridge };
  }
  const it = c.interface_type;
  if (it !== undefined && it !== '' && it !== 'system')
    throw invalidConfig('interface_type', `${JSON.stringify(it)}: netplumb attaches a veth (type "" or "system")`);
  const vlan = c.vlan === undefined ? undefined : vlanId('vlan', jsonNumber('vlan', c.vlan));
  const trunks = c.trunk === undefined ? undefined : trunkIds(c.trunk);
  if (vlan !== undefined && trunks !== undefined) throw invalidConfig('trunk', 'give vlan or trunk, not both');
  const ofportRequest =
    c.ofport_request === undefined
      ? undefined
      : integer('ofport_request', jsonNumber('ofport_request', c.ofport_request), 1, OFPORT_MAX);
  return {
    mode,
    bridge,
    ...(vlan !== undefined ? { vlan } : {}),
    ...(trunks !== undefined ? { trunks } : {}),
    ...(ofportRequest !== undefined ? { ofportRequest } : {}),
  };
}

/** ovs-cni's trunk: `[{"id": N}, {"minID": A, "maxID": B}]`. */
function trunkIds(v: unknown): VlanId[] {
  if (!Array.isArray(v) || v.length === 0)
    throw invalidConfig('trunk', 'expected a non-empty array of {id} or {minID, maxID}');
  const ids: unknown[] = [];
  v.forEach((t: unknown, i) => {
    const field = `trunk[${i}]`;
    if (typeof t !== 'object' || t === null) throw invalidConfig(field, 'expected {id} or {minID, maxID}');
    const r = t as Json;
    if (r.id !== undefined) {
      if (r.minID !== undefined || r.maxID !== undefined) throw invalidConfig(field, 'give id, or minID and maxID');
      ids.push(vlanId(`${field}.id`, jsonNumber(`${field}.id`, r.id)));
      return;
    }
    const min = vlanId(`${field}.minID`, jsonNumber(`${field}.minID`, r.minID));
    const max = vlanId(`${field}.maxID`, jsonNumber(`${field}.maxID`, r.maxID));
    if (min > max) throw invalidConfig(field, `minID ${min} is above maxID ${max}`);
    for (let id = min; id <= max; id++) ids.push(id);
  });
  // Overlapping ranges name a VLAN twice: ovs-cni takes that, so it is merged here.
  return parseTrunks([...new Set(ids)], (i) => `trunk[${i}]`);
}

/** The runtime's MAC first (`runtimeConfig.mac`, then `args.cni.mac`), then the configuration's `mac`. */
function macOf(c: Json): MacPlan | undefined {
  const runtime = c.runtimeConfig === undefined ? undefined : objectAt(c, 'runtimeConfig').mac;
  if (runtime !== undefined) return { address: macAddress('runtimeConfig.mac', runtime) };
  const args = c.args === undefined ? undefined : objectAt(c, 'args').cni;
  const argsMac = typeof args === 'object' && args !== null ? (args as Json).mac : undefined;
  if (argsMac !== undefined) return { address: macAddress('args.cni.mac', argsMac) };
  return c.mac === undefined ? undefined : { address: macAddress('mac', c.mac) };
}

/** ovs-cni's socket_file: a socket path, or a remote as ovs-vsctl spells it. */
function ovsdbRemote(v: unknown): string {
  if (typeof v !== 'string' || v === '')
    throw invalidConfig('socket_file', 'expected unix:/path, tcp:HOST:PORT or a socket path');
  const text = v.startsWith('/') ? `unix:${v}` : v;
  try {
    return parseRemote(text).text;
  } catch (e) {
    throw invalidConfig('socket_file', (e as Error).message);
  }
}

function validAttachments(c: Json): ValidAttachment[] {
  const key = 'cni.dev/valid-attachments';
  const v = c[key];
  if (!Array.isArray(v)) throw invalidConfig(key, 'expected an array of {containerID, ifname}');
  return v.map((a: unknown, i) => {
    const o = typeof a === 'object' && a !== null ? (a as Json) : {};
    const containerId = o.containerID;
    const ifname = o.ifname;
    if (typeof containerId !== 'string' || typeof ifname !== 'string')
      throw invalidConfig(`${key}[${i}]`, 'expected {containerID, ifname} strings');
    return { containerId, ifname };
  });
}

/** A number as JSON writes it (ovs-cni takes no "100" for 100). */
function jsonNumber(field: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidConfig(field, `${JSON.stringify(v)} is not a number`);
  return v;
}

function refuse(c: Json, keys: readonly string[], why: string): void {
  const k = keys.find((key) => c[key] !== undefined);
  if (k !== undefined) throw invalidConfig(k, `not with attach ${JSON.stringify(c.attach)}: ${why}`);
}

function objectAt(c: Json, key: string): Json {
  const v = c[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidConfig(key, 'expected an object');
  return v as Json;
}

function str(c: Json, key: string, field = key): string | undefined {
  const v = c[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalidConfig(field, 'expected a non-empty string');
  return v;
}

/** netplumb's value checks (INVALID_ARGUMENT naming the field) as code 7. */
function asConfig<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof NetplumbError) {
      const field = typeof e.details.field === 'string' ? e.details.field : undefined;
      throw new CniError(CniCode.INVALID_CONFIG, e.message, field);
    }
    throw e;
  }
}
