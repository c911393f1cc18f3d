/**
 * NLMSG_ERROR (ACKs and errors) and NLMSG_DONE payloads, with extended ACK attributes.
 *
 * NLMSG_ERROR payload: s32 error | the request's nlmsghdr | the request's payload (absent
 * when NLM_F_CAPPED) | NLMSGERR_ATTR_* TLVs (when NLM_F_ACK_TLVS).
 * NLMSG_DONE payload:  s32 error | NLMSGERR_ATTR_* TLVs (when NLM_F_ACK_TLVS).
 */
import { NLMSGERR_ATTR, NLM_F, NLMSG_HDRLEN, align4 } from './constants.js';
import { attr, attrTable, dec, parseAttrs, type RawAttr } from './attr-reader.js';
import { decodeHeader, type NetlinkMessage, type NlMsgHdr } from './header.js';
import { guardParse, parseError } from './parse-error.js';

const {
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSGERR_ATTR_COOKIE,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MISS_NEST,
} = NLMSGERR_ATTR;

const EXT_ACK = attrTable('NLMSGERR_ATTR', {
  [NLMSGERR_ATTR_MSG]: attr('msg', dec.string),
  [NLMSGERR_ATTR_OFFS]: attr('offset', dec.u32),
  [NLMSGERR_ATTR_COOKIE]: attr('cookie', dec.bytes),
  [NLMSGERR_ATTR_MISS_TYPE]: attr('missingType', dec.u32),
  [NLMSGERR_ATTR_MISS_NEST]: attr('missingNestOffset', dec.u32),
});

/** The kernel's extended ACK: a human-readable reason and where in the request it applies. */
export interface ExtAck {
  msg?: string;
  /** Byte offset, from the start of the request's nlmsghdr, of the offending attribute. */
  offset?: number;
  cookie?: Buffer;
  missingType?: number;
  missingNestOffset?: number;
  unknown: RawAttr[];
}

export interface NlMsgErr {
  /** 0 for an ACK, else a negative errno. */
  error: number;
  /** The header of the request this answers. */
  request: NlMsgHdr & { len: number };
  extAck: ExtAck;
}

function decodeExtAck(tlvs: Buffer, present: boolean): ExtAck {
  return present && tlvs.length > 0 ? parseAttrs(tlvs, EXT_ACK) : { unknown: [] };
}

export function decodeNlMsgErr(msg: NetlinkMessage): NlMsgErr {
  return guardParse('NLMSG_ERROR', () => {
    const p = msg.payload;
    if (p.length < 4 + NLMSG_HDRLEN)
      throw parseError('NLMSG_ERROR', `payload of ${p.length} bytes is shorter than struct nlmsgerr (20)`);
    const error = p.readInt32LE(0);
    if (error > 0) throw parseError('NLMSG_ERROR', `positive error ${error}`);
    const request = decodeHeader(p, 4);
    let tlvStart = 4 + NLMSG_HDRLEN;
    if ((msg.flags & NLM_F.NLM_F_CAPPED) === 0 && error !== 0) {
      if (request.len < NLMSG_HDRLEN)
        throw parseError('NLMSG_ERROR', `echoed request length ${request.len} is shorter than a header`);
      tlvStart = 4 + align4(request.len);
    }
    if (tlvStart > p.length) {
      // Without CAPPED the whole request should be echoed; an ACK (error 0) never echoes it.
      throw parseError('NLMSG_ERROR', `echoed request (${request.len} bytes) runs past the payload (${p.length - 4})`);
    }
    return { error, request, extAck: decodeExtAck(p.subarray(tlvStart), (msg.flags & NLM_F.NLM_F_ACK_TLVS) !== 0) };
  });
}

/** NLMSG_DONE: the dump's final status (0 or a negative errno) and any extended ACK. */
export function decodeDone(msg: NetlinkMessage): { error: number; extAck: ExtAck } {
  return guardParse('NLMSG_DONE', () => {
    const p = msg.payload;
    // Some families send an empty DONE; rtnetlink sends the status.
    if (p.length === 0) return { error: 0, extAck: { unknown: [] } };
    if (p.length < 4) throw parseError('NLMSG_DONE', `payload of ${p.length} bytes is shorter than its status (4)`);
    const error = p.readInt32LE(0);
    if (error > 0) throw parseError('NLMSG_DONE', `positive error ${error}`);
    return { error, extAck: decodeExtAck(p.subarray(4), (msg.flags & NLM_F.NLM_F_ACK_TLVS) !== 0) };
  });
}
