/**
 * An IPAM plugin's result (CNI spec, "Success": `ips`, `routes`, `dns`), read as untrusted
 * input, and the engine's addressing of it: one address and the gateway of the default
 * route of its family. The addresses and routes are handed on in the plugin's result.
 */
import { invalidArgument } from '../errors.js';
import type { IpPlan } from '../plumb/plan.js';
import { gateway as validGateway, ipPrefix, type IpAddress, type IpPrefix } from '../validate.js';
import { CniCode, CniError } from './errors.js';

export interface IpamIp {
  address: IpPrefix;
  gateway?: IpAddress;
}

export interface IpamRoute {
  dst: IpPrefix;
  gw?: IpAddress;
}

export interface IpamResult {
  ips: IpamIp[];
  routes: IpamRoute[];
  /** As the plugin gave it (nameservers, domain, search, options). */
  dns?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Parse the IPAM plugin's stdout; code 6 naming the field when it is not a result. */
export function parseIpamResult(plugin: string, out: Buffer): IpamResult {
  try {
    const o = JSON.parse(out.toString()) as unknown;
    if (typeof o !== 'object' || o === null) throw invalidArgument('result', 'not a JSON object');
    const r = o as Json;
    const ips = list(r.ips, 'ips').map((x, i) => {
      const ip = x as Json;
      const address = ipPrefix(`ips[${i}].address`, ip.address);
      return ip.gateway === undefined || ip.gateway === ''
        ? { address }
        : { address, gateway: validGateway(`ips[${i}].gateway`, ip.gateway) };
    });
    const routes = list(r.routes, 'routes').map((x, i) => {
      const route = x as Json;
      const dst = ipPrefix(`routes[${i}].dst`, route.dst);
      return route.gw === undefined || route.gw === ''
        ? { dst }
        : { dst, gw: validGateway(`routes[${i}].gw`, route.gw) };
    });
    const dns = typeof r.dns === 'object' && r.dns !== null ? (r.dns as Record<string, unknown>) : undefined;
    return { ips, routes, ...(dns !== undefined ? { dns } : {}) };
  } catch (e) {
    throw new CniError(
      CniCode.DECODE_FAILURE,
      `the IPAM plugin ${plugin} gave no result netplumb can read: ${(e as Error).message}`,
      'ipam',
    );
  }
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidArgument(field, 'expected an array');
  for (const [i, x] of v.entries())
    if (typeof x !== 'object' || x === null) throw invalidArgument(`${field}[${i}]`, 'expected an object');
  return v;
}

/** A default route (0.0.0.0/0, ::/0). */
function isDefault(r: IpamRoute): boolean {
  return r.dst.prefixLen === 0;
}

/**
 * The engine's addressing of an IPAM result: its address, and the gateway of its family's
 * default route (the route's own `gw`, else the address's gateway). What the engine does
 * not configure (a second address, a route other than the default) is refused, code 2.
 */
export function ipPlanOf(r: IpamResult | undefined): IpPlan {
  if (r === undefined || r.ips.length === 0) return { kind: 'none' };
  const [ip, ...more] = r.ips as [IpamIp, ...IpamIp[]];
  if (more.length > 0)
    throw new CniError(
      CniCode.UNSUPPORTED_FIELD,
      'the IPAM plugin gave more than one address: netplumb-cni configures one',
      'ips',
    );
  const other = r.routes.find((x) => !isDefault(x) || x.dst.family !== ip.address.family);
  if (other !== undefined)
    throw new CniError(
      CniCode.UNSUPPORTED_FIELD,
      `the IPAM plugin gave the route ${other.dst.cidr}: netplumb-cni configures the default route of its address only`,
      'routes',
    );
  const def = r.routes.find(isDefault);
  const gw = def === undefined ? undefined : (def.gw ?? ip.gateway);
  return gw === undefined
    ? { kind: 'static', address: ip.address }
    : { kind: 'static', address: ip.address, gateway: gw };
}
