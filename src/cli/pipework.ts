/**
 * Drop-in `pipework` with the original syntax: the same forms, the same exit codes
 * (0, or 1 on any failure) and the same success output (none), with better messages.
 */
import { withCreateBridge } from '../plumb/plan.js';
import { parsePipeworkArgs, usage, type PipeworkCommand } from './pipework-args.js';
import { connectionOf } from './connection.js';
import { cliLogger, reportError } from './output.js';
import { type CommandIo, type CommandMain, openCommandEngine, ownProcessOnly } from './io.js';
import { runInProcess } from './process-io.js';
import type { NetplumbError } from '../errors.js';

const DEFAULT_WAIT_TIMEOUT_MS = 60_000;

async function run(io: CommandIo, cmd: PipeworkCommand): Promise<void> {
  if (cmd.kind === 'help') {
    io.stdout(`${usage()}\n`);
    return;
  }
  if (cmd.kind === 'wait') {
    // Run inside the container: wait until the interface is up (pipework#243: not merely present).
    ownProcessOnly(io, 'pipework --wait (it watches the namespace it runs in)');
    const { waitUp } = require('../plumb/wait-up.js') as typeof import('../plumb/wait-up.js');
    const { Rtnl } = require('../rtnl/index.js') as typeof import('../rtnl/index.js');
    const { openRouteTransport } =
      require('../netlink/native-transport.js') as typeof import('../netlink/native-transport.js');
    const rtnl = new Rtnl(openRouteTransport());
    try {
      await waitUp(rtnl, cmd.ifname, Number(io.env.PIPEWORK_WAIT_TIMEOUT_MS ?? DEFAULT_WAIT_TIMEOUT_MS));
    } finally {
      rtnl.close();
    }
    return;
  }
  const logger = cliLogger(io, 'pipework');
  const plumberOptions = { ...connectionOf(io), ...(logger ? { logger } : {}) };
  if (cmd.kind === 'passthrough') {
    // `ip route|rule` or `tc` run inside a guest: not something the daemon does for its clients.
    ownProcessOnly(io, `pipework ${cmd.tool}`);
    const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
    const plumber = Plumber.open(plumberOptions);
    try {
      await plumber.passthrough(cmd.guest, cmd.tool, cmd.args);
    } finally {
      await plumber.close();
    }
    return;
  }
  // Attach through the daemon when its socket is there and answers, else in this process
  // (PIPEWORK_NO_DAEMON=1 forces the latter).
  const engine = await openCommandEngine(io, {
    daemon: io.env.PIPEWORK_NO_DAEMON === '1' ? false : 'auto',
    plumberOptions,
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

/** `pipework ARGS…` */
export const main: CommandMain = async (io) => {
  let cmd: PipeworkCommand;
  try {
    cmd = parsePipeworkArgs(io.argv);
  } catch (e) {
    const code = reportError(io, 'pipework', e, false, true);
    if ((e as NetplumbError).details?.showUsage === true) io.stderr(`${usage()}\n`);
    return code;
  }
  try {
    await run(io, cmd);
    return 0;
  } catch (e) {
    return reportError(io, 'pipework', e, false, true);
  }
};

/** The `pipework` command in this process (bin/node-cli.js). */
export function start(argv?: readonly string[]): void {
  runInProcess(main, argv);
}
