/**
 * An AttachSpec from a library caller (or from the daemon's params, checked for shape
 * first) parsed into its plan (./plan.ts): every value checked once, here, with the field
 * names a caller sees in the error.
 */
import { invalidArgument } from '../errors.js';
import { parseGuestRef } from '../guest/ref.js';
import { validateUserExternalIds } from '../ovsdb/notation.js';
import {
  gateway as validGateway,
  ifName,
  integer,
  ipPrefix,
  mtu as validMtu,
  vlanId,
  type IpFamily,
} from '../validate.js';
import { parseCniOwner } from './cni-owner.js';
import { parseMac } from './mac.js';
import {
  boundPlan,
  networkName,
  parseHostMac,
  parseTrunks,
  type AttachPlan,
  type HostRef,
  type IpPlan,
} from './plan.js';
import { ATTACH_MODES, MACVLAN_MODES, type AttachMode, type AttachSpec, type IpConfig } from './spec.js';

/** Highest OpenFlow port number a port can ask for (OFPP_MAX). */
export const OFPORT_MAX = 65279;
/** Longest `waitUpMs` (an hour, as `--wait-up` allows). */
export const WAIT_UP_MAX_MS = 3_600_000;
const DHCP_CLIENTS: readonly string[] = ['udhcpc', 'dhclient', 'dhcpcd'];

/** The plan of `spec`: the one it is bound to (a command line made it), or its parse. */
export function planOf(spec: AttachSpec): AttachPlan {
  return boundPlan(spec) ?? parseAttachSpec(spec);
}

/** Parse every value of a spec; throws INVALID_ARGUMENT naming the field (UNSUPPORTED for an IPoIB host). */
export function parseAttachSpec(spec: AttachSpec): AttachPlan {
  const host: HostRef =
    spec.hostMac === undefined
      ? { name: ifName('host', spec.host) }
      : { mac: parseHostMac('hostMac', spec.hostMac), word: spec.host };
  const ifname = spec.ifname === undefined ? undefined : ifName('ifname', spec.ifname);
  const hostIfname = spec.hostIfname === undefined ? undefined : ifName('hostIfname', spec.hostIfname);
  const vlan = spec.vlan === undefined ? undefined : vlanId('vlan', spec.vlan);
  const trunks = spec.trunks === undefined ? undefined : parseTrunks(spec.trunks, (i) => `trunks[${i}]`);
  if (vlan !== undefined && trunks !== undefined)
    throw invalidArgument('trunks', 'give an access VLAN or trunks, not both');
  const mtu = spec.mtu === undefined ? undefined : validMtu('mtu', spec.mtu);
  const ofportRequest =
    spec.ofportRequest === undefined ? undefined : integer('ofportRequest', spec.ofportRequest, 1, OFPORT_MAX);
  const mac = spec.mac === undefined ? undefined : parseMac('mac', spec.mac);
  const family = spec.family === undefined ? undefined : parseFamily(spec.family);
  const ip = parseIp(spec.ip, family);
  const metadata = spec.metadata === undefined ? undefined : { ...validateUserExternalIds(spec.metadata) };
  const network = spec.network === undefined ? undefined : networkName('network', spec.network);
  const mode = networkMode(spec.mode === undefined ? undefined : oneOf('mode', spec.mode, ATTACH_MODES), network);
  const macvlanMode =
    spec.macvlanMode === undefined ? undefined : oneOf('macvlanMode', spec.macvlanMode, MACVLAN_MODES);
  const waitUpMs = spec.waitUpMs === undefined ? undefined : integer('waitUpMs', spec.waitUpMs, 0, WAIT_UP_MAX_MS);
  const guest = parseGuestRef(spec.guest);
  const cni = spec.cni === undefined ? undefined : parseCniOwner(spec.cni);
  return {
    host,
    ...(mode !== undefined ? { mode } : {}),
    guest,
    ...(ifname !== undefined ? { ifname } : {}),
    ...(hostIfname !== undefined ? { hostIfname } : {}),
    ...(family !== undefined ? { family } : {}),
    ip,
    ...(mac !== undefined ? { mac } : {}),
    ...(network !== undefined ? { network } : {}),
    ...(vlan !== undefined ? { vlan } : {}),
    ...(trunks !== undefined ? { trunks } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(ofportRequest !== undefined ? { ofportRequest } : {}),
    ...(macvlanMode !== undefined ? { macvlanMode } : {}),
    ...(spec.createBridge === true ? { createBridge: true } : {}),
    ...(spec.force === true ? { force: true } : {}),
    ...(spec.allowHostNetns === true ? { allowHostNetns: true } : {}),
    ...(waitUpMs !== undefined ? { waitUpMs } : {}),
    ...(spec.persist === true ? { persist: true } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
    ...(cni !== undefined ? { cni } : {}),
  };
}

/** A network implies mode `ovn`, and mode `ovn` needs a network. */
export function networkMode(mode: AttachMode | undefined, network: string | undefined): AttachMode | undefined {
  if (network === undefined) {
    if (mode === 'ovn') throw invalidArgument('network', 'mode ovn attaches to an OVN network: name it');
    return mode;
  }
  if (mode !== undefined && mode !== 'ovn')
    throw invalidArgument('mode', `a network attachment is a port of an OVN network, not mode ${mode}`);
  return 'ovn';
}

function parseFamily(v: unknown): IpFamily {
  if (v !== 4 && v !== 6) throw invalidArgument('family', `${JSON.stringify(v)} is not 4 or 6`);
  return v;
}

function oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw invalidArgument(field, `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  return found;
}

/** The address and gateway (a v4/v6 mix is refused: the gateway needs an address of its family). */
function parseIp(ip: IpConfig, family: IpFamily | undefined): IpPlan {
  if (ip.kind === 'none') return { kind: 'none' };
  if (ip.kind === 'dhcp') {
    const client = oneOf('ip.client', ip.client, DHCP_CLIENTS) as typeof ip.client;
    const options = (Array.isArray(ip.options) ? ip.options : []).map((o, i) => {
      if (typeof o !== 'string') throw invalidArgument(`ip.options[${i}]`, 'expected a string');
      return o;
    });
    return { kind: 'dhcp', client, foreground: ip.foreground === true, options };
  }
  if (ip.kind !== 'static')
    throw invalidArgument(
      'ip.kind',
      `${JSON.stringify((ip as { kind: unknown }).kind)} is not one of static, none, dhcp`,
    );
  const address = ipPrefix('ip', ip.address, family === undefined ? {} : { family });
  if (ip.gateway === undefined) return { kind: 'static', address };
  const gw = validGateway('gateway', ip.gateway);
  if (address.bytes.equals(gw.bytes)) throw invalidArgument('gateway', `${gw.address} is the interface's own address`);
  if (address.family !== gw.family)
    throw invalidArgument('gateway', `${gw.address} has no address of its family on the interface`);
  return { kind: 'static', address, gateway: gw };
}
