/** Assertions on NetplumbErrors. */
import * as assert from 'node:assert/strict';
import { NetplumbError, type ErrorCode } from '../../../src/errors.js';

export function isNetplumbError(code: ErrorCode, field?: string, message?: RegExp, context = ''): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof NetplumbError, `expected a NetplumbError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.details.field, field, `${context}${e.message}`);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  };
}

/** A command-line parser must refuse `argv` with INVALID_ARGUMENT naming `field`. */
export function rejectsArgv(parse: (argv: readonly string[]) => unknown, argv: readonly string[], field: string, message?: RegExp): void {
  assert.throws(() => parse(argv), isNetplumbError('INVALID_ARGUMENT', field, message, `${JSON.stringify(argv)}: `), JSON.stringify(argv));
}

/** Run `f`; it must throw a NetplumbError with `code` (and `field`). */
export function throwsCode(f: () => unknown, code: ErrorCode, field?: string): void {
  assert.throws(f, isNetplumbError(code, field));
}

/** `f()` must either return or throw a PROTOCOL NetplumbError: never anything else. */
export function parsesOrProtocolError(f: () => unknown): 'ok' | 'error' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof NetplumbError) || e.code !== 'PROTOCOL') throw new Error(`parser threw a non-PROTOCOL error: ${String(e)}`, { cause: e });
    return 'error';
  }
}
