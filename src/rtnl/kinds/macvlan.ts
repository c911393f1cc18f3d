/** macvlan: MAC-based sub-interfaces of a parent (`ip link add link eth0 name mv0 type macvlan mode bridge`). */
import { invalidArgument } from '../../errors.js';
import { attr, attrTable, dec, parseAttrs } from '../../netlink/attr-reader.js';
import { linkKind } from '../link-kind.js';

export const IFLA_MACVLAN = {
  IFLA_MACVLAN_UNSPEC: 0,
  IFLA_MACVLAN_MODE: 1,
  IFLA_MACVLAN_FLAGS: 2,
  IFLA_MACVLAN_MACADDR_MODE: 3,
  IFLA_MACVLAN_MACADDR: 4,
  IFLA_MACVLAN_MACADDR_DATA: 5,
  IFLA_MACVLAN_MACADDR_COUNT: 6,
  IFLA_MACVLAN_BC_QUEUE_LEN: 7,
  IFLA_MACVLAN_BC_QUEUE_LEN_USED: 8,
} as const;

export const MACVLAN_MODE = {
  MACVLAN_MODE_PRIVATE: 1,
  MACVLAN_MODE_VEPA: 2,
  MACVLAN_MODE_BRIDGE: 4,
  MACVLAN_MODE_PASSTHRU: 8,
  MACVLAN_MODE_SOURCE: 16,
} as const;

const MODES = {
  private: MACVLAN_MODE.MACVLAN_MODE_PRIVATE,
  vepa: MACVLAN_MODE.MACVLAN_MODE_VEPA,
  bridge: MACVLAN_MODE.MACVLAN_MODE_BRIDGE,
  passthru: MACVLAN_MODE.MACVLAN_MODE_PASSTHRU,
  source: MACVLAN_MODE.MACVLAN_MODE_SOURCE,
} as const;
export type MacvlanMode = keyof typeof MODES;

export interface MacvlanOptions {
  kind: 'macvlan';
  /** Default: the kernel's (vepa). */
  mode?: MacvlanMode;
}

export interface MacvlanInfo {
  mode?: MacvlanMode | number;
  flags?: number;
}

const MACVLAN_TABLE = attrTable('IFLA_MACVLAN', {
  [IFLA_MACVLAN.IFLA_MACVLAN_MODE]: attr('mode', dec.u32),
  [IFLA_MACVLAN.IFLA_MACVLAN_FLAGS]: attr('flags', dec.u16),
});

export function macvlanModeName(mode: number): MacvlanMode | number {
  const hit = (Object.entries(MODES) as [MacvlanMode, number][]).find(([, v]) => v === mode);
  return hit === undefined ? mode : hit[0];
}

export const macvlan = linkKind<MacvlanOptions, MacvlanInfo>({
  kind: 'macvlan',
  validate(o) {
    if (o.mode !== undefined && !Object.hasOwn(MODES, o.mode)) {
      throw invalidArgument('mode', `${JSON.stringify(o.mode)} is not one of ${Object.keys(MODES).join(', ')}`);
    }
    return o;
  },
  encodeData(w, o) {
    if (o.mode !== undefined) w.u32(IFLA_MACVLAN.IFLA_MACVLAN_MODE, MODES[o.mode]);
  },
  decodeData(data) {
    const a = parseAttrs(data, MACVLAN_TABLE);
    const info: MacvlanInfo = {};
    if (a.mode !== undefined) info.mode = macvlanModeName(a.mode);
    if (a.flags !== undefined) info.flags = a.flags;
    return info;
  },
});
