/**
 * The history (src/events): the bounds of the log (count and bytes, oldest first, the drop a
 * gap in the numbers), queries since a seq or a time, the --since words, a follower's bound
 * (at most ~64 KiB unsent, then events.dropped for what the log let go), and the events each
 * outcome records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetplumbError, ErrorCode } from '../../src/errors.js';
import type { EventDraft, NetplumbEvent } from '../../src/events/event.js';
import { follow, type NotificationSink } from '../../src/events/follow.js';
import { EventLog } from '../../src/events/log.js';
import { attachEvents, detachEvents, gcEvents, whyOf } from '../../src/events/record.js';
import { parseSinceWord, resolveSince } from '../../src/events/since.js';
import type { AttachmentRecord } from '../../src/plumb/record.js';

const draft = (n: number): EventDraft => ({ kind: 'attach', guest: `g${n}`, why: 'test', result: 'ok' });

/** A clock that moves one second per reading from `start`. */
function ticking(start = Date.parse('2026-12-03T07:00:00Z')): () => Date {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

test('the log keeps at most maxEvents, oldest dropped first; the numbers go on (a gap says what was dropped)', () => {
  const log = new EventLog({ maxEvents: 5 });
  for (let i = 1; i <= 12; i++) log.record(draft(i));
  assert.equal(log.size, 5);
  const r = log.query();
  assert.deepEqual(
    r.events.map((e) => e.seq),
    [8, 9, 10, 11, 12],
  );
  assert.deepEqual([r.firstSeq, r.lastSeq], [8, 12]);
  assert.deepEqual(
    r.events.map((e) => e.guest),
    ['g8', 'g9', 'g10', 'g11', 'g12'],
  );
  assert.equal(log.at(7), undefined);
  assert.equal(log.at(9)?.guest, 'g9');
  // Many more: the held array stays bounded (compaction), the count stays 5.
  for (let i = 13; i <= 10_000; i++) log.record(draft(i));
  assert.equal(log.size, 5);
  assert.equal(log.firstSeq, 9996);
});

test('the log keeps at most maxBytes of JSON; the newest event is always kept', () => {
  const one = Buffer.byteLength(JSON.stringify({ seq: 1, time: new Date().toISOString(), ...draft(1) }));
  const log = new EventLog({ maxBytes: one * 3 + 10 });
  for (let i = 1; i <= 20; i++) log.record(draft(i));
  assert.ok(log.bytes <= one * 3 + 10, `${log.bytes} bytes held`);
  assert.ok(log.size >= 2 && log.size <= 3, `${log.size} held`);
  assert.equal(log.lastSeq, 20);
  const huge = new EventLog({ maxBytes: 10 });
  huge.record(draft(1));
  huge.record(draft(2));
  assert.deepEqual(
    huge.query().events.map((e) => e.seq),
    [2],
  );
});

test('query since a seq (after it) and since a time (at or after it)', () => {
  const log = new EventLog({ now: ticking() });
  for (let i = 1; i <= 5; i++) log.record(draft(i));
  assert.deepEqual(
    log.query(3).events.map((e) => e.seq),
    [4, 5],
  );
  assert.deepEqual(log.query(5).events, []);
  const third = log.at(3) as NetplumbEvent;
  assert.deepEqual(
    log.query(third.time).events.map((e) => e.seq),
    [3, 4, 5],
  );
  assert.equal(log.seqBefore(third.time), 2);
  assert.equal(log.seqBefore('2030-01-01T00:00:00Z'), 5);
});

test('--since words: a seq, a time, a duration back from now; anything else is refused with the forms', () => {
  assert.deepEqual(parseSinceWord('42'), { seq: 42 });
  assert.deepEqual(parseSinceWord('10m'), { agoMs: 600_000 });
  assert.deepEqual(parseSinceWord('2d'), { agoMs: 2 * 86_400_000 });
  assert.deepEqual(parseSinceWord('2026-12-03T07:40:00Z'), { time: '2026-12-03T07:40:00.000Z' });
  assert.deepEqual(parseSinceWord('2026-12-03T07:40:00+01:00'), { time: '2026-12-03T06:40:00.000Z' });
  const now = new Date('2026-12-03T08:00:00Z');
  assert.equal(resolveSince({ agoMs: 600_000 }, now), '2026-12-03T07:50:00.000Z');
  assert.equal(resolveSince({ seq: 7 }, now), 7);
  for (const bad of ['', 'yesterday', '10x', '-5', '1.5', '2026-13-45T99:00:00Z'])
    assert.throws(
      () => parseSinceWord(bad),
      (e: unknown) => e instanceof NetplumbError && e.code === ErrorCode.INVALID_ARGUMENT && /30s, 10m/.test(e.message),
      bad,
    );
});

/** A sink that keeps what it is sent and drains only when told. */
function fakeSink() {
  const lines: string[] = [];
  let unsent = 0;
  const drains: (() => void)[] = [];
  let onEnd: (() => void) | undefined;
  const sink: NotificationSink = {
    get buffered() {
      return unsent;
    },
    send: (line) => {
      lines.push(line);
      unsent += Buffer.byteLength(line);
    },
    onDrain: (cb) => drains.push(cb),
    hold: (end) => {
      onEnd = end;
      return () => (onEnd = undefined);
    },
  };
  return {
    sink,
    lines,
    get unsent() {
      return unsent;
    },
    drain() {
      unsent = 0;
      for (const cb of drains.splice(0)) cb();
    },
    close: () => onEnd?.(),
    get held() {
      return onEnd !== undefined;
    },
  };
}

const turn = () => new Promise((r) => setImmediate(r));
const parsed = (lines: string[]) =>
  lines.map(
    (l) =>
      JSON.parse(l) as { method: string; params: { seq?: number; count?: number; fromSeq?: number; toSeq?: number } },
  );

test('a follower gets the events after since, then each new one; nothing before the next turn (the answer goes first)', async () => {
  const log = new EventLog();
  for (let i = 1; i <= 3; i++) log.record(draft(i));
  const s = fakeSink();
  const f = follow(log, 1, s.sink);
  assert.equal(s.lines.length, 0);
  await turn();
  log.record(draft(4));
  assert.deepEqual(
    parsed(s.lines).map((m) => [m.method, m.params.seq]),
    [
      ['events.event', 2],
      ['events.event', 3],
      ['events.event', 4],
    ],
  );
  assert.ok(s.lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  f.stop();
  log.record(draft(5));
  assert.equal(s.lines.length, 3);
  assert.equal(log.subscribers, 0);
  assert.equal(s.held, false, 'the connection is released');
});

test('a slow follower: at most maxBuffered (+ one event) unsent, then the events the log let go as one events.dropped', async () => {
  const log = new EventLog({ maxEvents: 50 });
  const s = fakeSink();
  follow(log, undefined, s.sink, 4096);
  await turn();
  let peak = 0;
  for (let i = 1; i <= 1000; i++) {
    log.record(draft(i));
    peak = Math.max(peak, s.unsent);
  }
  const oneEvent = Math.max(...s.lines.map((l) => Buffer.byteLength(l)));
  assert.ok(peak <= 4096 + oneEvent, `${peak} bytes unsent at most`);
  const before = parsed(s.lines).map((m) => m.params.seq);
  assert.deepEqual(
    before,
    Array.from({ length: before.length }, (_, i) => i + 1),
    'in order, none skipped',
  );
  s.lines.length = 0;
  s.drain();
  const after = parsed(s.lines);
  assert.equal(after[0]?.method, 'events.dropped');
  const last = before[before.length - 1] as number;
  assert.deepEqual(after[0]?.params, { count: 950 - last, fromSeq: last + 1, toSeq: 950 });
  assert.deepEqual(
    after.slice(1, 4).map((m) => m.params.seq),
    [951, 952, 953],
    'then what the log holds, in order',
  );
  s.close();
  assert.equal(log.subscribers, 0, 'a closed connection stops its follower');
});

test('a follower from a seq older than the log holds is told the gap first', async () => {
  const log = new EventLog({ maxEvents: 3 });
  for (let i = 1; i <= 10; i++) log.record(draft(i));
  const s = fakeSink();
  follow(log, 2, s.sink);
  await turn();
  assert.deepEqual(
    parsed(s.lines).map((m) => [m.method, m.params.seq ?? m.params.count]),
    [
      ['events.dropped', 5],
      ['events.event', 8],
      ['events.event', 9],
      ['events.event', 10],
    ],
  );
  s.close();
});

const record = (over: Partial<AttachmentRecord> = {}): AttachmentRecord =>
  ({
    guestId: 'netns:cookie:7',
    ifname: 'eth1',
    id: 'abc',
    mode: 'ovs',
    host: 'ovs0',
    hostIfname: 'npabch',
    addresses: ['10.0.0.2/24'],
    mac: '02:00:00:00:00:01',
    vlan: 100,
    mtu: 1500,
    ...over,
  }) as AttachmentRecord;

test('what outcomes record: an attach (ok, error), a detach of each interface, gc (each removal, the summary; a dry run nothing)', () => {
  const why = whyOf({ via: 'front-door', program: 'netplumb', uid: 0, pid: 9 });
  assert.equal(why, 'requested by uid 0 (pid 9) via the netplumb CLI');
  assert.equal(whyOf({ via: 'api', uid: 1000, pid: 3 }), 'requested by uid 1000 (pid 3) via the API');
  assert.deepEqual(
    attachEvents(
      { host: 'ovs0', guest: 'x', ip: { kind: 'none' } },
      { result: { changed: true, record: record() } },
      why,
    ),
    [
      {
        kind: 'attach',
        guest: 'netns:cookie:7',
        ifname: 'eth1',
        hostIfname: 'npabch',
        bridge: 'ovs0',
        vlan: 100,
        why,
        result: 'ok',
        changed: true,
      },
    ],
  );
  const err = new NetplumbError(ErrorCode.NOT_FOUND, 'no such namespace');
  const [failed] = attachEvents(
    { host: 'ovs0', guest: 'netns:nope', ip: { kind: 'none' }, vlan: 5 },
    { error: err },
    why,
  );
  assert.deepEqual(failed, {
    kind: 'attach',
    guest: 'netns:nope',
    bridge: 'ovs0',
    vlan: 5,
    why,
    result: 'error',
    error: { code: 'NOT_FOUND', message: 'no such namespace' },
  });
  const two = detachEvents({ guest: 'x' }, { result: { detached: [record(), record({ ifname: 'eth2' })] } }, why);
  assert.deepEqual(
    two.map((e) => [e.kind, e.ifname, e.changed]),
    [
      ['detach', 'eth1', true],
      ['detach', 'eth2', true],
    ],
  );
  assert.equal(detachEvents({ guest: 'x' }, { result: { detached: [] } }, why)[0]?.changed, false);
  const gc = {
    dryRun: false,
    graceSeconds: 0,
    removed: [
      {
        attachment: 'abc',
        record: record(),
        ports: ['npabch'],
        link: 'npabch',
        reason: 'guest-gone' as const,
        detail: 'container gone',
      },
    ],
    kept: [],
  };
  const daemonWhy = whyOf({ via: 'daemon', what: 'periodic gc' });
  const events = gcEvents(false, { result: gc }, daemonWhy);
  assert.deepEqual(
    events.map((e) => [e.kind, e.hostIfname, e.why]),
    [
      ['gc-removed', 'npabch', "gc: container gone; run by the daemon's periodic gc"],
      ['gc', undefined, "the daemon's periodic gc"],
    ],
  );
  assert.deepEqual(gcEvents(true, { result: { ...gc, dryRun: true } }, why), []);
  const nothing = { ...gc, removed: [] };
  assert.deepEqual(gcEvents(false, { result: nothing }, daemonWhy, true), [], "the daemon's own run of nothing");
  assert.deepEqual(
    gcEvents(false, { result: nothing }, why).map((e) => [e.kind, e.changed, e.detail]),
    [['gc', false, 'removed 0, kept 0 (grace 0 s)']],
    'a run someone asked for is recorded',
  );
});
