/**
 * The daemon follows the container engine's events (`GET /events`, ../guest/docker-events.ts)
 * and keeps the declared attachments real: a container's start reconciles its declarations
 * (attached again in the new namespace), its death marks them waiting, its removal drops
 * them (../plumb/declared.ts says what reconciling is).
 *
 * Equivalent to: docker events --filter type=container | while read e; do reconcile "$id"; done
 *
 * - Subscribe first, then reconcile every container with declarations: a start between
 *   the two is seen either way (at the daemon's start too: what started while it was down).
 * - The stream ends (the engine restarted, its socket went): reconnect with `since` set to
 *   the last event seen (backing off while the engine is away), and reconcile all again.
 * - A burst of events for one container: one reconcile at a time per container, and one
 *   more after it if events came meanwhile (../persist/coalesce.ts); each reads the
 *   container as it is then, so the last state wins and nothing is attached twice.
 */
import type { Logger } from 'pino';
import { type ContainerEvent, type EventStream, openEventStream } from '../guest/docker-events.js';
import type { EventDraft } from '../events/event.js';
import { attachEvents } from '../events/record.js';
import { Coalescer } from '../persist/coalesce.js';
import type { DeclaredAttachments } from '../plumb/declared.js';

export interface WatchOptions {
  /** What the watch asks of the declarations: which containers have some, and reconciling one. */
  declared: Pick<DeclaredAttachments, 'containers' | 'reconcile'>;
  /** Record what a reconcile changed in the daemon's history (kind `reapply`). */
  record?: (draft: EventDraft) => void;
  /** The container engine's API socket. */
  socketPath: string;
  log?: Logger;
  /** Reconnect backoff: first and longest wait (default 100 ms, 5 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface EngineWatcher {
  /** Resolves once the first subscription is live and its reconcile done (tests, the bench). */
  readonly ready: Promise<void>;
  /** Stop following, let the reconciles under way finish. */
  close(): Promise<void>;
}

export function watchEngine(opts: WatchOptions): EngineWatcher {
  const log = opts.log?.child({ component: 'watch' });
  const coalescer = new Coalescer();
  /** The newest event per container not yet reconciled (its timings are logged with the outcome). */
  const latest = new Map<string, ContainerEvent & { seenAt: number }>();
  let closed = false;
  let stream: EventStream | undefined;
  let wake: () => void = () => undefined;
  let since: string | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });

  const reconcile = async (id: string): Promise<void> => {
    const event = latest.get(id);
    latest.delete(id);
    const started = Date.now();
    try {
      const outcome = await opts.declared.reconcile(id);
      const why = `declared attachment (attach --persist): the container's ${event?.engineAction ?? 'state'} ${event !== undefined ? 'event' : 'when the daemon began following the engine'}`;
      for (const a of outcome.attempts)
        for (const e of attachEvents(a.spec, a.outcome, why)) opts.record?.({ ...e, kind: 'reapply' });
      if (outcome.applied + outcome.failed + outcome.dropped === 0) {
        if (outcome.unchanged + outcome.superseded > 0)
          log?.debug(
            { container: id, ...outcome },
            outcome.superseded > 0 ? 'container restarted during the attach' : 'declared attachments in place',
          );
        return;
      }
      const fields = {
        container: id,
        ...outcome,
        ...(event !== undefined
          ? { event: event.engineAction, eventAt: event.timeMs, seenAt: event.seenAt, startedAt: started }
          : {}),
        doneAt: Date.now(),
      };
      if (outcome.failed > 0) log?.warn(fields, 'declared attachments not applied');
      else
        log?.info(
          fields,
          outcome.dropped > 0 ? 'declarations dropped: container removed' : 'declared attachments applied',
        );
    } catch (e) {
      log?.warn({ container: id, err: e }, 'reconciling declared attachments failed');
    }
  };

  const kick = (id: string): void => {
    void coalescer.kick(id, reconcile);
  };

  const reconcileAll = async (): Promise<void> => {
    try {
      const ids = await opts.declared.containers();
      await Promise.all(ids.map((id) => coalescer.kick(id, reconcile)));
    } catch (e) {
      log?.warn({ err: e }, 'cannot read the declared attachments');
    }
  };

  const onEvent = (e: ContainerEvent): void => {
    since = e.since;
    latest.set(e.id, { ...e, seenAt: Date.now() });
    kick(e.id);
  };

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    const min = opts.retryMinMs ?? 100;
    const max = opts.retryMaxMs ?? 5000;
    let wait = min;
    let failing = false;
    while (!closed) {
      try {
        stream = await openEventStream({
          socketPath: opts.socketPath,
          ...(since !== undefined ? { since } : {}),
          onEvent,
          onJunk: (line) => log?.debug({ line: line.slice(0, 200) }, 'event stream: not JSON'),
        });
      } catch (e) {
        if (!failing) {
          // Loud only when something depends on it: a daemon without declarations just keeps trying.
          const declared = (await opts.declared.containers().catch(() => [])).length > 0;
          const fields = { err: e, socket: opts.socketPath };
          if (declared) log?.warn(fields, 'cannot follow the container engine; retrying');
          else log?.info(fields, 'cannot follow the container engine (nothing declared yet); retrying');
        }
        failing = true;
        markReady();
        await pause(wait);
        wait = Math.min(wait * 2, max);
        continue;
      }
      if (closed) break;
      log?.info({ socket: opts.socketPath, since, again: failing }, 'following container events');
      failing = false;
      wait = min;
      // Subscribed: now every container with declarations, as it is.
      await reconcileAll();
      markReady();
      const ended = await stream.ended;
      stream = undefined;
      if (closed) break;
      log?.warn({ err: ended }, 'container event stream ended; reconnecting');
      await pause(min);
    }
  };
  const running = loop();

  return {
    ready,
    async close() {
      closed = true;
      stream?.close();
      wake();
      await running;
      await coalescer.idle();
    },
  };
}
