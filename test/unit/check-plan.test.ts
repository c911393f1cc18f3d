/**
 * check without a host: ICMP echo encoding against a ping packet's bytes, the pairs and
 * their expectation from a topology (VLAN, bridge, subnet, broken, trunk), the matrix text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEcho, encodeEchoRequest, internetChecksum } from '../../src/check/icmp.js';
import { participants, planPairs } from '../../src/check/plan.js';
import { checkText } from '../../src/check/report.js';
import { checkExitCode, CHECK_SCHEMA, type CheckReport } from '../../src/check/model.js';
import type { Attachment } from '../../src/plumb/plumber.js';
import type { AttachmentRecord } from '../../src/plumb/record.js';
import { host, record, seed, short } from './support/topology-fixture.js';
import { loadSchema, validate } from '../helpers/json-schema.js';

test('ICMP echo: the bytes ping sends (checksum included), decoded back through an IPv4 header; ICMPv6 left for the kernel to sum', () => {
  const token = Buffer.from('0102030405060708', 'hex');
  const m = encodeEchoRequest(4, 0x1234, 7, token);
  assert.equal(m.toString('hex'), '0800d5b0123400070102030405060708');
  assert.equal(internetChecksum(m), 0, 'a message with its checksum sums to 0');
  // The reply as a raw IPv4 socket delivers it: a 20-byte header, then type 0.
  const reply = Buffer.from(m);
  reply[0] = 0;
  reply.writeUInt16BE(0, 2);
  reply.writeUInt16BE(internetChecksum(reply), 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  assert.deepEqual(decodeEcho(4, Buffer.concat([ip, reply])), { family: 4, reply: true, id: 0x1234, seq: 7, token });
  const corrupt = Buffer.concat([ip, reply]);
  corrupt[30] = (corrupt[30] ?? 0) ^ 0xff;
  assert.equal(decodeEcho(4, corrupt), undefined, 'a bad checksum is not a reply');
  const v6 = encodeEchoRequest(6, 1, 2, token);
  assert.equal(v6[0], 128);
  assert.equal(v6.readUInt16BE(2), 0);
  assert.equal(decodeEcho(6, Buffer.from([129, 0, 0, 0, 0, 1, 0, 2, ...token]))?.reply, true);
  assert.equal(decodeEcho(6, Buffer.from([135, 0, 0, 0, 0, 0, 0, 0, ...token])), undefined, 'NDP is not an echo');
});

function expectations(
  t: ReturnType<typeof host>,
  strict = false,
  networks: ReadonlyMap<string, string> = new Map(),
): string[] {
  return planPairs(participants(t, networks), { strict })
    .map(
      (p) =>
        `${p.from.guest}>${p.to.guest} ${p.skip !== undefined ? 'skip' : p.expected ? 'reach' : 'isolated'}${p.crossSegment ? ' x' : ''}`,
    )
    .sort();
}

test('the seed: same VLAN reaches, across VLANs is isolated and a reply there would be a leak', () => {
  assert.deepEqual(expectations(host()), [
    'con1>con2 reach',
    'con1>con3 isolated x',
    'con1>con4 isolated x',
    'con2>con1 reach',
    'con2>con3 isolated x',
    'con2>con4 isolated x',
    'con3>con1 isolated x',
    'con3>con2 isolated x',
    'con3>con4 reach',
    'con4>con1 isolated x',
    'con4>con2 isolated x',
    'con4>con3 reach',
  ]);
});

test('the expectation is the record: a port moved to another VLAN in OVS still counts as its recorded VLAN', () => {
  const moved = host((s) => {
    const p3 = s.ovsBridges[0]?.ports.find((p) => p.row.name === 'np3h');
    if (p3) p3.row = { ...p3.row, tag: 100 };
  });
  assert.deepEqual(expectations(moved), expectations(host()));
  const drift = participants(moved).find((p) => p.guest === 'con3')?.drift;
  assert.deepEqual(
    drift?.map((d) => d.code),
    ['vlan-drift'],
  );
});

test('different subnets on one VLAN are not expected to reach; broken attachments are skipped unless strict; trunks reach no one untagged', () => {
  const [r1, r2, r3] = seed as [AttachmentRecord, AttachmentRecord, AttachmentRecord];
  const other: AttachmentRecord = { ...r2, addresses: ['10.9.0.2/24'] };
  const trunk: AttachmentRecord = { ...record(5, 0), vlan: undefined, trunks: [100, 200], addresses: ['10.0.0.5/24'] };
  const t = host(
    (s) => {
      const b = s.ovsBridges[0];
      if (b) b.ports = b.ports.filter((p) => p.row.name !== 'np3h');
      s.attachments = s.attachments.map((a) =>
        a.record.id === r3.id ? ({ ...a, record: short(r3) } as Attachment) : a,
      );
      const p5 = b?.ports.find((p) => p.row.name === 'np5h');
      if (p5) p5.row = { ...p5.row, tag: undefined, trunks: [100, 200], vlanMode: 'trunk' };
    },
    [r1, other, r3, trunk],
  );
  const e = expectations(t);
  assert.ok(e.includes('con1>con2 isolated'), 'same VLAN, other subnet');
  assert.ok(e.includes('con1>con3 skip x') && e.includes('con3>con1 skip x'), 'con3 has no port: skipped both ways');
  assert.ok(
    e.includes('con1>con5 isolated x') && e.includes('con5>con1 isolated x'),
    'a trunk port: its untagged frames are in no VLAN',
  );
  assert.ok(
    expectations(t, true).includes('con1>con3 isolated x'),
    '--strict: probed, as far as the record tells (VLAN unknown)',
  );
});

test('OVN attachments: their segment is the recorded network, not the untagged port they share on the bridge', () => {
  const ovn = (i: number): AttachmentRecord => ({ ...record(i, 0), mode: 'ovn', vlan: undefined });
  const t = host(() => undefined, [ovn(1), ovn(2), ovn(3), record(4, 0)]);
  const networks = new Map([
    ['id1', 'vlan100'],
    ['id2', 'vlan100'],
    ['id3', 'vlan200'],
  ]);
  const e = expectations(t, false, networks);
  assert.ok(e.includes('con1>con2 reach') && e.includes('con2>con1 reach'), 'one network: reach');
  assert.ok(
    e.includes('con1>con3 isolated x') && e.includes('con3>con2 isolated x'),
    'two networks: a reply is a leak',
  );
  assert.ok(
    e.includes('con1>con4 isolated x') && e.includes('con4>con3 isolated x'),
    'an OVN network and a plain untagged port of the same bridge are different segments',
  );
  assert.ok(
    expectations(t).includes('con1>con2 isolated x'),
    'an OVN attachment whose network is not known is in no segment',
  );
  const ps = participants(t, networks);
  assert.deepEqual(
    ps.map((p) => [p.guest, p.vlan, p.network]),
    [
      ['con1', undefined, 'vlan100'],
      ['con2', undefined, 'vlan100'],
      ['con3', undefined, 'vlan200'],
      ['con4', 0, undefined],
    ],
  );
  const report: CheckReport = {
    schema: CHECK_SCHEMA,
    verdict: 'match',
    attachments: ps.map(({ port: _p, prefixes: _x, segment: _s, ...a }) => a),
    pairs: planPairs(ps).map((p) => ({
      from: p.from.id,
      to: p.to.id,
      expected: p.expected,
      reached: p.expected,
      verdict: 'ok',
    })),
    summary: {
      attachments: 4,
      pairs: 12,
      probed: 12,
      ok: 12,
      leaks: 0,
      unexpected: 0,
      missing: 0,
      skipped: 0,
      probesSent: 12,
    },
    timeoutMs: 3000,
    durationMs: 3100,
    neighboursRemoved: 0,
  };
  assert.deepEqual(validate(loadSchema('check.schema.json'), JSON.parse(JSON.stringify(report))), []);
  const text = checkText(report);
  assert.match(text, /from \\ to +con1 vlan100 +con2 vlan100 +con3 vlan200 +con4 untagged\n/);
  assert.match(text, /MATCH: 12\/12 pairs as the VLANs and OVN networks say/);
});

test('the report: a matrix with the differences listed leaks first, the verdict and exit status, valid against the schema', () => {
  const ps = participants(host());
  const pairs = planPairs(ps);
  const byGuest = (id: string): string => ps.find((p) => p.id === id)?.guest ?? '';
  const report: CheckReport = {
    schema: CHECK_SCHEMA,
    verdict: 'leak',
    attachments: ps.map(({ port: _p, prefixes: _x, segment: _v, ...a }) => a),
    pairs: pairs.map((p) => {
      const leak = byGuest(p.from.id) === 'con1' && byGuest(p.to.id) === 'con3';
      const missing = byGuest(p.from.id) === 'con4' && byGuest(p.to.id) === 'con3';
      const reached = leak || (p.expected && !missing);
      return {
        from: p.from.id,
        to: p.to.id,
        address: p.target?.address ?? '',
        expected: p.expected,
        reached,
        verdict: leak ? 'leak' : missing ? 'missing' : 'ok',
      };
    }),
    summary: {
      attachments: 4,
      pairs: 12,
      probed: 12,
      ok: 10,
      leaks: 1,
      unexpected: 0,
      missing: 1,
      skipped: 0,
      probesSent: 30,
    },
    timeoutMs: 3000,
    durationMs: 3100,
    neighboursRemoved: 12,
  };
  assert.deepEqual(validate(loadSchema('check.schema.json'), JSON.parse(JSON.stringify(report))), []);
  const text = checkText(report);
  assert.match(text, /from \\ to {2}con1 @100 {2}con2 @100 {2}con3 @200 {2}con4 @200/);
  assert.match(text, /con1 @100 {2}· {10}✓ {10}✓!! {8}✗/);
  const leakAt = text.indexOf('LEAK       con1 eth1 (ovs0 @100) → con3 eth1 (ovs0 @200) 10.0.0.3');
  const missingAt = text.indexOf('MISSING    con4 eth1 (ovs0 @200) → con3 eth1 (ovs0 @200)');
  assert.ok(leakAt > 0 && missingAt > leakAt, text);
  assert.match(text, /LEAK: 1 pair reach each other across VLANs or bridges/);
  assert.deepEqual([checkExitCode('match'), checkExitCode('missing'), checkExitCode('leak')], [0, 1, 17]);
});
