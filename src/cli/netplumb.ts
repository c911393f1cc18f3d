/** `netplumb` command line: argv → library call → exit code and output. */
import { parseNetplumbArgs, type NetplumbCommand } from './netplumb-args.js';
import { connectionOf } from './connection.js';
import { cliLogger, printJson, reportError } from './output.js';
import { type CommandIo, type CommandMain, openCommandEngine, ownProcessOnly, type ProgramTable } from './io.js';
import { runInProcess } from './process-io.js';
import { textTable } from './text-table.js';
import type { Attachment, AttachResult } from '../plumb/plumber.js';
import type { AttachmentRecord } from '../plumb/record.js';
import type { GcEntry, GcResult } from '../plumb/gc.js';
import { KILL_AT_ENV, type KillHooks } from '../plumb/kill-hook.js';
import type { Engine } from '../engine/engine.js';
import type { DeclaredAttachment } from '../plumb/declared.js';

function describeAttach(r: AttachResult): string {
  const x = r.record;
  const where =
    x.network !== undefined
      ? ` network ${x.network}`
      : x.vlan !== undefined
        ? ` vlan ${x.vlan}`
        : x.trunks
          ? ` trunks ${x.trunks.join(',')}`
          : '';
  const addr = x.addresses.length > 0 ? ` ${x.addresses.join(' ')}` : x.dhcp ? ` (${x.dhcp})` : '';
  const port = r.ofport !== undefined ? ` ofport ${r.ofport}` : '';
  return `${r.changed ? 'attached' : 'already attached'}: ${x.guestName ?? x.guestId} ${x.ifname}${addr} → ${x.host}${where} (${x.mode}, host side ${r.hostLink ?? '-'}${port})`;
}

/** How a guest is shown: its container name, a container id shortened as docker does, or a namespace id whole. */
function guestLabel(r: AttachmentRecord): string {
  return r.guestName ?? (r.guestId.startsWith('netns:') ? r.guestId : r.guestId.slice(0, 12));
}

/**
 * A record read back from a host veth's alias alone (its OVS port was removed, or its
 * bridge deleted, by another tool) holds only the attachment's identity: no addresses,
 * no VLAN. Such a row is shown with what it has, never as a crash.
 */
function recordedAddresses(r: AttachmentRecord): string[] {
  return Array.isArray(r.addresses) ? r.addresses : [];
}

function stateOf(a: Attachment): string {
  if (a.orphaned) return 'orphaned (guest gone)';
  if (a.attachingSince !== undefined) return `attaching since ${a.attachingSince}`;
  if (a.ovsError) return `error: ${a.ovsError}`;
  if (a.record.mode === 'ovs' && a.ofport === undefined && !Array.isArray(a.record.addresses))
    return 'no OVS port (see netplumb show)';
  return a.hostLinkUp ? 'up' : 'down';
}

function table(rows: Attachment[]): string {
  // An OVN attachment's segment is its network, in the VLAN column.
  const head = ['GUEST', 'IFNAME', 'MODE', 'HOST', 'VLAN/NETWORK', 'ADDRESSES', 'HOST-IF', 'OFPORT', 'STATE'];
  const body = rows.map((a) => {
    const r = a.record;
    return [
      guestLabel(r),
      r.ifname,
      r.mode,
      r.host,
      r.network ?? (r.vlan !== undefined ? String(r.vlan) : Array.isArray(r.trunks) ? r.trunks.join(',') : '-'),
      recordedAddresses(r).join(',') || r.dhcp || '-',
      r.hostIfname,
      a.ofport !== undefined ? String(a.ofport) : '-',
      stateOf(a),
    ];
  });
  return textTable(head, body);
}

/** Declared attachments: which container and interface, where, and whether it is applied now. */
function declaredTable(rows: DeclaredAttachment[]): string {
  const head = ['GUEST', 'IFNAME', 'HOST', 'DECLARED', 'STATE'];
  const body = rows.map((d) => [
    d.containerName ?? d.containerId.slice(0, 12),
    d.ifname,
    d.host,
    d.declaredAt,
    d.state === 'applied'
      ? 'applied'
      : d.state === 'waiting'
        ? `waiting (${d.reason ?? 'container stopped'})`
        : `failed: ${d.reason ?? '?'}`,
  ]);
  return textTable(head, body);
}

