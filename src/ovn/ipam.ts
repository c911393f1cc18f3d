/**
 * Addresses of logical switch ports (ovn-nb(5) `addresses`, `port_security`,
 * `dynamic_addresses`): an attachment's address is the user's (checked against every port
 * of the switch: a second port with it is a CONFLICT) or, when the network has a subnet
 * (`other_config:subnet`) and none is given, allocated by ovn-northd (`MAC dynamic`).
 * Pure: no I/O.
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import type { LogicalSwitchPortRow, LogicalSwitchRow } from '../ovsdb/nb-model.js';
import type { IpPlan } from '../plumb/plan.js';
import { inPrefix, ipAddress, ipPrefix, type IpPrefix } from '../validate.js';

/** How one logical port is addressed. */
export interface PortAddressing {
  /** Logical_Switch_Port.addresses */
  addresses: string[];
  /** Logical_Switch_Port.port_security as known now: the MAC alone until a dynamic address is known. */
  portSecurity: string[];
  /** A static address: no other port of the switch may have it. */
  staticIp?: IpPrefix;
  /** ovn-northd allocates the address from this subnet. */
  dynamicFrom?: IpPrefix;
}

/** The network's `other_config:subnet` (IPv4), if it has one. */
export function subnetOf(sw: LogicalSwitchRow): IpPrefix | undefined {
  const text = sw.otherConfig.subnet;
  if (text === undefined || text === '') return undefined;
  try {
    return ipPrefix('subnet', text, { family: 4 });
  } catch {
    return undefined;
  }
}

/** The port's addressing for an attach plan's `ip`, on switch `sw` (named `network` in messages). */
export function portAddressing(mac: string, ip: IpPlan, sw: LogicalSwitchRow, network: string): PortAddressing {
  const subnet = subnetOf(sw);
  if (ip.kind === 'dhcp')
    throw invalidArgument(
      'ip',
      `network "${network}" is an OVN logical switch: give an address, or none and let its subnet (other_config:subnet) allocate one; a DHCP client is not run there`,
    );
  if (ip.kind === 'static') {
    if (subnet !== undefined && ip.address.family === 4 && !inPrefix(subnet, ip.address))
      throw invalidArgument('ip', `${ip.address.address} is outside the subnet ${subnet.cidr} of network "${network}"`);
    const entry = `${mac} ${ip.address.address}`;
    return { addresses: [entry], portSecurity: [entry], staticIp: ip.address };
  }
  if (subnet !== undefined) return { addresses: [`${mac} dynamic`], portSecurity: [mac], dynamicFrom: subnet };
  return { addresses: [mac], portSecurity: [mac] };
}

/** The IP addresses a port holds: those in `addresses` entries (`MAC IP…`) and its `dynamic_addresses`. */
export function addressesOf(p: LogicalSwitchPortRow): string[] {
  const out: string[] = [];
  for (const entry of [...p.addresses, ...(p.dynamicAddresses !== undefined ? [p.dynamicAddresses] : [])]) {
    const [, ...words] = entry.trim().split(/\s+/);
    for (const w of words) {
      try {
        out.push(ipAddress('address', w.replace(/\/\d+$/, '')).address);
      } catch {
        /* `dynamic`, `unknown`, `router`: not an address */
      }
    }
  }
  return out;
}

/** The port among `ports` that already holds `ip`, if any (`except`: the one being replaced). */
export function holderOf(
  ip: string,
  ports: readonly LogicalSwitchPortRow[],
  except?: string,
): LogicalSwitchPortRow | undefined {
  return ports.find((p) => p.name !== except && addressesOf(p).includes(ip));
}

export function addressConflict(ip: string, holder: string, network: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.CONFLICT,
    `${ip} is already the address of logical port ${holder} on network "${network}"; choose another, or leave --ip out to have one allocated`,
    { field: 'ip', holder },
  );
}

/** The IPv4 address ovn-northd allocated to a port (`dynamic_addresses` "MAC IP"), once it did. */
export function allocatedIpv4(p: LogicalSwitchPortRow | undefined): string | undefined {
  const words = p?.dynamicAddresses?.trim().split(/\s+/) ?? [];
  return words.slice(1).find((w) => /^\d+\.\d+\.\d+\.\d+$/.test(w));
}
