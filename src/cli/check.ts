/**
 * `netplumb check [BRIDGE|VLAN|CONTAINER…]`: the connectivity matrix of netplumb's
 * attachments, probed from inside the guests, against what their VLANs say. Exit 0 when
 * it matches, 1 when reachability is missing (or unexpected), 17 on a leak across VLANs.
 */
import { checkExitCode } from '../check/model.js';
import { checkText } from '../check/report.js';
import { checkConnectivity } from '../check/run.js';
import type { NetplumbCommand } from './netplumb-args.js';
import type { CommandIo } from './io.js';
import { printJson } from './output.js';
import { openHostView } from './show.js';

type CheckCommand = Extract<NetplumbCommand, { command: 'check' }>;

/** Run the check, print it; returns the exit status. */
export async function runCheck(io: CommandIo, cmd: CheckCommand): Promise<number> {
  const view = openHostView(io, cmd.connection);
  try {
    const report = await checkConnectivity(view, {
      selections: cmd.selections,
      ...(cmd.timeoutSeconds !== undefined ? { timeoutMs: cmd.timeoutSeconds * 1000 } : {}),
      ...(cmd.strict === true ? { strict: true } : {}),
    });
    if (cmd.json) printJson(io, { ok: true, check: report });
    else io.stdout(checkText(report));
    return checkExitCode(report.verdict);
  } finally {
    await view.close();
  }
}
