/**
 * Checking a `transact` reply (RFC 7047 §4.1.3) so that a transaction fails loudly:
 * any op that failed, or the extra trailing error element the server appends when the
 * ops succeeded but the commit did not (e.g. a duplicate name in an indexed column),
 * becomes one NetplumbError listing every failure.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Json } from './jsonrpc.js';
import type { Row, Uuid } from './notation.js';
import type { Operation } from './ops.js';

/** One element of a successful reply; which members are present depends on the op. */
export interface OpResult {
  uuid?: Uuid;
  rows?: Row[];
  count?: number;
}

export interface OpFailure {
  /** Index of the op in the transaction; `ops.length` for the trailing commit error. */
  index: number;
  /** Op name (`insert`, `wait`…) or `commit` for the trailing error. */
  op: string;
  table?: string;
  error: string;
  details?: string;
}

/** Lets a caller give a failure a domain meaning (e.g. a failed `wait` on a bridge → NOT_FOUND). */
export type ExplainFailure = (failure: OpFailure, ops: readonly Operation[]) => NetplumbError | undefined;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function failureOf(index: number, op: Operation | undefined, el: Record<string, unknown>): OpFailure {
  const f: OpFailure = { index, op: op?.op ?? 'commit', error: String(el.error) };
  if (op && 'table' in op) f.table = op.table;
  if (typeof el.details === 'string') f.details = el.details;
  return f;
}

/** ALREADY_EXISTS for a duplicate in an indexed column, the closest taxonomy code otherwise. */
export function codeForFailure(f: OpFailure): ErrorCode {
  switch (f.error) {
    case 'constraint violation':
      return /identical values/.test(f.details ?? '') ? ErrorCode.ALREADY_EXISTS : ErrorCode.CONFLICT;
    case 'referential integrity violation':
    case 'timed out':
    case 'not owner':
    case 'aborted':
      return ErrorCode.CONFLICT;
    case 'resources exhausted':
    case 'I/O error':
      return ErrorCode.UNAVAILABLE;
    default:
      return ErrorCode.INVALID_ARGUMENT;
  }
}

export function describeFailure(f: OpFailure): string {
  const what = f.table ? `${f.op} ${f.table}` : f.op;
  return `op ${f.index} (${what}): ${f.error}${f.details ? `: ${f.details}` : ''}`;
}

/**
 * Validate the `result` of a transact reply against the ops that were sent.
 * Returns the per-op results when everything succeeded; throws otherwise.
 */
export function checkTransactResult(
  ops: readonly Operation[],
  result: Json,
  remote: string,
  explain?: ExplainFailure,
): OpResult[] {
  if (!Array.isArray(result)) {
    throw new NetplumbError(ErrorCode.PROTOCOL, `OVSDB transact reply from ${remote} is not an array`, {
      syscall: 'transact',
    });
  }
  const failures: OpFailure[] = [];
  result.forEach((el, index) => {
    if (isRecord(el) && el.error !== undefined && el.error !== null) failures.push(failureOf(index, ops[index], el));
  });
  const first = failures[0];
  if (first === undefined) {
    if (result.length !== ops.length) {
      throw new NetplumbError(
        ErrorCode.PROTOCOL,
        `OVSDB transact reply from ${remote} has ${result.length} results for ${ops.length} operations`,
        { syscall: 'transact' },
      );
    }
    for (const el of result) {
      if (!isRecord(el))
        throw new NetplumbError(
          ErrorCode.PROTOCOL,
          `OVSDB transact reply from ${remote} has a non-object result: ${JSON.stringify(el)}`,
          { syscall: 'transact' },
        );
    }
    return result as OpResult[];
  }
  const summary = failures.map(describeFailure).join('; ');
  const details = { syscall: 'transact', remote, failures, index: first.index };
  for (const f of failures) {
    const domain = explain?.(f, ops);
    if (domain) {
      Object.assign(domain.details, details, domain.details);
      throw domain;
    }
  }
  throw new NetplumbError(
    codeForFailure(first),
    `OVSDB transaction on ${remote} failed (not committed): ${summary}`,
    details,
  );
}
