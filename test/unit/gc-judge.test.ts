/**
 * gc's rules (src/plumb/gc.ts `judge`), pure: which attachment is removed, which kept,
 * and the reason for each. The privileged tests check the same against a real OVS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge, type LinkView, type PortView } from '../../src/plumb/gc.js';
import { aliasFor, decodeAlias, type AttachmentRecord } from '../../src/plumb/record.js';

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

function verdicts(links: LinkView[], ports: PortView[], inFlight: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const j of judge(links, ports, { now: NOW, graceMs: GRACE_MS, inFlight: new Set(inFlight) }))
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
