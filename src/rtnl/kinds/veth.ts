/**
 * veth: a pair. The peer is described inside IFLA_INFO_DATA as VETH_INFO_PEER = a struct
 * ifinfomsg followed by ordinary IFLA attributes, so the peer can be created directly in
 * its target namespace (IFLA_NET_NS_FD), under its final name, MAC and MTU, in the same
 * RTM_NEWLINK as the host side: no move, no rename, and nothing left behind on a clash.
 */
import { IFF } from '../constants/if-link.js';
import { encodeLinkAttrs, validateLinkCommon, type LinkCommonOptions } from '../link-attrs.js';
import { linkKind } from '../link-kind.js';
import { IFINFOMSG } from '../structs.js';
import { ifName } from '../../validate.js';

export const VETH_INFO = {
  VETH_INFO_UNSPEC: 0,
  VETH_INFO_PEER: 1,
} as const;

export interface VethPeer extends LinkCommonOptions {
  /** The peer's name (in its namespace); the kernel picks `vethN` when absent. */
  name?: string;
  /** Bring the peer up as it is created. */
  up?: boolean;
}

export interface VethOptions {
  kind: 'veth';
  peer?: VethPeer;
}

/** The kernel reports no veth data; the peer is the link's IFLA_LINK (+ IFLA_LINK_NETNSID). */
export type VethInfo = Record<string, never>;

export const veth = linkKind<VethOptions, VethInfo>({
  kind: 'veth',
  validate(o) {
    if (o.peer === undefined) return o;
    const peer = validateLinkCommon(o.peer, 'peer.');
    if (peer.name !== undefined) peer.name = ifName('peer.name', peer.name);
    return { ...o, peer };
  },
  encodeData(w, o) {
    const peer = o.peer;
    if (peer === undefined) return;
    w.nest(VETH_INFO.VETH_INFO_PEER, (p) => {
      const up = peer.up === true ? IFF.IFF_UP : 0;
      p.raw(IFINFOMSG.encode({ flags: up, change: up }));
      encodeLinkAttrs(p, peer);
    });
  },
  decodeData: () => ({}),
});
