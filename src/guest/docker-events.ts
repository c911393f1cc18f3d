/**
 * The container engine's event stream (Docker Engine API `GET /events`, which podman's
 * compatible service serves too): container starts, deaths and removals as they happen.
 *
 * Equivalent to: docker events --filter type=container [--since T]
 *
 * The stream is one JSON object per event (newline-separated); `openEventStream` resolves
 * once the engine has answered 200 (from then on no event is missed), and `ended` settles
 * when the stream stops (the engine restarted, the socket went): the caller reconnects with
 * `since` set to the last event it saw, and reconciles, since events may still have been lost.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { ErrorCode, NetplumbError } from '../errors.js';
import { LineSplitter } from '../line-splitter.js';
import { DOCKER_API_VERSION, connectionError, isRecord, loadHttp } from './docker-api.js';

/** What happened to a container, as far as its attachments care. */
export type ContainerAction = 'start' | 'die' | 'remove';

export interface ContainerEvent {
  action: ContainerAction;
  /** The engine's own word (`start`, `restart`, `die`, `died`, `destroy`, `remove`). */
  engineAction: string;
  /** Full container id. */
  id: string;
  name?: string;
  /** Event time, for `since`: `<seconds>.<nanoseconds>`. */
  since: string;
  /** Event time in ms since the epoch (fractional), for measurements. */
  timeMs: number;
}

/**
 * The engines' words: Docker says `die` and `destroy`, podman 4.3 `died` on its own API and
 * `remove`. Podman stamps `restart` as a restart begins, before the `die`: a reconcile it
 * starts inspects the container, which podman answers once the new run is up, so the
 * attachment is made before the new run's own `start` event is even delivered.
 */
const ACTIONS: Record<string, ContainerAction> = {
  start: 'start',
  restart: 'start',
  die: 'die',
  died: 'die',
  destroy: 'remove',
  remove: 'remove',
};

/** One decoded event of the stream; undefined for events of other kinds or actions. */
export function parseContainerEvent(v: unknown): ContainerEvent | undefined {
  if (!isRecord(v)) return undefined;
  const type = v.Type ?? v.type;
  if (type !== undefined && type !== 'container') return undefined;
  const word = typeof v.Action === 'string' ? v.Action : typeof v.status === 'string' ? v.status : undefined;
  const action = word !== undefined && Object.hasOwn(ACTIONS, word) ? ACTIONS[word] : undefined;
  if (word === undefined || action === undefined) return undefined;
  const actor = isRecord(v.Actor) ? v.Actor : {};
  const id = typeof actor.ID === 'string' ? actor.ID : typeof v.id === 'string' ? v.id : undefined;
  if (id === undefined || !/^[0-9a-f]{12,64}$/.test(id)) return undefined;
  const attrs = isRecord(actor.Attributes) ? actor.Attributes : {};
  const name = typeof attrs.name === 'string' ? attrs.name : undefined;
  const nanos = typeof v.timeNano === 'number' ? BigInt(Math.round(v.timeNano)) : undefined;
  const seconds = typeof v.time === 'number' ? BigInt(Math.floor(v.time)) : undefined;
  const ns = nanos ?? (seconds !== undefined ? seconds * 1_000_000_000n : 0n);
  const since = `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  return {
    action,
    engineAction: word,
    id,
    ...(name !== undefined ? { name } : {}),
    since,
    timeMs: Number(ns / 1000n) / 1000,
  };
}

/** The longest event the stream may send (podman's and Docker's are a few hundred bytes). */
export const MAX_EVENT_BYTES = 1 << 20;

/**
 * Splits a byte stream into lines (at most MAX_EVENT_BYTES each) and parses each as JSON; a
 * line that is not JSON is reported. 'overflow': a line longer than that, the stream is not
 * to be trusted any more.
 */
export class JsonLines {
  readonly #lines = new LineSplitter(MAX_EVENT_BYTES);

  push(chunk: Buffer, each: (v: unknown) => void, bad: (line: string) => void): 'overflow' | undefined {
    const lines = this.#lines.push(chunk);
    if (lines === 'overflow') return lines;
    for (const line of lines) {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        bad(line.trim());
        continue;
      }
      each(v);
    }
    return undefined;
  }
}

export interface EventStreamOptions {
  socketPath: string;
  /** Only events after this time (`<seconds>.<nanoseconds>` of the last event seen). */
  since?: string;
  onEvent: (e: ContainerEvent) => void;
  /** A line that is not an event (logged by the caller). */
  onJunk?: (line: string) => void;
  /** How long to wait for the engine's answer (default 10 s). */
  connectTimeoutMs?: number;
}

export interface EventStream {
  /** Settles when the stream ends: undefined when closed by close(), else why. */
  readonly ended: Promise<NetplumbError | undefined>;
  close(): void;
}

/** Subscribe: resolves once the engine answered 200 (the subscription is live). */
export async function openEventStream(opts: EventStreamOptions): Promise<EventStream> {
  const http = await loadHttp();
  const { socketPath } = opts;
  const query = new URLSearchParams({ filters: JSON.stringify({ type: ['container'] }) });
  if (opts.since !== undefined) query.set('since', opts.since);
  const path = `/${DOCKER_API_VERSION}/events?${query.toString()}`;
  return new Promise((resolve, reject) => {
    let closing = false;
    let endWith: (e: NetplumbError | undefined) => void = () => undefined;
    const ended = new Promise<NetplumbError | undefined>((r) => {
      endWith = r;
    });
    const timer = setTimeout(
      () =>
        fail(
          new NetplumbError(
            ErrorCode.UNAVAILABLE,
            `the container engine at ${socketPath} did not answer GET /events within ${opts.connectTimeoutMs ?? 10_000} ms`,
            { socketPath },
          ),
        ),
      opts.connectTimeoutMs ?? 10_000,
    );
    let subscribed = false;
    const fail = (e: NetplumbError): void => {
      clearTimeout(timer);
      req.destroy();
      if (!subscribed) reject(e);
      else endWith(closing ? undefined : e);
    };
    const req: ClientRequest = http.request(
      { socketPath, path, method: 'GET', agent: false, headers: { Host: 'docker', Accept: 'application/json' } },
      (res: IncomingMessage) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          res.resume();
          fail(
            new NetplumbError(
              ErrorCode.UNAVAILABLE,
              `the container engine at ${socketPath} refused GET /events: HTTP ${res.statusCode ?? 0}`,
              { socketPath, httpStatus: res.statusCode },
            ),
          );
          return;
        }
        subscribed = true;
        const lines = new JsonLines();
        res.on('data', (chunk: Buffer) => {
          const read = lines.push(
            chunk,
            (v) => {
              const e = parseContainerEvent(v);
              if (e !== undefined) opts.onEvent(e);
            },
            (line) => opts.onJunk?.(line),
          );
          if (read === 'overflow')
            fail(
              new NetplumbError(
                ErrorCode.PROTOCOL,
                `the event stream of ${socketPath} sent a line longer than ${MAX_EVENT_BYTES} bytes`,
                { socketPath },
              ),
            );
        });
        res.on('error', () => undefined);
        res.on('close', () =>
          endWith(
            closing
              ? undefined
              : new NetplumbError(ErrorCode.UNAVAILABLE, `the event stream of ${socketPath} ended`, { socketPath }),
          ),
        );
        resolve({
          ended,
          close() {
            closing = true;
            req.destroy();
          },
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => fail(connectionError(e, socketPath)));
    req.end();
  });
}
