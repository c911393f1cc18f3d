/**
 * How both commands end: results to stdout, errors to stderr (or as JSON with --json),
 * and an exit code from the error taxonomy. Logging (pino, to stderr) only when asked for
 * with NETPLUMB_LOG=debug|info|…, so a plain run loads nothing it does not need.
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';

export function cliLogger(name: string): Logger | undefined {
  const level = process.env.NETPLUMB_LOG;
  if (level === undefined || level === '') return undefined;
  // Loaded lazily: pino costs start-up time a plain run does not need.
  const pino = require('pino') as typeof import('pino');
  return pino.default({ name, level }, pino.destination(2));
}

export function asNetplumbError(e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(ErrorCode.INTERNAL, `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

/** Report a failure; returns the exit code (`pipework` exits 1 on any failure, like the original). */
export function reportError(prog: string, e: unknown, json: boolean, pipeworkExit = false): number {
  const err = asNetplumbError(e);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
  else process.stderr.write(`${prog}: ${err.message}\n`);
  return pipeworkExit ? 1 : err.exitCode;
}

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}
