/**
 * The topology tree from a host's state, without a host: OVSDB rows, links, records and
 * guests as they would be read. The seed scenario whole, then each broken state another
 * tool leaves behind — every one shown in place with its fix, never an exception — and the
 * JSON against its documented schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestFacts } from '../../src/topology/guests.js';
import { selectScope } from '../../src/topology/select.js';
import { scopeFor } from '../../src/topology/scope.js';
import { topologyText } from '../../src/topology/text.js';
import type { Topology } from '../../src/topology/model.js';
import type { Attachment } from '../../src/plumb/plumber.js';
import type { AttachmentRecord } from '../../src/plumb/record.js';
import type { InterfaceRow } from '../../src/ovsdb/index.js';
import { decodeLinkFlags } from '../../src/rtnl/link-decode.js';
import { loadSchema, validate } from '../helpers/json-schema.js';
import { host, running, seed, short } from './support/topology-fixture.js';

const schema = loadSchema('topology.schema.json');
function schemaValid(t: Topology): void {
  assert.deepEqual(validate(schema, JSON.parse(JSON.stringify(t))), []);
}

function issuesOf(t: Topology): string[] {
  return t.issues.map((i) => `${i.code} ${i.where.split(' ')[1]}`);
}

test('the seed: one OVS bridge, VLANs 100 and 200 with two guests each, the tunnel as a foreign uplink', () => {
  const t = host();
  schemaValid(t);
  assert.equal(t.bridges.length, 1);
  const b = t.bridges[0];
  assert.ok(b);
  assert.deepEqual(
    b.vlans.map((v) => [v.tag, v.ports.map((p) => p.attachment?.guest.name)]),
    [
      [100, ['con1', 'con2']],
      [200, ['con3', 'con4']],
    ],
  );
  assert.deepEqual(
    b.uplinks.map((p) => [p.name, p.owner, p.role, p.ovs?.options?.remote_ip]),
    [['vx0', 'foreign', 'tunnel', '127.0.0.2']],
  );
  assert.deepEqual(t.issues, []);
  assert.deepEqual(t.summary, {
    bridges: 1,
    vlans: 2,
    ports: 5,
    attachments: 4,
    foreignPorts: 1,
    issues: 0,
    broken: 0,
  });
  const text = topologyText(t);
  assert.match(text, /^ovs0 {2}OVS bridge, datapath netdev$/m);
  assert.match(
    text,
    /VLAN 100 {2}\(2 ports\)\n│ {2}├─ con1 eth1 {2}10\.0\.0\.1\/24 {2}02:00:00:00:00:02 {2}← port np1h ofport 1, up {3}netplumb/,
  );
  assert.match(text, /vx0 {2}vxlan tunnel → 127\.0\.0\.2 key 42 {2}ofport 9, no host link {3}foreign/);
  assert.match(text, /no issues/);
});

test('port deleted with ovs-vsctl: the record from the veth alone, the port under "missing", the fix fills in what the guest shows', () => {
  const t = host((s) => {
    const b = s.ovsBridges[0];
    if (b) b.ports = b.ports.filter((p) => p.row.name !== 'np1h');
    const a = s.attachments[0];
    if (a) s.attachments[0] = { ...a, record: short(seed[0] as AttachmentRecord), ofport: undefined } as Attachment;
  });
  schemaValid(t);
  const b = t.bridges[0];
  assert.deepEqual(
    b?.missing.map((p) => [p.name, p.ovs?.present, p.attachment?.recorded.complete]),
    [['np1h', false, false]],
  );
  assert.deepEqual(issuesOf(t), ['port-gone np1h']);
  const i = t.issues[0];
  assert.equal(i?.severity, 'broken');
  assert.equal(
    i?.fix,
    'netplumb detach --container con1 --ifname eth1 && netplumb attach --bridge ovs0 --container con1 --ifname eth1 --ip 10.0.0.1/24 --vlan <VID>',
  );
  assert.match(
    topologyText(t),
    /not on the bridge \(its port or the bridge is gone\)\n│ {2}└─ con1 eth1 .* no OVS port, up/,
  );
});

test('bridge deleted: every attachment under a bridge marked not present, each with a fix that recreates it', () => {
  const t = host((s) => {
    s.ovsBridges = [];
    s.attachments = s.attachments.map((a) => ({ ...a, record: short(a.record), ofport: undefined }) as Attachment);
  });
  schemaValid(t);
  assert.deepEqual(
    t.bridges.map((b) => [b.name, b.present, b.missing.length]),
    [['ovs0', false, 4]],
  );
  assert.deepEqual(issuesOf(t), ['bridge-gone np1h', 'bridge-gone np2h', 'bridge-gone np3h', 'bridge-gone np4h']);
  assert.match(
    t.issues[0]?.fix ?? '',
    /^netplumb detach --container con1 --ifname eth1 && netplumb attach --bridge ovs0 --create-bridge --container con1/,
  );
  assert.match(topologyText(t), /ovs0 {2}OVS bridge {2}✗ NOT PRESENT \(deleted\)/);
});

test('veth gone: by ip link del (guest runs), container restarted, removed, stopped — four reasons, four fixes', () => {
  const t = host((s) => {
    s.links = s.links.filter((l) => !['np1h', 'np2h', 'np3h', 'np4h'].includes(l.name));
    const [r1, r2, r3, r4] = seed as [AttachmentRecord, AttachmentRecord, AttachmentRecord, AttachmentRecord];
    s.guests = new Map<string, GuestFacts>([
      [r1.id, { kind: 'container', state: 'running', name: 'con1', pid: r1.pid as number }],
      [r2.id, { kind: 'container', state: 'restarted', name: 'con2', pid: 999 }],
      [r3.id, { kind: 'container', state: 'gone', name: 'con3', detail: 'no container 333333333333 any more' }],
      [r4.id, { kind: 'container', state: 'stopped', name: 'con4', detail: 'container is exited' }],
    ]);
  });
  schemaValid(t);
  assert.deepEqual(issuesOf(t), ['veth-gone np1h', 'guest-restarted np2h', 'guest-gone np3h', 'guest-stopped np4h']);
  const fix = (n: number): string => t.issues[n]?.fix ?? '';
  assert.equal(fix(0), 'netplumb attach --bridge ovs0 --container con1 --ifname eth1 --ip 10.0.0.1/24 --vlan 100');
  assert.equal(fix(1), 'netplumb attach --bridge ovs0 --container con2 --ifname eth1 --ip 10.0.0.2/24 --vlan 100');
  assert.match(t.issues[1]?.reason ?? '', /restarted \(pid 102 → 999\)/);
  assert.equal(fix(2), 'netplumb detach --container con3 --ifname eth1   (or netplumb gc)');
  assert.match(fix(3), /^netplumb detach --container con4 --ifname eth1 {3}\(or start it, then: netplumb attach/);
  for (const p of t.bridges[0]?.vlans.flatMap((v) => v.ports) ?? []) assert.equal(p.link, null);
});

test('drift: a port moved to another VLAN, an address removed, a link set down — shown with the command that restores each', () => {
  const t = host((s) => {
    const p3 = s.ovsBridges[0]?.ports.find((p) => p.row.name === 'np3h');
    if (p3) p3.row = { ...p3.row, tag: 100 };
    const r1 = seed[0] as AttachmentRecord;
    (s.guests as Map<string, GuestFacts>).set(r1.id, running(r1, []));
    const l2 = s.links.find((l) => l.name === 'np2h');
    if (l2) Object.assign(l2, { flags: decodeLinkFlags(0), rawFlags: 0, operstate: 'down' });
  });
  schemaValid(t);
  assert.deepEqual(issuesOf(t).sort(), ['address-drift np1h', 'link-down np2h', 'vlan-drift np3h']);
  const byCode = new Map(t.issues.map((i) => [i.code, i]));
  assert.equal(byCode.get('vlan-drift')?.fix, 'ovs-vsctl set Port np3h tag=200');
  assert.match(byCode.get('vlan-drift')?.reason ?? '', /OVS forwards it in VLAN 100, netplumb attached it to VLAN 200/);
  assert.equal(byCode.get('link-down')?.fix, 'ip link set np2h up');
  assert.equal(t.summary.broken, 0, 'drift is not broken');
  // Grouped where OVS forwards it: con3 now sits in VLAN 100.
  assert.deepEqual(
    t.bridges[0]?.vlans.map((v) => [v.tag, v.ports.length]),
    [
      [100, 3],
      [200, 1],
    ],
  );
});

test('interface in error, an unfinished attach, OVSDB unreachable: reported, never thrown', () => {
  const t = host((s) => {
    const p1 = s.ovsBridges[0]?.ports.find((p) => p.row.name === 'np1h');
    if (p1)
      p1.iface = {
        ...p1.iface,
        error: 'could not open network device np1h (No such device)',
        ofport: -1,
      } as InterfaceRow;
    const a2 = s.attachments[1];
    if (a2) s.attachments[1] = { ...a2, attachingSince: '2026-12-02T11:00:00.000Z' };
  });
  assert.deepEqual(issuesOf(t), ['interface-error np1h', 'unfinished np2h']);
  const off = host((s) => {
    s.ovsError = 'connect ENOENT unix:/run/openvswitch/db.sock';
    s.ovsBridges = [];
    s.attachments = s.attachments.map((a) => ({ ...a, record: short(a.record) }) as Attachment);
  });
  schemaValid(off);
  assert.equal(off.ovsdb.reachable, false);
  assert.deepEqual(
    off.issues.map((i) => i.code),
    ['ovsdb-unreachable'],
    'without OVSDB the OVS pieces are not judged (no false bridge-gone)',
  );
});

test('scopes: a bridge, a VLAN, a guest (with and without the interface); unknown ones are NOT_FOUND', () => {
  const t = host();
  const of = (word: string, ifname?: string): Topology =>
    selectScope(t, scopeFor({ word, ...(ifname ? { ifname } : {}) }, t));
  assert.equal(of('ovs0').scope.kind, 'bridge');
  const v = of('200');
  assert.deepEqual(v.scope, { kind: 'vlan', vlan: 200 });
  assert.deepEqual(
    v.bridges[0]?.vlans.map((g) => g.tag),
    [200],
  );
  assert.deepEqual(
    v.bridges[0]?.uplinks.map((p) => p.name),
    ['vx0'],
    'an untagged tunnel carries every VLAN',
  );
  const g = of('con3');
  assert.equal(g.summary.attachments, 1);
  assert.equal(of('con3', 'eth1').summary.attachments, 1);
  assert.equal(
    selectScope(t, scopeFor({ guest: { kind: 'container', container: '333333333333', label: '333333333333' } }, t))
      .summary.attachments,
    1,
    'by id prefix',
  );
  assert.throws(() => of('con9'), { code: 'NOT_FOUND' });
  assert.throws(() => of('con3', 'eth7'), { code: 'NOT_FOUND' });
  assert.throws(() => of('4000'), { code: 'NOT_FOUND' });
  schemaValid(g);
});
