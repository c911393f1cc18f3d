/**
 * `netplumb events [--since SEQ|TIME|DURATION] [--follow] [--json]`: the daemon's history of
 * what it changed and why (src/events). The log lives in the daemon: without one this fails
 * and says so. The events so far are read as a request (inside the daemon when the front
 * door relayed the call); --follow streams on a connection of its own, from the caller's
 * process (the front door hands it back).
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { DroppedNotice, EventsReader, EventsSince, NetplumbEvent } from '../events/event.js';
import { resolveSince, type SinceWord } from '../events/since.js';
import { defaultDaemonSocket } from '../daemon/protocol.js';
import { type CommandIo, ownProcessOnly } from './io.js';

export interface EventsCommand {
  since?: SinceWord;
  follow: boolean;
  json: boolean;
}

/** `#12 2026-12-03T07:40:01.123Z attach ok web1 eth1 (host side npa1b2) → ovs0 vlan 100 — requested by …` */
export function eventLine(e: NetplumbEvent): string {
  const who = [e.guest, e.ifname].filter((x) => x !== undefined).join(' ');
  const host = e.hostIfname !== undefined ? ` (host side ${e.hostIfname})` : '';
  const nic = e.nic !== undefined ? ` NIC ${e.nic}` : '';
  const seg = [
    e.bridge,
    e.vlan !== undefined ? `vlan ${e.vlan}` : undefined,
    e.trunks !== undefined ? `trunks ${e.trunks.join(',')}` : undefined,
    e.network !== undefined ? `network ${e.network}` : undefined,
  ].filter((x) => x !== undefined);
  const where = seg.length > 0 ? ` → ${seg.join(' ')}` : '';
  const what = `${who}${host}${nic}${where}`.trim();
  const result =
    e.result === 'error'
      ? `error ${e.error?.code ?? ''}: ${e.error?.message ?? ''}`
      : e.changed === false
        ? 'ok (nothing changed)'
        : 'ok';
  const detail = e.detail !== undefined ? ` [${e.detail}]` : '';
  return `#${e.seq} ${e.time} ${e.kind}${what !== '' ? ` ${what}` : ''}: ${result}${detail} — ${e.why}`;
}

function droppedLine(d: DroppedNotice, why: string): string {
  return `… ${d.count} event${d.count === 1 ? '' : 's'} dropped (#${d.fromSeq}–#${d.toSeq}): ${why}`;
}

/** No daemon, no history: say where the log lives. */
function noDaemon(path: string, e: NetplumbError): NetplumbError {
  if (e.code !== ErrorCode.UNAVAILABLE) return e;
  return new NetplumbError(
    ErrorCode.UNAVAILABLE,
    `no netplumb daemon answers at ${path}: the history lives in the daemon (start it with netplumb serve, or set $NETPLUMB_SOCKET to its socket). ${e.message}`,
    { field: 'daemon' },
  );
}

export async function runEvents(io: CommandIo, cmd: EventsCommand): Promise<number> {
  const since = cmd.since !== undefined ? resolveSince(cmd.since) : undefined;
  const print = (e: NetplumbEvent): void => io.stdout(`${cmd.json ? JSON.stringify(e) : eventLine(e)}\n`);
  const printDropped = (d: DroppedNotice, why: string): void =>
    cmd.json ? io.stdout(`${JSON.stringify({ dropped: d })}\n`) : io.stderr(`${droppedLine(d, why)}\n`);
  if (cmd.follow) {
    ownProcessOnly(io, 'netplumb events --follow');
    return follow(io, since, print, printDropped);
  }
  const path = defaultDaemonSocket(io.env);
  let reader: EventsReader & { close?: () => Promise<void> };
  if (io.daemon !== undefined) reader = io.daemon.events();
  else {
    const { DaemonClient } = require('../daemon/client.js') as typeof import('../daemon/client.js');
    try {
      reader = await DaemonClient.connect(path);
    } catch (e) {
      throw noDaemon(path, e as NetplumbError);
    }
  }
  try {
    const r = await reader.events(since);
    const asked = typeof since === 'number' ? since : 0;
    if (r.firstSeq > asked + 1 && (since !== undefined || r.firstSeq > 1))
      printDropped(
        { count: r.firstSeq - 1 - asked, fromSeq: asked + 1, toSeq: r.firstSeq - 1 },
        'the log is bounded; the oldest go first',
      );
    for (const e of r.events) print(e);
    return 0;
  } catch (e) {
    throw e instanceof NetplumbError ? noDaemon(path, e) : e;
  } finally {
    await reader.close?.();
  }
}

/** Print the events as they come until the daemon stops (exit 0) or the connection breaks. */
async function follow(
  io: CommandIo,
  since: EventsSince | undefined,
  print: (e: NetplumbEvent) => void,
  printDropped: (d: DroppedNotice, why: string) => void,
): Promise<number> {
  const path = defaultDaemonSocket(io.env);
  const { followEvents } = require('../daemon/follow-client.js') as typeof import('../daemon/follow-client.js');
  let writeFailed: unknown;
  let stop = (): void => undefined;
  /** A reader that went away (`| head`): stop following, quietly. */
  const guarded =
    <T>(f: (x: T) => void) =>
    (x: T): void => {
      try {
        f(x);
      } catch (e) {
        writeFailed = e;
        stop();
      }
    };
  let following: Awaited<ReturnType<typeof followEvents>>;
  try {
    following = await followEvents(path, since === undefined ? {} : { since }, {
      event: guarded(print),
      dropped: guarded((d: DroppedNotice) => printDropped(d, 'this follower read too slowly')),
    });
  } catch (e) {
    throw noDaemon(path, e as NetplumbError);
  }
  stop = following.stop;
  const end = await following.done;
  if (writeFailed !== undefined) return (writeFailed as NodeJS.ErrnoException).code === 'EPIPE' ? 0 : 1;
  if (end === 'shutdown') io.stderr('netplumb events: the daemon stopped; nothing more to follow\n');
  return 0;
}
