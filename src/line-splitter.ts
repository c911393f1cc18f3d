/**
 * Newline-delimited framing with a bound: the daemon's protocol (both ends) and the
 * container engine's event stream read their messages through it.
 *
 * Splits a byte stream into newline-terminated messages, holding at most `maxBytes` of an
 * unfinished one. `push` returns the complete messages (without the newline), or
 * 'overflow' once a message is longer than the limit (the caller closes the connection).
 */
export class LineSplitter {
  #parts: Buffer[] = [];
  #size = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held of the message not yet terminated. */
  get pending(): number {
    return this.#size;
  }

  push(chunk: Buffer): string[] | 'overflow' {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.#size + (nl - start) > this.maxBytes) return 'overflow';
      const piece = chunk.subarray(start, nl);
      const whole = this.#size === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#size = 0;
      const text = whole.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') lines.push(text);
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.#size + rest > this.maxBytes) return 'overflow';
      this.#parts.push(chunk.subarray(start));
      this.#size += rest;
    }
    return lines;
  }
}
