/**
 * How the commands end: results to stdout, errors to stderr (or as JSON with --json), and
 * an exit code from the error taxonomy, all through the command's CommandIo. Logging (pino,
 * to the command's stderr) only when asked for with NETPLUMB_LOG=debug|info|…, so a plain
 * run loads nothing it does not need.
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import { type CommandIo, RunInCaller } from './io.js';

/** A pino logger writing to the command's stderr, when $NETPLUMB_LOG asks for one. */
export function cliLogger(io: CommandIo, name: string): Logger | undefined {
  const level = io.env.NETPLUMB_LOG;
  if (level === undefined || level === '') return undefined;
  // Loaded lazily: pino costs start-up time a plain run does not need.
  const pino = require('pino') as typeof import('pino');
  return pino.default({ name, level }, { write: (line: string) => io.stderr(line) });
}

export function asNetplumbError(e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.INTERNAL,
    `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  );
}

/**
 * Report a failure; returns the exit code (`pipework` exits 1 on any failure, like the
 * original). A RunInCaller is not a failure: it goes on up to the daemon, which hands the
 * call back to the caller.
 */
export function reportError(io: CommandIo, prog: string, e: unknown, json: boolean, pipeworkExit = false): number {
  if (e instanceof RunInCaller) throw e;
  const err = asNetplumbError(e);
  if (json) printJson(io, { ok: false, error: err.toJSON() });
  else io.stderr(`${prog}: ${err.message}\n`);
  return pipeworkExit ? 1 : err.exitCode;
}

export function printJson(io: CommandIo, v: unknown): void {
  io.stdout(`${JSON.stringify(v)}\n`);
}
