/**
 * gc's rules (src/plumb/gc.ts `judge`), pure: which attachment is removed, which kept,
 * and the reason for each. The privileged tests check the same against a real OVS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge, type LinkView, type PortView, type UnrecordedLinkView } from '../../src/plumb/gc.js';
import {
  ATTACHING_GROUPS,
  aliasFor,
  attachingGroup,
  attachingSinceOfGroup,
  decodeAlias,
  unrecordedSince,
  type AttachmentRecord,
} from '../../src/plumb/record.js';
import { SCRATCH_GROUPS } from '../../src/rtnl/link.js';

const NOW = Date.parse('2030-01-01T00:10:00Z');
const LONG_AGO = NOW - 3600_000;
const GRACE_MS = 60_000;

function record(id: string, mode: AttachmentRecord['mode'] = 'ovs'): AttachmentRecord {
  return {
    id,
    guestId: `c-${id}`,
    ifname: 'eth1',
    mode,
    host: 'ovs0',
    hostIfname: `np${id}h`,
    addresses: [],
    mac: '',
    mtu: 1500,
  };
}
const link = (id: string, extra: Partial<LinkView> = {}): LinkView => ({
  index: 10,
  name: `np${id}h`,
  record: record(id),
  ...extra,
});
const port = (id: string, extra: Partial<PortView> = {}): PortView => ({
  uuid: `u-${id}`,
  name: `np${id}h`,
  attachment: id,
  record: record(id),
  created: LONG_AGO,
  ofport: 3,
  ...extra,
});

/** A veth an attach created (in its attaching group) and was stopped before recording. */
const bare = (name: string, attachingSince: number, attachment?: string): UnrecordedLinkView => ({
  index: 20,
  name,
  ...(attachment !== undefined ? { attachment } : {}),
  attachingSince,
});

function verdicts(
  links: LinkView[],
  ports: PortView[],
  inFlight: string[] = [],
  unrecorded: UnrecordedLinkView[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const j of judge(links, ports, { now: NOW, graceMs: GRACE_MS, inFlight: new Set(inFlight) }, unrecorded))
    out[j.entry.attachment] = `${j.remove ? 'remove' : 'keep'} ${j.entry.reason}`;
  return out;
}

test('healthy, dead, broken and half-done attachments', () => {
  assert.deepEqual(
    verdicts(
      [link('ok'), link('noport'), link('half', { attachingSince: LONG_AGO }), link('err')],
      [
        port('ok'),
        port('gone'),
        port('err', { error: 'could not open network device npErrh (No such device)' }),
        port('minus', { ofport: -1 }),
        port('pending', { ofport: undefined }),
      ],
    ),
    {
      ok: 'keep in-use',
      noport: 'remove port-gone',
      half: 'remove unfinished',
      err: 'remove interface-error',
      gone: 'remove guest-gone',
      minus: 'remove guest-gone',
      pending: 'remove guest-gone',
    },
  );
});

test('an interface not configured yet (no ofport) is not an error', () => {
  assert.deepEqual(verdicts([link('a')], [port('a', { ofport: undefined })]), { a: 'keep in-use' });
});

test('young or in flight: kept, whatever looks wrong; the grace period counts from the newest stamp', () => {
  assert.deepEqual(
    verdicts(
      [link('young', { attachingSince: NOW - 5000 }), link('flight', { attachingSince: LONG_AGO })],
      [port('young', { created: NOW - 5000 }), port('deadyoung', { created: NOW - 1000 }), port('flight')],
      ['flight'],
    ),
    { young: 'keep attaching', deadyoung: 'keep attaching', flight: 'keep in-flight' },
  );
  assert.deepEqual(
    verdicts([], [port('edge', { created: NOW - GRACE_MS })]),
    { edge: 'remove guest-gone' },
    'exactly the grace period old: collected',
  );
});

test('records without a stamp (written before it existed) are judged by state alone', () => {
  assert.deepEqual(verdicts([link('old')], [port('old', { created: undefined, error: 'x' })]), {
    old: 'remove interface-error',
  });
  assert.deepEqual(verdicts([link('br', { record: record('br', 'bridge') })], []), { br: 'keep in-use' });
});

