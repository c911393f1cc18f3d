/**
 * The front door's framing: how the native front door (native/front.c) hands a command to
 * the daemon on the daemon's own socket, beside JSON-RPC. Told apart by its first byte,
 * NUL, which no JSON-RPC line begins with. No JSON on this path: the front door parses
 * nothing beyond these frames.
 *
 *   caller → daemon:  FRONT_MAGIC ("\0netplumb-front 1\n": the framing and its version; a
 *                     daemon without it answers the line with a JSON-RPC error, and the
 *                     caller then runs the command itself), then frames
 *   every frame:      TYPE (1 byte) · LENGTH (u32, big-endian) · PAYLOAD (LENGTH bytes)
 *
 *   caller → daemon   'P' program name (netplumb, pipework, netplumb-cni)       first, once
 *                     'A' one argument, in order
 *                     'V' one variable of the environment, NAME=VALUE (only those netplumb
 *                         reads: NETPLUMB_*, PIPEWORK_*, OVS_*, OVN_*, CNI_*, DOCKER_HOST)
 *                     'G' the request is complete (empty)
 *                     'I' a chunk of standard input          only after the daemon's 'i'
 *                     'Z' end of standard input (empty)
 *   daemon → caller   's' the call is taken (empty): a hang-up from here on means the
 *                         daemon died during the call; before it, nothing was run
 *                     'o' a chunk of standard output      'e' a chunk of standard error
 *                     'i' send standard input now (empty): only a command that reads it asks
 *                     'x' the exit status (1 byte); the last frame
 *                     'n' not served here (a reason, UTF-8): nothing was done, the caller
 *                         runs the command itself; the last frame
 *
 * Pure: no I/O.
 */

export const FRONT_MAGIC = Buffer.from('\0netplumb-front 1\n', 'latin1');
const HEADER_BYTES = 5;

/** Frames the caller sends. */
export const CallerFrame = {
  PROGRAM: 0x50, // 'P'
  ARG: 0x41, // 'A'
  VAR: 0x56, // 'V'
  GO: 0x47, // 'G'
  STDIN: 0x49, // 'I'
  STDIN_END: 0x5a, // 'Z'
} as const;

/** Frames the daemon sends. */
export const DaemonFrame = {
  TAKEN: 0x73, // 's'
  STDOUT: 0x6f, // 'o'
  STDERR: 0x65, // 'e'
  READ_STDIN: 0x69, // 'i'
  EXIT: 0x78, // 'x'
  NOT_HERE: 0x6e, // 'n'
} as const;

export interface Frame {
  type: number;
  payload: Buffer;
}

/** One frame on the wire. */
export function frame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = type;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Splits the caller's byte stream into its magic and frames, whatever the chunking.
 * `push` returns the frames completed by `chunk`, 'not-framing' when the stream does not
 * begin with FRONT_MAGIC, or 'overflow' when a frame announces more than `maxFrameBytes`
 * (nothing more of the stream can be trusted). The totals are the caller's to bound.
 */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #magicSeen = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Frame[] | 'not-framing' | 'overflow' {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (!this.#magicSeen) {
      const n = Math.min(this.#buf.length, FRONT_MAGIC.length);
      if (!this.#buf.subarray(0, n).equals(FRONT_MAGIC.subarray(0, n))) return 'not-framing';
      if (n < FRONT_MAGIC.length) return [];
      this.#magicSeen = true;
      this.#buf = this.#buf.subarray(FRONT_MAGIC.length);
    }
    const frames: Frame[] = [];
    while (this.#buf.length >= HEADER_BYTES) {
      const length = this.#buf.readUInt32BE(1);
      if (length > this.maxFrameBytes) return 'overflow';
      if (this.#buf.length < HEADER_BYTES + length) break;
      frames.push({ type: this.#buf[0] as number, payload: this.#buf.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.#buf = this.#buf.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}
