/**
 * A kernel's negative answer (NLMSG_ERROR or an erroring NLMSG_DONE) as a NetplumbError:
 * `link add "h1": RTM_NEWLINK: EEXIST: <ext-ack text, or the errno's description>`.
 */
import { NetplumbError, codeForErrno, describeErrno } from '../errors.js';
import { NLA_F, NLA_HDRLEN } from './constants.js';
import { errnoName } from './errno.js';
import { messageTypeName } from './message-types.js';
import type { ExtAck } from './nlmsgerr.js';

export interface KernelErrorInput {
  /** Positive errno. */
  errno: number;
  /** The request's message type (its name becomes `syscall`). */
  type: number;
  extAck: ExtAck;
  /** The request as sent, to name the attribute at the ext-ack offset. */
  request?: Buffer;
  /** What was asked, in words (`link add "h1" (veth)`), put first in the message. */
  describe?: string;
}

/** The attribute type found at `offset` in the request, if the offset lands on an attribute header. */
function attrTypeAt(request: Buffer | undefined, offset: number | undefined): number | undefined {
  if (request === undefined || offset === undefined || offset + NLA_HDRLEN > request.length) return undefined;
  return request.readUInt16LE(offset + 2) & NLA_F.NLA_TYPE_MASK;
}

export function kernelError(e: KernelErrorInput): NetplumbError {
  const errnoCode = errnoName(e.errno);
  const syscall = messageTypeName(e.type);
  const text = e.extAck.msg !== undefined && e.extAck.msg !== '' ? e.extAck.msg : describeErrno(errnoCode);
  const prefix = e.describe !== undefined ? `${e.describe}: ` : '';
  const details: Record<string, unknown> = { errno: e.errno, errnoCode, syscall };
  if (e.extAck.msg !== undefined) details.extAck = e.extAck.msg;
  if (e.extAck.offset !== undefined) {
    details.extAckOffset = e.extAck.offset;
    const attrType = attrTypeAt(e.request, e.extAck.offset);
    if (attrType !== undefined) details.extAckAttrType = attrType;
  }
  if (e.extAck.missingType !== undefined) details.extAckMissingType = e.extAck.missingType;
  return new NetplumbError(codeForErrno(errnoCode), `${prefix}${syscall}: ${errnoCode}: ${text}`, details);
}
