/** vlan: an 802.1Q/802.1ad sub-interface of a parent (`ip link add link eth0 name eth0.10 type vlan id 10`). */
import { invalidArgument } from '../../errors.js';
import { attr, attrTable, dec, parseAttrs } from '../../netlink/attr-reader.js';
import { vlanId } from '../../validate.js';
import { linkKind } from '../link-kind.js';

export const IFLA_VLAN = {
  IFLA_VLAN_UNSPEC: 0,
  IFLA_VLAN_ID: 1,
  IFLA_VLAN_FLAGS: 2,
  IFLA_VLAN_EGRESS_QOS: 3,
  IFLA_VLAN_INGRESS_QOS: 4,
  IFLA_VLAN_PROTOCOL: 5,
} as const;

export const ETH_P = {
  ETH_P_8021Q: 0x8100,
  ETH_P_8021AD: 0x88a8,
} as const;

const PROTOCOLS = { '802.1Q': ETH_P.ETH_P_8021Q, '802.1ad': ETH_P.ETH_P_8021AD } as const;
export type VlanProtocol = keyof typeof PROTOCOLS;

export interface VlanOptions {
  kind: 'vlan';
  /** 1..4094 */
  id: number;
  /** Default 802.1Q. */
  protocol?: VlanProtocol;
}

export interface VlanInfo {
  id?: number;
  protocol?: VlanProtocol | number;
}

const VLAN_TABLE = attrTable('IFLA_VLAN', {
  [IFLA_VLAN.IFLA_VLAN_ID]: attr('id', dec.u16),
  [IFLA_VLAN.IFLA_VLAN_PROTOCOL]: attr('protocol', dec.be16),
});

export const vlan = linkKind<VlanOptions, VlanInfo>({
  kind: 'vlan',
  requiresParent: true,
  validate(o) {
    if (o.protocol !== undefined && !Object.hasOwn(PROTOCOLS, o.protocol)) {
      throw invalidArgument('protocol', `${JSON.stringify(o.protocol)} is not 802.1Q or 802.1ad`);
    }
    return { ...o, id: vlanId('vlan', o.id) };
  },
  encodeData(w, o) {
    if (o.protocol !== undefined) w.be16(IFLA_VLAN.IFLA_VLAN_PROTOCOL, PROTOCOLS[o.protocol]);
    w.u16(IFLA_VLAN.IFLA_VLAN_ID, o.id);
  },
  decodeData(data) {
    const a = parseAttrs(data, VLAN_TABLE);
    const info: VlanInfo = {};
    if (a.id !== undefined) info.id = a.id;
    if (a.protocol !== undefined)
      info.protocol =
        a.protocol === ETH_P.ETH_P_8021Q ? '802.1Q' : a.protocol === ETH_P.ETH_P_8021AD ? '802.1ad' : a.protocol;
    return info;
  },
});
