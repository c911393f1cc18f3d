/**
 * Byte-level splitter for a stream of concatenated JSON texts with no delimiter
 * (how OVSDB frames JSON-RPC messages, RFC 7047 §3.1 / JSON-RPC 1.0 over a stream).
 *
 * It tracks only what is needed to find where a top-level object or array ends:
 * nesting depth, "inside a string" and "after a backslash". UTF-8 continuation bytes
 * are all >= 0x80, so they never look like a structural character and a split in the
 * middle of a multi-byte character is harmless: bytes are only decoded once a text is
 * complete, with a fatal UTF-8 decoder.
 */
import { ErrorCode, NetplumbError } from '../errors.js';

export interface JsonSplitterOptions {
  /** Largest accepted text, in bytes (default 64 MiB). */
  maxMessageBytes?: number;
  /** Deepest accepted nesting of objects/arrays (default 128). */
  maxDepth?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function protocolError(message: string, details: Record<string, unknown> = {}): NetplumbError {
  return new NetplumbError(ErrorCode.PROTOCOL, `malformed JSON from OVSDB peer: ${message}`, {
    syscall: 'read',
    ...details,
  });
}

export class JsonStreamSplitter {
  private readonly maxMessageBytes: number;
  private readonly maxDepth: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Bytes of the current, incomplete text from earlier chunks. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Set once a malformed input was seen: the stream cannot be resynchronised. */
  private broken: NetplumbError | null = null;

  constructor(opts: JsonSplitterOptions = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? 64 * 1024 * 1024;
    this.maxDepth = opts.maxDepth ?? 128;
  }

  /** Bytes held for an incomplete text. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Feed bytes; returns every JSON value completed by them, in order.
   * Throws a PROTOCOL NetplumbError on malformed, oversized or too-deep input; after
   * that the splitter stays broken (the caller must drop the connection).
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.broken) throw this.broken;
    try {
      return this.scan(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      this.broken = e instanceof NetplumbError ? e : protocolError(String(e));
      this.pending = [];
      this.pendingBytes = 0;
      throw this.broken;
    }
  }

  private scan(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    let start = this.depth > 0 ? 0 : -1; // start of the current text within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.depth === 0) {
        if (isJsonWhitespace(b)) continue;
        if (b !== OPEN_BRACE && b !== OPEN_BRACKET) {
          throw protocolError(`expected '{' or '[' to start a message, got byte 0x${b.toString(16).padStart(2, '0')}`);
        }
        start = i;
        this.depth = 1;
        continue;
      }
      // Every byte of a text is counted before it can complete the text (inside strings too).
      if (this.pendingBytes + (i - start + 1) > this.maxMessageBytes) this.tooBig();
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (++this.depth > this.maxDepth)
          throw protocolError(`nesting deeper than ${this.maxDepth} levels`, { maxDepth: this.maxDepth });
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--this.depth === 0) {
          out.push(this.complete(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxMessageBytes) this.tooBig();
    }
    return out;
  }

  private tooBig(): never {
    throw protocolError(`message larger than ${this.maxMessageBytes} bytes`, { maxMessageBytes: this.maxMessageBytes });
  }

  private complete(tail: Buffer): unknown {
    const bytes = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw protocolError('invalid UTF-8');
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw protocolError((e as Error).message, { excerpt: text.slice(0, 80) });
    }
  }
}
