/**
 * `netplumb show [BRIDGE|VLAN|CONTAINER]`: the host's wiring as a tree, as JSON, as a
 * picture (SVG) or a page (HTML). Read-only, in this process; it exits 0 whatever state it
 * finds (a broken attachment is shown with its fix, not raised), and fails only when it
 * cannot read the host at all or the thing named does not exist.
 */
import { writeFileSync } from 'node:fs';
import { HostView } from '../topology/read.js';
import { scopeFor } from '../topology/scope.js';
import { selectScope } from '../topology/select.js';
import { topologyText } from '../topology/text.js';
import type { Topology } from '../topology/model.js';
import type { ConnectionOptions, NetplumbCommand } from './netplumb-args.js';
import { connectionOf } from './connection.js';
import type { CommandIo } from './io.js';
import { cliLogger, printJson } from './output.js';

type ShowCommand = Extract<NetplumbCommand, { command: 'show' }>;

/** The view of the host a command's connection options (else its environment) name. */
export function openHostView(io: CommandIo, conn: ConnectionOptions): HostView {
  const logger = cliLogger(io, 'netplumb');
  return HostView.open({ ...connectionOf(io, conn), ...(logger !== undefined ? { logger } : {}) });
}

export async function runShow(io: CommandIo, cmd: ShowCommand): Promise<void> {
  const writeOutput = (path: string, text: string): void => {
    if (path === '-') io.stdout(text);
    else writeFileSync(path, text);
  };
  const view = openHostView(io, cmd.connection);
  let t: Topology;
  try {
    const whole = await view.topology();
    t = selectScope(whole, scopeFor(cmd, whole));
  } finally {
    await view.close();
  }
  const files: string[] = [];
  if (cmd.svg !== undefined) {
    const { renderSvg } = require('../render/svg.js') as typeof import('../render/svg.js');
    writeOutput(cmd.svg, renderSvg(t));
    files.push(cmd.svg);
  }
  if (cmd.html !== undefined) {
    const { renderHtml } = require('../render/html.js') as typeof import('../render/html.js');
    writeOutput(cmd.html, renderHtml(t));
    files.push(cmd.html);
  }
  // A picture sent to stdout is the output; nothing else goes there.
  if (files.includes('-')) return;
  if (cmd.json) printJson(io, { ok: true, topology: t, ...(files.length > 0 ? { files } : {}) });
  else io.stdout(`${topologyText(t)}${files.map((f) => `wrote ${f}\n`).join('')}`);
}
