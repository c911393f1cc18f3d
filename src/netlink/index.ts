/** The netlink codec and request engine (no rtnetlink semantics here). */
export { AttrWriter, type NestOptions } from './attr-writer.js';
export {
  attr,
  multiAttr,
  attrTable,
  parseAttrs,
  splitAttrs,
  dec,
  type AttrSpec,
  type AttrTable,
  type ParsedAttrs,
  type RawAttr,
  type Decoder,
} from './attr-reader.js';
export { NLMSG, NLM_F, NLMSGERR_ATTR, NLA_F, NLMSG_HDRLEN, NLA_HDRLEN, align4 } from './constants.js';
export { NetlinkEngine, type EngineOptions, type RequestOptions } from './engine.js';
export { ERRNO_NAMES, errnoName } from './errno.js';
export { encodeMessage, decodeMessages, decodeHeader, type NetlinkMessage, type NlMsgHdr } from './header.js';
export { kernelError } from './kernel-error.js';
export { RTM, messageTypeName } from './message-types.js';
export { decodeNlMsgErr, decodeDone, type ExtAck, type NlMsgErr } from './nlmsgerr.js';
export { struct, type StructCodec } from './struct.js';
export type { NetlinkTransport } from './transport.js';
