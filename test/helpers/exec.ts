/**
 * Running the oracle tools (`ip`, `ovs-vsctl`, `ping` …) from tests: argv arrays, never a shell.
 * The implementation is the sandbox's (src/sandbox/exec.ts); tests import it from here.
 */
export { run, must, type RunResult } from '../../src/sandbox/exec.js';
