/**
 * Following the daemon's history (`events.follow`, methods.ts) on a connection of its own:
 * each event, and each `events.dropped`, handed to the caller as it comes, until the caller
 * stops, the daemon shuts down (its `closing` notice) or the connection breaks.
 *
 *   const f = await followEvents(sock, { since: 0 }, { event: (e) => print(e), dropped: (d) => warn(d) });
 *   const end = await f.done; // 'shutdown', or a NetplumbError thrown
 */
import type { Socket } from 'node:net';
import { ErrorCode, NetplumbError } from '../errors.js';
import {
  DROPPED_NOTICE,
  type DroppedNotice,
  EVENT_NOTICE,
  type EventsSince,
  type NetplumbEvent,
} from '../events/event.js';
import { openSocket } from './client.js';
import { LineSplitter } from '../line-splitter.js';
import { CLOSING_NOTICE, errorFromRpc } from './protocol.js';

export interface FollowHandlers {
  event(e: NetplumbEvent): void;
  dropped(d: DroppedNotice): void;
}

export interface Following {
  /** Resolves 'shutdown' when the daemon stops, 'stopped' after stop(); rejects when the connection breaks. */
  readonly done: Promise<'shutdown' | 'stopped'>;
  stop(): void;
}

/** Largest line accepted: an event is far smaller. */
const MAX_LINE_BYTES = 1024 * 1024;

/** Start following; rejects when the daemon cannot be reached or refuses. */
export async function followEvents(
  socketPath: string,
  params: { since?: EventsSince },
  on: FollowHandlers,
  connectTimeoutMs = 5000,
): Promise<Following> {
  const socket = await openSocket(socketPath, connectTimeoutMs);
  return new Promise((resolveStart, rejectStart) => {
    let started = false;
    let finish: (how: 'shutdown' | 'stopped') => void = () => undefined;
    let fail: (e: NetplumbError) => void = () => undefined;
    const done = new Promise<'shutdown' | 'stopped'>((res, rej) => {
      finish = res;
      fail = rej;
    });
    done.catch(() => undefined); // handled by whoever awaits it; never unhandled
    const broken = (e: NetplumbError): void => {
      socket.destroy();
      if (started) fail(e);
      else rejectStart(e);
    };
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const onLine = (line: string): void => {
      let msg: { id?: unknown; method?: string; params?: unknown; error?: object };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        broken(new NetplumbError(ErrorCode.PROTOCOL, 'the netplumb daemon sent something that is not JSON'));
        return;
      }
      if (msg.method === EVENT_NOTICE) on.event(msg.params as NetplumbEvent);
      else if (msg.method === DROPPED_NOTICE) on.dropped(msg.params as DroppedNotice);
      else if (msg.method === CLOSING_NOTICE) {
        socket.destroy();
        finish('shutdown');
      } else if (msg.id === 1 && msg.error !== undefined) broken(errorFromRpc(msg.error));
      else if (msg.id === 1 && !started) {
        started = true;
        resolveStart({
          done,
          stop: () => {
            socket.destroy();
            finish('stopped');
          },
        });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      const lines = splitter.push(chunk);
      if (lines === 'overflow')
        broken(
          new NetplumbError(ErrorCode.PROTOCOL, `the netplumb daemon sent a line longer than ${MAX_LINE_BYTES} bytes`),
        );
      else for (const line of lines) if (!socket.destroyed) onLine(line);
    });
    const lost = (): void =>
      broken(new NetplumbError(ErrorCode.UNAVAILABLE, `the netplumb daemon at ${socketPath} closed the connection`));
    socket.on('error', lost);
    socket.on('close', lost);
    send(socket, params);
  });
}

function send(socket: Socket, params: { since?: EventsSince }): void {
  socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events.follow', params })}\n`);
}