function describeGcEntry(e: GcEntry): string {
  const who = e.record ? `${guestLabel(e.record)} ${e.record.ifname}` : `attachment ${e.attachment}`;
  const objects = [...e.ports.map((p) => `OVS port ${p}`), ...(e.link !== undefined ? [`veth ${e.link}`] : [])];
  return `  ${who} (${objects.join(', ')}): ${e.reason}: ${e.detail}`;
}

function describeGc(r: GcResult): string {
  const lines: string[] = [];
  if (r.removed.length === 0) lines.push('nothing to collect');
  else lines.push(`${r.dryRun ? 'would remove' : 'removed'} ${r.removed.length}:`, ...r.removed.map(describeGcEntry));
  const waiting = r.kept.filter((e) => e.reason !== 'in-use');
  const inUse = r.kept.length - waiting.length;
  if (waiting.length > 0)
    lines.push(
      `left alone (under way or within the ${r.graceSeconds} s grace period) ${waiting.length}:`,
      ...waiting.map(describeGcEntry),
    );
  lines.push(`in use: ${inUse}`);
  const undeclared = r.undeclared ?? [];
  if (undeclared.length > 0)
    lines.push(
      `${r.dryRun ? 'would drop' : 'dropped'} ${undeclared.length} declaration(s) of removed containers: ${undeclared.map((d) => `${d.containerId.slice(0, 12)} ${d.ifname}`).join(', ')}`,
    );
  return lines.join('\n');
}

/** Run a command; resolves with its exit code (failures are thrown). */
async function run(
  io: CommandIo,
  cmd: Exclude<NetplumbCommand, { command: 'help' | 'version' }>,
  hooks: KillHooks,
): Promise<number> {
  // Loaded only now, and with require(): in this CommonJS build `await import()` would go
  // through the ESM loader (its own start-up and a source scan of each module), ~70 ms of CPU.
  if (cmd.command === 'serve') {
    ownProcessOnly(io, 'netplumb serve');
    const { runServe } = require('../daemon/run.js') as typeof import('../daemon/run.js');
    await runServe(cmd, SERVED_PROGRAMS, io.env);
    return 0;
  }
  // Read-only views act in this process (they read the guests' namespaces, and show writes
  // its files where the caller is), never through the daemon.
  if (cmd.command === 'show') {
    ownProcessOnly(io, 'netplumb show');
    const { runShow } = require('./show.js') as typeof import('./show.js');
    await runShow(io, cmd);
    return 0;
  }
  if (cmd.command === 'check') {
    ownProcessOnly(io, 'netplumb check');
    const { runCheck } = require('./check.js') as typeof import('./check.js');
    return runCheck(io, cmd);
  }
  // The history lives in the daemon: read from it, never from this process.
  if (cmd.command === 'events') {
    const { runEvents } = require('./events-command.js') as typeof import('./events-command.js');
    return runEvents(io, cmd);
  }
  // The daemon when its socket is there, answers, and acts on the OVSDB and container
  // engine this command would use; else the engine in this process. open.ts loads the
  // client or the engine, whichever is used, not both.
  const logger = cliLogger(io, 'netplumb');
  const plumberOptions = { ...connectionOf(io, cmd.connection), ...(logger ? { logger } : {}), ...hooks };
  const engine: Engine = await openCommandEngine(io, {
    daemon: cmd.noDaemon === true ? false : 'auto',
    plumberOptions,
  });
  logger?.debug({ via: engine.via }, 'engine');
  try {
    switch (cmd.command) {
      case 'uplink': {
        const { runUplink } = require('./uplink-command.js') as typeof import('./uplink-command.js');
        return await runUplink(io, cmd, engine.uplinks);
      }
      case 'network': {
        const { runNetwork } = require('./network-command.js') as typeof import('./network-command.js');
        return await runNetwork(io, cmd, engine.networks);
      }
      case 'attach': {
        const r = await engine.attach(cmd.spec);
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(`${describeAttach(r)}\n`);
        return 0;
      }
      case 'detach': {
        const r = await engine.detach({
          guest: cmd.guest,
          ...('ifname' in cmd.target ? { ifname: cmd.target.ifname } : {}),
        });
        if (cmd.json) printJson(io, { ok: true, ...r });
        else
          io.stdout(
            r.detached.length === 0
              ? 'nothing to detach\n'
              : `detached: ${r.detached.map((d) => `${d.guestName ?? d.guestId} ${d.ifname} (${d.hostIfname})`).join(', ')}\n`,
          );
        return 0;
      }
      case 'list': {
        const rows = await engine.list(cmd.guest !== undefined ? { guest: cmd.guest } : {});
        const { guestMatcher } = require('../plumb/guest-id.js') as typeof import('../plumb/guest-id.js');
        const ofGuest = cmd.guest !== undefined ? guestMatcher(cmd.guest) : () => true;
        const declared = (await engine.declared()).filter((d) =>
          ofGuest({ guestId: d.containerId, ...(d.containerName !== undefined ? { guestName: d.containerName } : {}) }),
        );
        if (cmd.json) printJson(io, { ok: true, attachments: rows, declared });
        else {
          io.stdout(rows.length === 0 ? 'no attachments\n' : `${table(rows)}\n`);
          if (declared.length > 0)
            io.stdout(`\ndeclared (--persist), desired vs actual:\n${declaredTable(declared)}\n`);
        }
        return 0;
      }
      case 'gc': {
        const r = await engine.gc({
          dryRun: cmd.dryRun,
          ...(cmd.graceSeconds !== undefined ? { graceSeconds: cmd.graceSeconds } : {}),
        });
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(`${describeGc(r)}\n`);
        return 0;
      }
    }
  } finally {
    await engine.close();
  }
}

