/**
 * `netplumb-cni`, the CNI plugin's entry: its CommandMain is `cniMain` of ../cni/main.ts,
 * loaded when the plugin runs. In a build without that module the plugin says so.
 *
 * Like netplumb and pipework, `cniMain` sees only its CommandIo: CNI_* and the rest from
 * `io.env`, the network configuration from `io.readStdin()`, its result through
 * `io.stdout`, and its engine from `openCommandEngine(io, …)` (./io.ts), so that the front
 * door's call runs it inside the daemon, on the daemon's engine.
 */
import { EXIT_CODES } from '../errors.js';
import type { CommandIo, CommandMain } from './io.js';
import { runInProcess } from './process-io.js';

/** Where the plugin lives, relative to this module. */
const CNI_MAIN = '../cni/main.js';

function cniMain(io: CommandIo): CommandMain | undefined {
  try {
    return (require(CNI_MAIN) as { cniMain: CommandMain }).cniMain;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    io.stderr('netplumb-cni: the CNI plugin is not available in this build of netplumb\n');
    return undefined;
  }
}

/** `netplumb-cni` (CNI_COMMAND and the rest in the environment, the network configuration on stdin). */
export const main: CommandMain = async (io) => {
  const run = cniMain(io);
  return run === undefined ? EXIT_CODES.UNSUPPORTED : run(io);
};

/** The `netplumb-cni` command in this process (bin/node-cli.js). */
export function start(argv?: readonly string[]): void {
  runInProcess(main, argv);
}
