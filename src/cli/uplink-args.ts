/**
 * `netplumb uplink add|del|list`: the words into an uplink request. Values are parsed by
 * ../plumb/uplink-spec.ts (as for a library caller), so both read them alike. Pure.
 */
import { invalidArgument } from '../errors.js';
import type { UplinkDelRequest } from '../plumb/uplink.js';
import { parseUplinkSpec, type UplinkSpec } from '../plumb/uplink-spec.js';
import { ifName, integer } from '../validate.js';
import { actionOf, atMostPositionals, onlyOptions } from './action-args.js';
import type { ParsedOptions } from './long-options.js';
import type { UPLINK_OPTIONS } from './netplumb-options.js';

export const UPLINK_ACTIONS = ['add', 'del', 'list'] as const;

export type UplinkCommand =
  | { action: 'add'; spec: UplinkSpec }
  | { action: 'del'; request: UplinkDelRequest }
  | { action: 'list' };

type Options = ParsedOptions<typeof UPLINK_OPTIONS>;

function required(name: 'bridge' | 'nic', value: string | undefined): string {
  if (value === undefined) throw invalidArgument(name, `--${name} is required`);
  return value;
}

export function parseUplinkArgs(positionals: readonly string[], o: Options): UplinkCommand {
  const [word, ...rest] = positionals;
  const action = actionOf('uplink', word, UPLINK_ACTIONS);
  atMostPositionals('uplink', action, rest, 0);
  switch (action) {
    case 'add': {
      onlyOptions('uplink', action, o, [
        'bridge',
        'nic',
        'trunks',
        'native-vlan',
        'vlan',
        'physnet',
        'create-bridge',
        'force',
        'ovs-db',
      ]);
      const spec: UplinkSpec = {
        bridge: required('bridge', o.bridge),
        nic: required('nic', o.nic),
        ...(o.vlan !== undefined ? { vlan: integer('vlan', o.vlan, 1, 4094) } : {}),
        ...(o.trunks !== undefined ? { trunks: o.trunks.split(',').map((t) => integer('trunks', t, 1, 4094)) } : {}),
        ...(o['native-vlan'] !== undefined ? { nativeVlan: integer('native-vlan', o['native-vlan'], 1, 4094) } : {}),
        ...(o.physnet !== undefined ? { physnet: o.physnet } : {}),
        ...(o['create-bridge'] === true ? { createBridge: true } : {}),
        ...(o.force === true ? { force: true } : {}),
      };
      parseUplinkSpec(spec); // every value checked now, before anything is opened
      return { action, spec };
    }
    case 'del':
      onlyOptions('uplink', action, o, ['bridge', 'nic', 'ovs-db']);
      return {
        action,
        request: {
          nic: ifName('nic', required('nic', o.nic)),
          ...(o.bridge !== undefined ? { bridge: ifName('bridge', o.bridge) } : {}),
        },
      };
    case 'list':
      onlyOptions('uplink', action, o, ['ovs-db']);
      return { action };
  }
}
