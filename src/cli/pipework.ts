/**
 * Drop-in `pipework` with the original syntax: the same forms, the same exit codes
 * (0, or 1 on any failure) and the same success output (none), with better messages.
 */
import { withCreateBridge } from '../plumb/plan.js';
import { parsePipeworkArgs, usage, type PipeworkCommand } from './pipework-args.js';
import { cliLogger, reportError, writeErr, writeOut } from './output.js';
import type { NetplumbError } from '../errors.js';

const WAIT_TIMEOUT_MS = Number(process.env.PIPEWORK_WAIT_TIMEOUT_MS ?? 60_000);

async function run(cmd: PipeworkCommand): Promise<void> {
  if (cmd.kind === 'help') {
    writeOut(`${usage()}\n`);
    return;
  }
  if (cmd.kind === 'wait') {
    // Run inside the container: wait until the interface is up (pipework#243: not merely present).
    const { waitUp } = require('../plumb/wait-up.js') as typeof import('../plumb/wait-up.js');
    const { Rtnl } = require('../rtnl/index.js') as typeof import('../rtnl/index.js');
    const { openRouteTransport } =
      require('../netlink/native-transport.js') as typeof import('../netlink/native-transport.js');
    const rtnl = new Rtnl(openRouteTransport());
    try {
      await waitUp(rtnl, cmd.ifname, WAIT_TIMEOUT_MS);
    } finally {
      rtnl.close();
    }
    return;
  }
  const logger = cliLogger('pipework');
  if (cmd.kind === 'passthrough') {
    const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
    const plumber = Plumber.open(logger ? { logger } : {});
    try {
      await plumber.passthrough(cmd.guest, cmd.tool, cmd.args);
    } finally {
      await plumber.close();
    }
    return;
  }
  // Attach through the daemon when its socket is there and answers, else in this process
  // (PIPEWORK_NO_DAEMON=1 forces the latter). Loaded with require() and only now: in this
  // CommonJS build `await import()` would go through the ESM loader, ~70 ms of CPU.
  const { openEngine } = require('../engine/open.js') as typeof import('../engine/open.js');
  const engine = await openEngine({
    daemon: process.env.PIPEWORK_NO_DAEMON === '1' ? false : 'auto',
    plumberOptions: logger ? { logger } : {},
  });
  logger?.debug({ via: engine.via }, 'engine');
  try {
    const spec = cmd.spec;
    // pipework creates `br*` (Linux) and `ovs*` (Open vSwitch) bridges that do not exist yet.
    const createBridge = spec.host.startsWith('br') || spec.host.startsWith('ovs');
    await engine.attach(createBridge ? withCreateBridge(spec) : spec);
  } finally {
    await engine.close();
  }
}

export function main(argv: string[]): void {
  let cmd: PipeworkCommand;
  try {
    cmd = parsePipeworkArgs(argv);
  } catch (e) {
    process.exitCode = reportError('pipework', e, false, true);
    if ((e as NetplumbError).details?.showUsage === true) writeErr(`${usage()}\n`);
    return;
  }
  run(cmd).then(
    () => undefined,
    (e: unknown) => {
      process.exitCode = reportError('pipework', e, false, true);
    },
  );
}