test('the alias carries the "attaching since" stamp only until the attach finished, and fits 255 bytes', () => {
  const r: AttachmentRecord = {
    ...record('abcdefghij'),
    guestId: 'f'.repeat(64),
    ifname: 'x'.repeat(15),
    hostIfname: 'y'.repeat(15),
    host: 'z'.repeat(15),
    mode: 'macvlan',
  };
  const pending = aliasFor(r, NOW);
  assert.ok(Buffer.byteLength(pending) <= 255, `${Buffer.byteLength(pending)} bytes`);
  assert.equal(decodeAlias(pending)?.attachingSince, NOW);
  assert.equal(decodeAlias(aliasFor(r))?.attachingSince, undefined);
  assert.equal('since' in (decodeAlias(pending)?.record ?? {}), false, 'the stamp is not part of the record');
});

test('a veth without a record (its attach stopped before writing it) is unfinished: removed after the grace period', () => {
  assert.deepEqual(
    verdicts(
      [link('ok')],
      [port('ok'), port('stale', { ofport: undefined })],
      ['npflighth'],
      [
        bare('npoldh', LONG_AGO, 'old'),
        bare('npyoungh', NOW - 5000, 'young'),
        bare('npflighth', LONG_AGO, 'flight'),
        bare('mine0', LONG_AGO),
        bare('npstaleh', LONG_AGO, 'stale'),
        bare('npokh2', LONG_AGO, 'ok'),
      ],
    ),
    {
      ok: 'keep in-use',
      old: 'remove unfinished',
      young: 'keep attaching',
      flight: 'keep in-flight',
      'link:mine0': 'remove unfinished',
      stale: 'remove unfinished',
      'link:npokh2': 'remove unfinished',
    },
  );
  const [stale] = judge([], [port('stale')], { now: NOW, graceMs: GRACE_MS, inFlight: new Set() }, [
    bare('npstaleh', LONG_AGO, 'stale'),
  ]);
  assert.deepEqual(
    [stale?.remove, stale?.link?.name, stale?.ports.map((p) => p.name)],
    [true, 'npstaleh', ['npstaleh']],
    'its port, if the attachment its name says has one, goes with it',
  );
  assert.match(stale?.entry.detail ?? '', /stopped before recording veth "npstaleh"/);
});

test('the attaching group says when the attach began, to the second, modulo 2^24 s', () => {
  const t = Date.parse('2030-01-01T00:00:00.750Z');
  const g = attachingGroup(t);
  assert.ok(g >= ATTACHING_GROUPS.first && g < ATTACHING_GROUPS.first + ATTACHING_GROUPS.count);
  assert.equal(attachingSinceOfGroup(g, t), Math.floor(t / 1000) * 1000);
  assert.equal(attachingSinceOfGroup(g, t + 3600_000), Math.floor(t / 1000) * 1000, 'an hour later');
  assert.equal(attachingSinceOfGroup(g, t - 30_000), Math.floor(t / 1000) * 1000, 'the clock set back 30 s');
  const turn = ATTACHING_GROUPS.count * 1000;
  assert.equal(attachingSinceOfGroup(g, t + turn + 5000), Math.floor(t / 1000) * 1000 + turn, 'one turn later');
  // Across the wrap of the stamp: begun just before it, read just after.
  const beforeWrap = Math.ceil(t / turn) * turn - 2000;
  assert.equal(attachingSinceOfGroup(attachingGroup(beforeWrap), beforeWrap + 4000), beforeWrap);
  for (const other of [0, 7, 4242, ATTACHING_GROUPS.first - 1, ATTACHING_GROUPS.first + ATTACHING_GROUPS.count])
    assert.equal(attachingSinceOfGroup(other, t), undefined, `group ${other}`);
});

test('only a veth in an attaching group and with no alias is a veth without its record', () => {
  const group = attachingGroup(NOW);
  assert.equal(unrecordedSince({ kind: 'veth', group }, NOW), Math.floor(NOW / 1000) * 1000);
  assert.equal(unrecordedSince({ kind: 'veth', group, alias: '' }, NOW), Math.floor(NOW / 1000) * 1000);
  assert.equal(unrecordedSince({ kind: 'veth', group, alias: 'other-tool' }, NOW), undefined);
  assert.equal(unrecordedSince({ kind: 'dummy', group }, NOW), undefined);
  assert.equal(unrecordedSince({ kind: 'veth', group: 0 }, NOW), undefined);
});

test('the bulk delete never borrows an attaching group', () => {
  const attachingLast = ATTACHING_GROUPS.first + ATTACHING_GROUPS.count - 1;
  assert.ok(attachingLast < SCRATCH_GROUPS.first || ATTACHING_GROUPS.first > SCRATCH_GROUPS.last);
});
