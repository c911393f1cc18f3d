/**
 * Parse failures: every malformed, truncated or garbled netlink input becomes a
 * `NetplumbError(PROTOCOL)`, never a partial result and never a stray RangeError.
 */
import { ErrorCode, NetplumbError } from '../errors.js';

/** A typed parse error: `what` names the structure, `reason` what was wrong with it. */
export function parseError(what: string, reason: string, details: Record<string, unknown> = {}): NetplumbError {
  return new NetplumbError(ErrorCode.PROTOCOL, `malformed netlink ${what}: ${reason}`, {
    syscall: 'netlink parse',
    what,
    ...details,
  });
}

/** Throw unless `buf` holds at least `need` bytes from `offset`. */
export function need(buf: Uint8Array, offset: number, need: number, what: string): void {
  if (offset < 0 || need < 0 || offset + need > buf.length) {
    throw parseError(
      what,
      `needs ${need} bytes at offset ${offset}, only ${Math.max(0, buf.length - offset)} available`,
      { offset },
    );
  }
}

/**
 * Run a parser; anything it throws that is not already a NetplumbError (RangeError from a
 * Buffer read, TypeError from a decoder bug, a TextDecoder failure) becomes a parse error.
 */
export function guardParse<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw asParseError(what, e);
  }
}

/** `e` as a parse error of `what`: a NetplumbError as it is, anything else wrapped (its cause kept). */
export function asParseError(what: string, e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.PROTOCOL,
    `malformed netlink ${what}: ${e instanceof Error ? e.message : String(e)}`,
    { syscall: 'netlink parse', what },
    { cause: e },
  );
}
