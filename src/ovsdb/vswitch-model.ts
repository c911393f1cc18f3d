/**
 * The Open_vSwitch database as netplumb sees it: the columns it relies on, what it
 * monitors, and typed rows decoded from the wire.
 */
import type { RowDecoders } from './cache.js';
import {
  decodeIntegerSet,
  decodeOptionalInteger,
  decodeOptionalString,
  decodeStringMap,
  decodeStringSet,
  type Row,
} from './notation.js';
import type { ColumnRequirements } from './schema.js';

export interface OpenVSwitchRow {
  uuid: string;
  bridges: string[];
  nextCfg: number;
  curCfg: number;
  /** `system-id`, `ovn-bridge-mappings`, `ovn-bridge` … */
  externalIds: Record<string, string>;
}
export interface BridgeRow {
  uuid: string;
  name: string;
  ports: string[];
  datapathType: string;
  externalIds: Record<string, string>;
}
export type VlanMode = 'trunk' | 'access' | 'native-tagged' | 'native-untagged' | 'dot1q-tunnel';
export interface PortRow {
  uuid: string;
  name: string;
  interfaces: string[];
  tag: number | undefined;
  trunks: number[];
  vlanMode: VlanMode | undefined;
  externalIds: Record<string, string>;
}
export interface InterfaceRow {
  uuid: string;
  name: string;
  type: string;
  options: Record<string, string>;
  /** Unset until ovs-vswitchd configured the interface; -1 when it failed. */
  ofport: number | undefined;
  error: string | undefined;
  externalIds: Record<string, string>;
  mtuRequest: number | undefined;
  adminState: string | undefined;
  linkState: string | undefined;
}
export interface VswitchTables extends Record<string, unknown> {
  Open_vSwitch: OpenVSwitchRow;
  Bridge: BridgeRow;
  Port: PortRow;
  Interface: InterfaceRow;
}

/** Columns netplumb reads or writes (`?` = optional: used when present). */
export const VSWITCH_REQUIRED_COLUMNS: ColumnRequirements = {
  Open_vSwitch: ['bridges', 'next_cfg', 'cur_cfg', 'external_ids'],
  Bridge: ['name', 'ports', 'datapath_type', 'external_ids', 'mtu_request?'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'external_ids'],
  Interface: ['name', 'type', 'options', 'ofport', 'error', 'external_ids', 'mtu_request', 'admin_state', 'link_state'],
};

export const VSWITCH_MONITOR_COLUMNS: { [T in keyof VswitchTables]: readonly string[] } = {
  Open_vSwitch: ['bridges', 'next_cfg', 'cur_cfg', 'external_ids'],
  Bridge: ['name', 'ports', 'datapath_type', 'external_ids'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'external_ids'],
  Interface: ['name', 'type', 'options', 'ofport', 'error', 'external_ids', 'mtu_request', 'admin_state', 'link_state'],
};

const str = (v: Row[string] | undefined): string => (typeof v === 'string' ? v : '');
const int = (v: Row[string] | undefined): number => (typeof v === 'number' ? v : 0);

/**
 * `row` with `key` added as an enumerable property decoded on its first read and kept.
 * A bridge's port set changes with every port added or deleted, and the cache decodes a
 * row on every change; most of those rows are never asked for their ports.
 */
function decodedOnRead<R extends object, K extends string, V>(row: R, key: K, decode: () => V): R & Record<K, V> {
  return Object.defineProperty(row, key, {
    enumerable: true,
    configurable: true,
    get(this: R) {
      const value = decode();
      Object.defineProperty(this, key, { value, enumerable: true, writable: false });
      return value;
    },
  }) as R & Record<K, V>;
}

export const VSWITCH_DECODERS: RowDecoders<VswitchTables> = {
  Open_vSwitch: (uuid, r) => ({
    uuid,
    bridges: decodeStringSet(r.bridges),
    nextCfg: int(r.next_cfg),
    curCfg: int(r.cur_cfg),
    externalIds: decodeStringMap(r.external_ids),
  }),
  Bridge: (uuid, r) =>
    decodedOnRead(
      { uuid, name: str(r.name), datapathType: str(r.datapath_type), externalIds: decodeStringMap(r.external_ids) },
      'ports',
      () => decodeStringSet(r.ports),
    ),
  Port: (uuid, r) => ({
    uuid,
    name: str(r.name),
    interfaces: decodeStringSet(r.interfaces),
    tag: decodeOptionalInteger(r.tag),
    trunks: decodeIntegerSet(r.trunks),
    vlanMode: decodeOptionalString(r.vlan_mode) as VlanMode | undefined,
    externalIds: decodeStringMap(r.external_ids),
  }),
  Interface: (uuid, r) => ({
    uuid,
    name: str(r.name),
    type: str(r.type),
    options: decodeStringMap(r.options),
    ofport: decodeOptionalInteger(r.ofport),
    error: decodeOptionalString(r.error),
    externalIds: decodeStringMap(r.external_ids),
    mtuRequest: decodeOptionalInteger(r.mtu_request),
    adminState: decodeOptionalString(r.admin_state),
    linkState: decodeOptionalString(r.link_state),
  }),
};
