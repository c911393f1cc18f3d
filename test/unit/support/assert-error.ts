/** Assertions on NetplumbErrors. */
import * as assert from 'node:assert/strict';
import { NetplumbError, type ErrorCode } from '../../../src/errors.js';

export function isNetplumbError(
  code: ErrorCode,
  field?: string,
  message?: RegExp,
  context = '',
): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof NetplumbError, `expected a NetplumbError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.details.field, field, `${context}${e.message}`);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  };
}

/** A command-line parser must refuse `argv` with INVALID_ARGUMENT naming `field`. */
export function rejectsArgv(
  parse: (argv: readonly string[]) => unknown,
  argv: readonly string[],
  field: string,
  message?: RegExp,
): void {
  assert.throws(
    () => parse(argv),
    isNetplumbError('INVALID_ARGUMENT', field, message, `${JSON.stringify(argv)}: `),
    JSON.stringify(argv),
  );
}

/** Run `f`; it must throw a NetplumbError with `code` (and `field`). */
export function throwsCode(f: () => unknown, code: ErrorCode, field?: string): void {
  assert.throws(f, isNetplumbError(code, field));
}

/**
 * `f()` must either return or throw a NetplumbError with one of `codes`: never another
 * error, never a NetplumbError wrapping a TypeError or ReferenceError (a parser bug turned
 * into a parse error by a guard), never a promise (nothing may be left to fail later). An
 * INVALID_ARGUMENT must name its field.
 */
export function returnsOrThrows(f: () => unknown, codes: ErrorCode | readonly ErrorCode[]): 'ok' | 'error' {
  const allowed: readonly ErrorCode[] = typeof codes === 'string' ? [codes] : codes;
  let result: unknown;
  try {
    result = f();
  } catch (e) {
    if (!(e instanceof NetplumbError) || !allowed.includes(e.code))
      throw new Error(`expected a NetplumbError (${allowed.join(' or ')}), got ${String(e)}`, { cause: e });
    if (e.cause instanceof TypeError || e.cause instanceof ReferenceError)
      throw new Error(`a ${e.cause.name} was reported as ${e.code}: ${e.message}`, { cause: e });
    if (e.code === 'INVALID_ARGUMENT' && typeof e.details.field !== 'string')
      throw new Error(`INVALID_ARGUMENT without a field: ${e.message}`, { cause: e });
    return 'error';
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function')
    throw new Error('returned a promise: a failure could escape as an unhandled rejection');
  return 'ok';
}

/** `f()` must either return or throw a PROTOCOL NetplumbError: never anything else. */
export function parsesOrProtocolError(f: () => unknown): 'ok' | 'error' {
  return returnsOrThrows(f, 'PROTOCOL');
}
