/**
 * How both commands end: results to stdout, errors to stderr (or as JSON with --json),
 * and an exit code from the error taxonomy. Logging (pino, to stderr) only when asked for
 * with NETPLUMB_LOG=debug|info|…, so a plain run loads nothing it does not need.
 */
import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';

/**
 * Write a command's output to fd 1 or 2 directly: the first use of process.stdout or
 * process.stderr builds a stream (loading net, tty and stream: ~5 ms of a 2 ms command).
 * Falls back to the stream when the descriptor is non-blocking and full (EAGAIN).
 */
function writeFd(fd: 1 | 2, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    (fd === 1 ? process.stdout : process.stderr).write(buf.subarray(off));
  }
}

/** Equivalent to process.stdout.write(text), without building the stream. */
export function writeOut(text: string): void {
  writeFd(1, text);
}

/** Equivalent to process.stderr.write(text), without building the stream. */
export function writeErr(text: string): void {
  writeFd(2, text);
}

export function cliLogger(name: string): Logger | undefined {
  const level = process.env.NETPLUMB_LOG;
  if (level === undefined || level === '') return undefined;
  // Loaded lazily: pino costs start-up time a plain run does not need.
  const pino = require('pino') as typeof import('pino');
  return pino.default({ name, level }, pino.destination(2));
}

export function asNetplumbError(e: unknown): NetplumbError {
  if (e instanceof NetplumbError) return e;
  return new NetplumbError(
    ErrorCode.INTERNAL,
    `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  );
}

/** Report a failure; returns the exit code (`pipework` exits 1 on any failure, like the original). */
export function reportError(prog: string, e: unknown, json: boolean, pipeworkExit = false): number {
  const err = asNetplumbError(e);
  if (json) writeOut(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
  else writeErr(`${prog}: ${err.message}\n`);
  return pipeworkExit ? 1 : err.exitCode;
}

export function printJson(v: unknown): void {
  writeOut(`${JSON.stringify(v)}\n`);
}
