/**
 * veth: a pair. The peer is described inside IFLA_INFO_DATA as VETH_INFO_PEER = a struct
 * ifinfomsg followed by ordinary IFLA attributes, so the peer can be created directly in
 * its target namespace (IFLA_NET_NS_FD), under its final name, MAC and MTU, in the same
 * RTM_NEWLINK as the host side: no move, no rename, and nothing left behind on a clash.
 */
import { invalidArgument } from '../../errors.js';
import { encodeLinkAttrs, validateLinkCommon, type LinkCommonOptions } from '../link-attrs.js';
import { linkKind } from '../link-kind.js';
import { IFINFOMSG } from '../structs.js';
import { ifName } from '../../validate.js';

export const VETH_INFO = {
  VETH_INFO_UNSPEC: 0,
  VETH_INFO_PEER: 1,
} as const;

/**
 * The peer's attributes. It cannot be created up (the kernel opens it before the pair is
 * joined: ENOTCONN) nor with an alias (IFLA_IFALIAS is ignored on creation, and the peer
 * may be in a namespace this socket does not reach): set those afterwards, in its namespace.
 */
export interface VethPeer extends Omit<LinkCommonOptions, 'alias'> {
  /** The peer's name (in its namespace); the kernel picks `vethN` when absent. */
  name?: string;
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
    for (const field of ['up', 'alias']) {
      if (field in o.peer)
        throw invalidArgument(
          `peer.${field}`,
          `cannot be given when the veth is created; set it afterwards in the peer's namespace`,
        );
    }
    if (peer.name !== undefined) peer.name = ifName('peer.name', peer.name);
    return { ...o, peer };
  },
  encodeData(w, o) {
    const peer = o.peer;
    if (peer === undefined) return;
    w.nest(VETH_INFO.VETH_INFO_PEER, (p) => {
      p.raw(IFINFOMSG.encode({}));
      encodeLinkAttrs(p, peer);
    });
  },
  decodeData: () => ({}),
});
