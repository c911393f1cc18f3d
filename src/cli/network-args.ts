/**
 * `netplumb network create NAME|delete NAME|list`: the words into a network request. Values
 * are parsed by ../ovn/networks.ts (as for a library caller) when the request runs. Pure.
 */
import type { NetworkSpec } from '../ovn/networks.js';
import { networkName } from '../plumb/plan.js';
import { integer } from '../validate.js';
import { actionOf, atMostPositionals, onlyOptions } from './action-args.js';
import type { ParsedOptions } from './long-options.js';
import type { NETWORK_OPTIONS } from './netplumb-options.js';

export const NETWORK_ACTIONS = ['create', 'delete', 'list'] as const;

export type NetworkCommand =
  | { action: 'create'; spec: NetworkSpec }
  | { action: 'delete'; name: string; force: boolean }
  | { action: 'list' };

type Options = ParsedOptions<typeof NETWORK_OPTIONS>;

export function parseNetworkArgs(positionals: readonly string[], o: Options): NetworkCommand {
  const [word, name, ...rest] = positionals;
  const action = actionOf('network', word, NETWORK_ACTIONS);
  if (action === 'list') {
    atMostPositionals('network', action, positionals.slice(1), 0);
    onlyOptions('network', action, o, ['ovn-nb']);
    return { action };
  }
  atMostPositionals('network', action, rest, 0);
  const network = networkName('name', name);
  if (action === 'delete') {
    onlyOptions('network', action, o, ['force', 'ovn-nb']);
    return { action, name: network, force: o.force === true };
  }
  onlyOptions('network', action, o, ['subnet', 'exclude-ips', 'vlan', 'physnet', 'mtu', 'ovn-nb']);
  return {
    action,
    spec: {
      name: network,
      ...(o.subnet !== undefined ? { subnet: o.subnet } : {}),
      ...(o['exclude-ips'] !== undefined ? { excludeIps: o['exclude-ips'].split(',') } : {}),
      ...(o.vlan !== undefined ? { vlan: integer('vlan', o.vlan, 1, 4094) } : {}),
      ...(o.physnet !== undefined ? { physnet: o.physnet } : {}),
      ...(o.mtu !== undefined ? { mtu: integer('mtu', o.mtu, 68, 65535) } : {}),
    },
  };
}
