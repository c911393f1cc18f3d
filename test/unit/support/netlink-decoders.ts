/** Every netlink decoder by the message type it reads, for tests that feed them real, cut or mutated messages. */
import { decodeMessages, type NetlinkMessage } from '../../../src/netlink/header.js';
import { decodeDone, decodeNlMsgErr } from '../../../src/netlink/nlmsgerr.js';
import { decodeAddress } from '../../../src/rtnl/address.js';
import { decodeLink } from '../../../src/rtnl/link-decode.js';
import { decodeRoute } from '../../../src/rtnl/route.js';
import { decodeRule } from '../../../src/rtnl/rule.js';

export const DECODERS: Readonly<Record<number, (m: NetlinkMessage) => unknown>> = {
  2: decodeNlMsgErr,
  3: decodeDone,
  16: decodeLink,
  20: decodeAddress,
  24: decodeRoute,
  32: decodeRule,
};

/** Split a datagram and decode each message with the decoder of its type (others are skipped). */
export function decodeAny(datagram: Buffer): void {
  for (const m of decodeMessages(datagram)) DECODERS[m.type]?.(m);
}
