/**
 * `netplumb events --since WORD`: a sequence number (`42`: the events after it), a time
 * (`2026-12-03T07:40:00Z`, `2026-12-03 07:40`: those at or after it) or a duration back
 * from now (`30s`, `10m`, `2h`, `1d`). Parsed once (pure), resolved against the clock when
 * the command runs.
 */
import { invalidArgument } from '../errors.js';
import type { EventsSince } from './event.js';

export type SinceWord = { seq: number } | { time: string } | { agoMs: number };

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSinceWord(text: string): SinceWord {
  if (/^[0-9]{1,15}$/.test(text)) return { seq: Number(text) };
  const ago = /^([0-9]{1,9})(s|m|h|d)$/.exec(text);
  if (ago !== null) return { agoMs: Number(ago[1]) * (UNIT_MS[ago[2] as string] as number) };
  const t = /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(text)
    ? Date.parse(text)
    : Number.NaN;
  if (Number.isNaN(t))
    throw invalidArgument(
      'since',
      `${JSON.stringify(text.slice(0, 64))}: expected a sequence number (42), a time (2026-12-03T07:40:00Z) or a duration back from now (30s, 10m, 2h, 1d)`,
    );
  return { time: new Date(t).toISOString() };
}

/** The `since` of the daemon's `events` and `events.follow` requests. */
export function resolveSince(w: SinceWord, now: Date = new Date()): EventsSince {
  if ('seq' in w) return w.seq;
  if ('time' in w) return w.time;
  return new Date(now.getTime() - w.agoMs).toISOString();
}
