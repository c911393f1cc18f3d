/**
 * An IPAM plugin's result (CNI spec, "Success": `ips`, `routes`, `dns`), read as untrusted
 * input, and how an attach makes it: the engine's addressing (one address, the gateway of
 * its family's default route), and the rest, added after. All of it goes on in the plugin's
 * result.
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

/** What the container's interface gets beyond the engine's one address and default route. */
export interface MoreAddressing {
  /** The IPAM result's other addresses (another family's, a second one). */
  addresses: IpPrefix[];
  /** Its other routes, each with its gateway (the route's `gw`, else the gateway of an address of its family), or on-link. */
  routes: { dst: IpPrefix; via?: IpAddress }[];
}

export interface IpamPlan {
  /** The engine's addressing: the first address, and the gateway of its family's default route. */
  ip: IpPlan;
  more: MoreAddressing;
}

/**
 * An IPAM result as the attach makes it: the engine configures its first address and the
 * default route of that address's family (the route's own `gw`, else the address's
 * gateway), with its rollback and its announcement; the other addresses and routes are
 * added in the container after it.
 */
export function ipamPlan(r: IpamResult | undefined): IpamPlan {
  const none = { addresses: [], routes: [] };
  if (r === undefined || r.ips.length === 0) return { ip: { kind: 'none' }, more: none };
  const [ip, ...others] = r.ips as [IpamIp, ...IpamIp[]];
  const family = ip.address.family;
  const def = r.routes.find((x) => isDefault(x) && x.dst.family === family);
  const gw = def === undefined ? undefined : (def.gw ?? ip.gateway);
  const gatewayOf = (route: IpamRoute) => route.gw ?? r.ips.find((a) => a.address.family === route.dst.family)?.gateway;
  return {
    ip:
      gw === undefined ? { kind: 'static', address: ip.address } : { kind: 'static', address: ip.address, gateway: gw },
    more: {
      addresses: others.map((a) => a.address),
      routes: r.routes
        .filter((x) => x !== def)
        .map((x) => {
          const via = gatewayOf(x);
          return via === undefined ? { dst: x.dst } : { dst: x.dst, via };
        }),
    },
  };
}
