/**
 * A daemon (startDaemon, the real server, listener and front-door module) whose front door
 * serves test programs under the three names, for what the real commands cannot show: a
 * command that reads stdin, one that writes megabytes, one that never ends (to kill the
 * daemon under it), one that hands the call back after reading stdin, one that prints the
 * environment it was given. Each behaves by its first argument.
 *
 *   node front-door-daemon.js --serve SOCKET OVSDB     (SIGTERM: graceful stop)
 *
 * Without --serve it does nothing: `node --test dist/test/` runs every file under test/.
 */
import pino from 'pino';
import { type CommandMain, RunInCaller } from '../../../src/cli/io.js';
import { startDaemon } from '../../../src/daemon/server.js';

/** The byte at offset i of the `big` command's stdout: a pattern that shows a lost or moved chunk. */
export function bigByte(i: number): number {
  return (i * 7 + (i >> 12)) & 0xff;
}

/** The stderr line the `big` command writes after chunk k. */
export function bigErrLine(k: number): string {
  return `chunk ${k}\n`;
}

const testProgram: CommandMain = async (io) => {
  const [what, arg] = io.argv;
  switch (what) {
    case 'echo-stdin': {
      const input = await io.readStdin();
      io.stdout(`${input.length}:`);
      io.stdout(input);
      return 3;
    }
    case 'no-stdin':
      io.stdout('done\n');
      return 0;
    case 'env':
      io.stdout(`${Object.keys(io.env).sort().join('\n')}\n`);
      return 0;
    case 'big': {
      const chunks = Number(arg);
      for (let k = 0; k < chunks; k++) {
        const chunk = Buffer.alloc(4096);
        for (let j = 0; j < chunk.length; j++) chunk[j] = bigByte(k * 4096 + j);
        io.stdout(chunk);
        io.stderr(bigErrLine(k));
      }
      return 0;
    }
    case 'hang':
      io.stdout('started\n');
      return new Promise<number>(() => undefined);
    case 'hang-quietly':
      io.stderr('started\n');
      return new Promise<number>(() => undefined);
    case 'stdin-then-back':
      await io.readStdin();
      throw new RunInCaller('a test call handed back after reading its input');
    default:
      io.stderr(`no test call ${JSON.stringify(what)}\n`);
      return 2;
  }
};

async function main(socketPath: string, ovsDb: string): Promise<void> {
  const logger = pino({ level: 'debug' }, pino.destination({ fd: 2, sync: true }));
  const programs = { netplumb: () => testProgram, pipework: () => testProgram, 'netplumb-cni': () => testProgram };
  const daemon = await startDaemon({ socketPath, plumberOptions: { ovsDb }, programs, logger });
  process.once('SIGTERM', () => void daemon.close());
}

const [flag, socketPath, ovsDb] = process.argv.slice(2);
if (require.main === module && flag === '--serve' && socketPath !== undefined && ovsDb !== undefined)
  main(socketPath, ovsDb).catch((e: unknown) => {
    process.stderr.write(`front-door-daemon: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
