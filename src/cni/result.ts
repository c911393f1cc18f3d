/**
 * The result of an ADD (CNI spec, "Success"), in the configuration's version: the host end
 * of the veth and the container's interface (`sandbox`, and its `mac`, which podman
 * requires), the address with the index of its interface, the routes and DNS of the IPAM
 * plugin. 0.3.x and 0.4.0 results carry each address's `version` as well.
 */
import type { IpamResult } from './ipam-result.js';
import type { CniVersion } from './version.js';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface CniResult {
  cniVersion: CniVersion;
  interfaces: CniInterface[];
  ips: { address: string; gateway?: string; interface: number; version?: '4' | '6' }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
}

export interface Made {
  /** The host end of the veth (absent for a macvlan: it lives in the container only). */
  host?: { name: string; mac?: string };
  container: { name: string; mac: string; sandbox: string; mtu?: number };
}

/** The result of an ADD that made `made`, with the IPAM plugin's `ipam`. */
export function addResult(version: CniVersion, made: Made, ipam: IpamResult | undefined): CniResult {
  const interfaces: CniInterface[] = [];
  if (made.host !== undefined)
    interfaces.push({ name: made.host.name, ...(made.host.mac !== undefined ? { mac: made.host.mac } : {}) });
  const index = interfaces.length;
  const c = made.container;
  interfaces.push({ name: c.name, mac: c.mac, ...(c.mtu !== undefined ? { mtu: c.mtu } : {}), sandbox: c.sandbox });
  const old = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces,
    ips: (ipam?.ips ?? []).map((ip) => ({
      ...(old ? { version: String(ip.address.family) as '4' | '6' } : {}),
      address: ip.address.cidr,
      ...(ip.gateway !== undefined ? { gateway: ip.gateway.address } : {}),
      interface: index,
    })),
    routes: (ipam?.routes ?? []).map((r) => ({ dst: r.dst.cidr, ...(r.gw !== undefined ? { gw: r.gw.address } : {}) })),
    dns: ipam?.dns ?? {},
  };
}

/** What CHECK compares: the container interface and the addresses of a previous result. */
export interface PrevResult {
  /** The container's interface (the one with a `sandbox`) named `ifname`, if listed. */
  mac?: string;
  addresses: string[];
}

/** Read a previous result (as sent in `prevResult`) for the interface `ifname`; undefined when it lists nothing for it. */
export function prevResultFor(prev: unknown, ifname: string): PrevResult | undefined {
  if (typeof prev !== 'object' || prev === null) return undefined;
  const p = prev as { interfaces?: unknown; ips?: unknown };
  const ifaces = Array.isArray(p.interfaces) ? (p.interfaces as CniInterface[]) : [];
  const index = ifaces.findIndex((i) => i?.name === ifname && typeof i.sandbox === 'string' && i.sandbox !== '');
  if (index < 0) return undefined;
  const ips = Array.isArray(p.ips) ? (p.ips as { address?: unknown; interface?: unknown }[]) : [];
  const mac = ifaces[index]?.mac;
  return {
    ...(typeof mac === 'string' ? { mac: mac.toLowerCase() } : {}),
    addresses: ips
      .filter((ip) => ip?.interface === undefined || ip.interface === index)
      .map((ip) => ip.address)
      .filter((a): a is string => typeof a === 'string'),
  };
}
