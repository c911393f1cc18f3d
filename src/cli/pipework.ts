/**
 * Drop-in `pipework` with the original syntax: the same forms, the same exit codes
 * (0, or 1 on any failure) and the same success output (none), with better messages.
 */
import { parsePipeworkArgs, usage, type PipeworkCommand } from './pipework-args.js';
import { cliLogger, reportError } from './output.js';
import type { NetplumbError } from '../errors.js';

const WAIT_TIMEOUT_MS = Number(process.env.PIPEWORK_WAIT_TIMEOUT_MS ?? 60_000);

async function run(cmd: PipeworkCommand): Promise<void> {
  if (cmd.kind === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  // Loaded only now, and with require(): in this CommonJS build `await import()` would go
  // through the ESM loader (its own start-up and a source scan of each module), ~70 ms of CPU.
  const { Plumber, waitUp } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
  if (cmd.kind === 'wait') {
    // Run inside the container: wait until the interface is up (pipework#243: not merely present).
    const { Rtnl } = require('../rtnl/index.js') as typeof import('../rtnl/index.js');
    const { openRouteTransport } = require('../netlink/native-transport.js') as typeof import('../netlink/native-transport.js');
    const rtnl = new Rtnl(openRouteTransport());
    try {
      await waitUp(rtnl, cmd.ifname, WAIT_TIMEOUT_MS);
    } finally {
      rtnl.close();
    }
    return;
  }
  const logger = cliLogger('pipework');
  const plumber = Plumber.open(logger ? { logger } : {});
  try {
    if (cmd.kind === 'passthrough') {
      await plumber.passthrough(cmd.guest, cmd.tool, cmd.args);
      return;
    }
    const spec = cmd.spec;
    // pipework creates `br*` (Linux) and `ovs*` (Open vSwitch) bridges that do not exist yet.
    const createBridge = spec.host.startsWith('br') || spec.host.startsWith('ovs');
    // (On an IPoIB host `@VID` would be a hex partition key; IPoIB attachments are not supported yet.)
    await plumber.attach({ ...spec, ...(createBridge ? { createBridge } : {}) });
  } finally {
    await plumber.close();
  }
}

export function main(argv: string[]): void {
  let cmd: PipeworkCommand;
  try {
    cmd = parsePipeworkArgs(argv);
  } catch (e) {
    process.exitCode = reportError('pipework', e, false, true);
    if ((e as NetplumbError).details?.['showUsage'] === true) process.stderr.write(`${usage()}\n`);
    return;
  }
  run(cmd).then(
    () => undefined,
    (e: unknown) => {
      process.exitCode = reportError('pipework', e, false, true);
    },
  );
}