/** `netplumb ARGS…` */
export const main: CommandMain = async (io) => {
  const argv = io.argv;
  let cmd: NetplumbCommand;
  const json = argv.includes('--json');
  try {
    cmd = parseNetplumbArgs(argv);
  } catch (e) {
    return reportError(io, 'netplumb', e, json);
  }
  if (cmd.command === 'help') {
    // The help texts and examples are loaded only for help.
    const { helpText } = require('./netplumb-help.js') as typeof import('./netplumb-help.js');
    io.stdout(`${helpText(cmd.topic)}\n`);
    return 0;
  }
  if (cmd.command === 'version') {
    // package.json is read only for the version.
    const { NETPLUMB_VERSION } = require('../version.js') as typeof import('../version.js');
    io.stdout(`netplumb ${NETPLUMB_VERSION}\n`);
    return 0;
  }
  try {
    // A test hook (kill-hook.ts), read once here; nothing is loaded unless it is set. It
    // kills the process that runs the command: never the daemon's.
    let hooks: KillHooks = {};
    if (io.env[KILL_AT_ENV]) {
      ownProcessOnly(io, KILL_AT_ENV);
      hooks = (require('../plumb/kill-hook.js') as typeof import('../plumb/kill-hook.js')).killHooksFromEnv(io.env);
    }
    return await run(io, cmd, hooks);
  } catch (e) {
    return reportError(io, 'netplumb', e, json);
  }
};

/**
 * The programs `netplumb serve` runs for the native front door, by name (the basename it
 * was called by): each one's CommandMain, loaded on first use. A new program is one more line.
 */
const SERVED_PROGRAMS: ProgramTable = {
  netplumb: () => main,
  pipework: () => (require('./pipework.js') as typeof import('./pipework.js')).main,
  'netplumb-cni': () => (require('./netplumb-cni.js') as typeof import('./netplumb-cni.js')).main,
};

/** The `netplumb` command in this process (bin/node-cli.js). */
export function start(argv?: readonly string[]): void {
  runInProcess(main, argv);
}
