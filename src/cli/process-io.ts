/**
 * A command in a process of its own: its CommandIo is process.argv, process.env and fds
 * 0–2, and its exit code becomes the process's. What bin/ runs when no daemon serves the
 * call (the native front door execs it) or when the front door is not installed.
 */
import { readSync, writeSync } from 'node:fs';
import { EXIT_CODES } from '../errors.js';
import type { CommandIo, CommandMain } from './io.js';

/**
 * Write to fd 1 or 2 directly: the first use of process.stdout or process.stderr builds a
 * stream (loading net, tty and stream: ~5 ms of a 2 ms command). Falls back to the stream
 * when the descriptor is non-blocking and full (EAGAIN).
 */
function writeFd(fd: 1 | 2, chunk: string | Uint8Array): void {
  const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    (fd === 1 ? process.stdout : process.stderr).write(buf.subarray(off));
  }
}

/** All of fd 0, read synchronously; through the stream when fd 0 is non-blocking (EAGAIN). */
async function readFd0(): Promise<Buffer> {
  const parts: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(parts);
      parts.push(Buffer.from(buf.subarray(0, n)));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** This process's CommandIo. */
export function processIo(argv: readonly string[] = process.argv.slice(2)): CommandIo {
  let stdin: Promise<Buffer> | undefined;
  return {
    argv,
    env: process.env,
    readStdin: () => {
      stdin ??= readFd0();
      return stdin;
    },
    stdout: (chunk) => writeFd(1, chunk),
    stderr: (chunk) => writeFd(2, chunk),
  };
}

/** Run `main` on this process's CommandIo; its exit code becomes the process's. */
export function runInProcess(main: CommandMain, argv?: readonly string[]): void {
  main(processIo(argv)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      // A command reports its own failures; this is a bug in it.
      writeFd(2, `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT_CODES.INTERNAL;
    },
  );
}
