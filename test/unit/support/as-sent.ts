/** Compare a request our builders produce with the bytes `ip` sent (same seq, pid 0). */
import * as assert from 'node:assert/strict';
import { NLM_F } from '../../../src/netlink/constants.js';
import { encodeMessage } from '../../../src/netlink/header.js';
import type { RtnlRequest } from '../../../src/rtnl/request.js';
import { hex } from '../fixtures/iproute2.js';

/** Our request as the engine would send it, with the captured message's sequence number. */
export function asSent(r: RtnlRequest, captured: string): Buffer {
  const seq = hex(captured).readUInt32LE(8);
  return encodeMessage(
    { type: r.type, flags: NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | r.flags, seq, pid: 0 },
    r.payload,
  );
}

export function assertSameBytes(r: RtnlRequest, captured: string): void {
  assert.equal(asSent(r, captured).toString('hex'), captured);
}
