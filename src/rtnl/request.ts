/**
 * A request as the verbs build it: pure data, built before anything is sent, so that
 * it can be compared byte for byte with what `ip` sends.
 */
import type { AttrWriter } from '../netlink/attr-writer.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NetlinkMessage } from '../netlink/header.js';

export interface RtnlRequest {
  type: number;
  /** Extra nlmsg_flags (NLM_F_CREATE|NLM_F_EXCL…); the engine adds REQUEST and ACK. */
  flags: number;
  payload: Buffer;
  /** What is asked, in words, for error messages. */
  describe: string;
}

/** A fixed header followed by attributes. */
export function payload(header: Buffer, attrs?: AttrWriter): Buffer {
  return attrs === undefined || attrs.isEmpty ? header : Buffer.concat([header, attrs.encode()]);
}

export function send(engine: NetlinkEngine, r: RtnlRequest): Promise<NetlinkMessage[]> {
  return engine.request(r.type, r.payload, { flags: r.flags, describe: r.describe });
}

export function dump(engine: NetlinkEngine, r: RtnlRequest): Promise<NetlinkMessage[]> {
  return engine.dump(r.type, r.payload, { flags: r.flags, describe: r.describe });
}
