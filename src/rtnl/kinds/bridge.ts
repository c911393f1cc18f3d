/** bridge: a Linux software bridge (`ip link add name br0 type bridge`). */
import { attr, attrTable, dec, parseAttrs } from '../../netlink/attr-reader.js';
import { integer } from '../../validate.js';
import { linkKind } from '../link-kind.js';

export const IFLA_BR = {
  IFLA_BR_UNSPEC: 0,
  IFLA_BR_FORWARD_DELAY: 1,
  IFLA_BR_HELLO_TIME: 2,
  IFLA_BR_MAX_AGE: 3,
  IFLA_BR_AGEING_TIME: 4,
  IFLA_BR_STP_STATE: 5,
  IFLA_BR_PRIORITY: 6,
  IFLA_BR_VLAN_FILTERING: 7,
  IFLA_BR_VLAN_PROTOCOL: 8,
  IFLA_BR_GROUP_FWD_MASK: 9,
} as const;

export interface BridgeOptions {
  kind: 'bridge';
  stp?: boolean;
  /** Bridge priority, 0..65535. */
  priority?: number;
  vlanFiltering?: boolean;
  /** FDB ageing time in centiseconds (as `ip … ageing_time`). */
  ageingTime?: number;
}

export interface BridgeInfo {
  stp?: boolean;
  priority?: number;
  vlanFiltering?: boolean;
  ageingTime?: number;
  forwardDelay?: number;
}

const BRIDGE_TABLE = attrTable('IFLA_BR', {
  [IFLA_BR.IFLA_BR_FORWARD_DELAY]: attr('forwardDelay', dec.u32),
  [IFLA_BR.IFLA_BR_AGEING_TIME]: attr('ageingTime', dec.u32),
  [IFLA_BR.IFLA_BR_STP_STATE]: attr('stp', dec.u32),
  [IFLA_BR.IFLA_BR_PRIORITY]: attr('priority', dec.u16),
  [IFLA_BR.IFLA_BR_VLAN_FILTERING]: attr('vlanFiltering', dec.bool8),
});

export const bridge = linkKind<BridgeOptions, BridgeInfo>({
  kind: 'bridge',
  validate(o) {
    const out = { ...o };
    if (o.priority !== undefined) out.priority = integer('priority', o.priority, 0, 0xffff);
    if (o.ageingTime !== undefined) out.ageingTime = integer('ageingTime', o.ageingTime, 0, 0xffffffff);
    return out;
  },
  encodeData(w, o) {
    if (o.ageingTime !== undefined) w.u32(IFLA_BR.IFLA_BR_AGEING_TIME, o.ageingTime);
    if (o.stp !== undefined) w.u32(IFLA_BR.IFLA_BR_STP_STATE, o.stp ? 1 : 0);
    if (o.priority !== undefined) w.u16(IFLA_BR.IFLA_BR_PRIORITY, o.priority);
    if (o.vlanFiltering !== undefined) w.u8(IFLA_BR.IFLA_BR_VLAN_FILTERING, o.vlanFiltering ? 1 : 0);
  },
  decodeData(data) {
    const { stp, unknown: _unknown, ...rest } = parseAttrs(data, BRIDGE_TABLE);
    return stp === undefined ? rest : { ...rest, stp: stp !== 0 };
  },
});
