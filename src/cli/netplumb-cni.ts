/**
 * `netplumb-cni`, the CNI plugin's entry: its CommandMain is `cniMain` of ../cni/main.ts,
 * loaded when the plugin runs.
 *
 * Like netplumb and pipework, `cniMain` sees only its CommandIo: CNI_* and the rest from
 * `io.env`, the network configuration from `io.readStdin()`, its result through
 * `io.stdout`, and its engine from `openCommandEngine(io, …)` (./io.ts), so that the front
 * door's call runs it inside the daemon, on the daemon's engine.
 */
import type { CommandMain } from './io.js';
import { runInProcess } from './process-io.js';

/**
 * `netplumb-cni` (CNI_COMMAND and the rest in the environment, the network configuration on
 * stdin). The plugin is loaded on its first call, by a literal path: the daemon's bundle
 * serves it from the same modules as the engine (one NetplumbError, one RunInCaller).
 */
export const main: CommandMain = (io) => (require('../cni/main.js') as typeof import('../cni/main.js')).cniMain(io);

/** The `netplumb-cni` command in this process (bin/node-cli.js). */
export function start(argv?: readonly string[]): void {
  runInProcess(main, argv);
}
