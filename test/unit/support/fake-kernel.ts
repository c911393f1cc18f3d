/**
 * An in-memory kernel peer for the request engine: records what is sent (one entry per
 * `send` call) and answers through a programmable handler, asynchronously, like a socket.
 */
import type { NetplumbError } from '../../../src/errors.js';
import { NLMSG, NLM_F } from '../../../src/netlink/constants.js';
import { decodeMessages, encodeMessage, type NetlinkMessage } from '../../../src/netlink/header.js';
import type { NetlinkTransport } from '../../../src/netlink/transport.js';

export type Handler = (req: NetlinkMessage, kernel: FakeKernel) => Buffer[] | undefined;

export class FakeKernel implements NetlinkTransport {
  readonly portId: number;
  onData: ((datagrams: Buffer[]) => void) | null = null;
  onError: ((err: NetplumbError) => void) | null = null;
  /** Every `send` call's datagrams. */
  readonly sends: Buffer[][] = [];
  closed = false;
  /** Every setActive call, in order. */
  readonly activity: boolean[] = [];
  handler: Handler | undefined;
  sendError: Error | undefined;

  constructor(portId = 4242, handler?: Handler) {
    this.portId = portId;
    this.handler = handler;
  }

  /** Every request sent so far, decoded. */
  get requests(): NetlinkMessage[] {
    return this.sends.flat().flatMap((d) => decodeMessages(d));
  }

  async send(datagrams: Buffer[]): Promise<void> {
    this.sends.push(datagrams);
    if (this.sendError !== undefined) throw this.sendError;
    const replies: Buffer[] = [];
    for (const d of datagrams) {
      for (const m of decodeMessages(d)) replies.push(...(this.handler?.(m, this) ?? []));
    }
    if (replies.length > 0) setImmediate(() => this.deliver(...replies));
  }

  deliver(...datagrams: Buffer[]): void {
    this.onData?.(datagrams);
  }

  setActive(active: boolean): void {
    this.activity.push(active);
  }

  close(): void {
    this.closed = true;
  }

  /** A reply message to `req`, addressed to our port. */
  reply(req: NetlinkMessage, type: number, payload: Uint8Array, flags = 0): Buffer {
    return encodeMessage({ type, flags, seq: req.seq, pid: this.portId }, payload);
  }

  /** NLMSG_ERROR with error 0 (capped: only the request header). */
  ack(req: NetlinkMessage): Buffer {
    return this.reply(req, NLMSG.NLMSG_ERROR, nlmsgerrPayload(0, req, true), NLM_F.NLM_F_CAPPED);
  }

  /** NLMSG_ERROR with -errno, the full request echoed, and an optional ext-ack message. */
  error(req: NetlinkMessage, errno: number, extAck?: string, offset?: number): Buffer {
    const tlvs: Buffer[] = [];
    if (extAck !== undefined) tlvs.push(tlv(1, Buffer.from(`${extAck}\0`)));
    if (offset !== undefined) tlvs.push(tlv(2, u32(offset)));
    const flags = tlvs.length > 0 ? NLM_F.NLM_F_ACK_TLVS : 0;
    return this.reply(req, NLMSG.NLMSG_ERROR, Buffer.concat([nlmsgerrPayload(-errno, req, false), ...tlvs]), flags);
  }

  /** NLMSG_DONE with status 0. */
  done(req: NetlinkMessage, flags: number = NLM_F.NLM_F_MULTI): Buffer {
    return this.reply(req, NLMSG.NLMSG_DONE, u32(0), flags);
  }
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

export function tlv(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

function nlmsgerrPayload(error: number, req: NetlinkMessage, capped: boolean): Buffer {
  const echoed = encodeMessage(req, ...(capped ? [] : [req.payload]));
  if (capped) echoed.writeUInt32LE(16 + req.payload.length, 0);
  const e = Buffer.alloc(4);
  e.writeInt32LE(error);
  return Buffer.concat([e, echoed]);
}

/** Let pending immediates (the engine's flush, the fake's replies) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
