/**
 * Pure builders for the RFC 7047 §5.2 database operations. Each returns the JSON object
 * the `transact` method carries; nothing here talks to a server.
 */
import type { Row, Value } from './notation.js';
import { invalidArgument } from '../errors.js';

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Condition = [column: string, fn: ConditionFunction, value: Value];
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = [column: string, mutator: Mutator, value: Value];

export interface InsertOp {
  op: 'insert';
  table: string;
  row: Row;
  'uuid-name'?: string;
}
export interface SelectOp {
  op: 'select';
  table: string;
  where: Condition[];
  columns?: string[];
}
export interface UpdateOp {
  op: 'update';
  table: string;
  where: Condition[];
  row: Row;
}
export interface MutateOp {
  op: 'mutate';
  table: string;
  where: Condition[];
  mutations: Mutation[];
}
export interface DeleteOp {
  op: 'delete';
  table: string;
  where: Condition[];
}
export interface WaitOp {
  op: 'wait';
  table: string;
  where: Condition[];
  columns: string[];
  until: '==' | '!=';
  rows: Row[];
  timeout?: number;
}
export interface CommitOp {
  op: 'commit';
  durable: boolean;
}
export interface AbortOp {
  op: 'abort';
}
export interface CommentOp {
  op: 'comment';
  comment: string;
}
export interface AssertOp {
  op: 'assert';
  lock: string;
}

export type Operation =
  | InsertOp
  | SelectOp
  | UpdateOp
  | MutateOp
  | DeleteOp
  | WaitOp
  | CommitOp
  | AbortOp
  | CommentOp
  | AssertOp;

const UUID_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `column == value` */
export function eq(column: string, value: Value): Condition {
  return [column, '==', value];
}

/** `column includes value` (set/map containment). */
export function includes(column: string, value: Value): Condition {
  return [column, 'includes', value];
}

export function insert(table: string, row: Row, uuidName?: string): InsertOp {
  if (uuidName === undefined) return { op: 'insert', table, row };
  if (!UUID_NAME_RE.test(uuidName))
    throw invalidArgument('uuid-name', `"${uuidName}" must match ${UUID_NAME_RE.source}`);
  return { op: 'insert', table, row, 'uuid-name': uuidName };
}

export function select(table: string, where: Condition[], columns?: string[]): SelectOp {
  return columns ? { op: 'select', table, where, columns } : { op: 'select', table, where };
}

export function update(table: string, where: Condition[], row: Row): UpdateOp {
  return { op: 'update', table, where, row };
}

export function mutate(table: string, where: Condition[], mutations: Mutation[]): MutateOp {
  return { op: 'mutate', table, where, mutations };
}

/** The `delete` operation (named `del` because `delete` is a keyword). */
export function del(table: string, where: Condition[]): DeleteOp {
  return { op: 'delete', table, where };
}

/**
 * The `wait` operation: the transaction fails ("timed out") unless the rows matching
 * `where`, projected to `columns`, are (`==`) or are not (`!=`) exactly `rows`.
 * `timeoutMs` 0 (the default here) checks once without waiting.
 */
export function wait(
  table: string,
  where: Condition[],
  columns: string[],
  until: '==' | '!=',
  rows: Row[],
  timeoutMs = 0,
): WaitOp {
  return { op: 'wait', table, where, columns, until, rows, timeout: timeoutMs };
}

export function commit(durable: boolean): CommitOp {
  return { op: 'commit', durable };
}

export function abort(): AbortOp {
  return { op: 'abort' };
}

export function comment(text: string): CommentOp {
  return { op: 'comment', comment: text };
}

export function assertLock(lock: string): AssertOp {
  return { op: 'assert', lock };
}

/** Short description of an operation for error messages: `mutate Bridge`. */
export function describeOp(op: Operation): string {
  return 'table' in op ? `${op.op} ${op.table}` : op.op;
}
