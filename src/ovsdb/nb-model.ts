/**
 * The OVN_Northbound database as netplumb sees it (ovn-nb(5)): logical switches and their
 * ports, the columns relied on, what is monitored, and typed rows decoded from the wire.
 */
import type { RowDecoders } from './cache.js';
import {
  decodeOptional,
  decodeOptionalInteger,
  decodeOptionalString,
  decodeStringMap,
  decodeStringSet,
  type Row,
} from './notation.js';
import type { ColumnRequirements } from './schema.js';

export interface LogicalSwitchRow {
  uuid: string;
  name: string;
  /** Logical_Switch_Port uuids (strong references: a port goes with its switch). */
  ports: string[];
  /** `subnet`, `exclude_ips`, `ipv6_prefix`, `mac_only` (OVN's address management). */
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
}

export interface LogicalSwitchPortRow {
  uuid: string;
  name: string;
  /** '' (a VIF), `localnet`, `router` … */
  type: string;
  options: Record<string, string>;
  /** `MAC IP…`, `MAC dynamic`, `dynamic`, `unknown`, `router`. */
  addresses: string[];
  /** What ovn-northd allocated for a `dynamic` address: `MAC IP`. */
  dynamicAddresses: string | undefined;
  portSecurity: string[];
  /** Set by ovn-northd once a chassis claimed the port (its Port_Binding is up). */
  up: boolean | undefined;
  /** localnet: the VLAN of the physical network. */
  tag: number | undefined;
  externalIds: Record<string, string>;
}

export interface NbTables extends Record<string, unknown> {
  Logical_Switch: LogicalSwitchRow;
  Logical_Switch_Port: LogicalSwitchPortRow;
}

export const NB_REQUIRED_COLUMNS: ColumnRequirements = {
  Logical_Switch: ['name', 'ports', 'other_config', 'external_ids'],
  Logical_Switch_Port: [
    'name',
    'type',
    'options',
    'addresses',
    'dynamic_addresses',
    'port_security',
    'up',
    'tag',
    'external_ids',
  ],
};

export const NB_MONITOR_COLUMNS: { [T in keyof NbTables]: readonly string[] } = {
  Logical_Switch: ['name', 'ports', 'other_config', 'external_ids'],
  Logical_Switch_Port: [
    'name',
    'type',
    'options',
    'addresses',
    'dynamic_addresses',
    'port_security',
    'up',
    'tag',
    'external_ids',
  ],
};

const str = (v: Row[string] | undefined): string => (typeof v === 'string' ? v : '');

export const NB_DECODERS: RowDecoders<NbTables> = {
  Logical_Switch: (uuid, r) => ({
    uuid,
    name: str(r.name),
    ports: decodeStringSet(r.ports),
    otherConfig: decodeStringMap(r.other_config),
    externalIds: decodeStringMap(r.external_ids),
  }),
  Logical_Switch_Port: (uuid, r) => {
    const up = decodeOptional(r.up);
    return {
      uuid,
      name: str(r.name),
      type: str(r.type),
      options: decodeStringMap(r.options),
      addresses: decodeStringSet(r.addresses),
      dynamicAddresses: decodeOptionalString(r.dynamic_addresses),
      portSecurity: decodeStringSet(r.port_security),
      up: typeof up === 'boolean' ? up : undefined,
      tag: decodeOptionalInteger(r.tag),
      externalIds: decodeStringMap(r.external_ids),
    };
  },
};
