/**
 * The attach modes' registry (src/plumb/modes/): which mode takes a host interface, asked
 * for or detected as pipework detects it, and what each mode decides or refuses for a plan.
 * Pure decisions, on links as the kernel reports them; the privileged plumb-*.test.ts
 * check the same modes against the real kernel and OVS. An InfiniBand NIC cannot be made
 * here (no hardware), so its refusal is checked on its link type here only.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { HostServices } from '../../src/plumb/host-services.js';
import { MODES, REMOTE_STORES, modeOf, modeOfRecord, targetOf } from '../../src/plumb/modes/index.js';
import type { HostProbe } from '../../src/plumb/modes/mode.js';
import { parseAttachSpec } from '../../src/plumb/parse-spec.js';
import { ATTACH_MODES, type AttachSpec } from '../../src/plumb/spec.js';
import type { Link } from '../../src/rtnl/index.js';
import { isNetplumbError, throwsCode } from './support/assert-error.js';

/** A link as the kernel reports it (only what detection reads). */
function link(name: string, kind: string | undefined, type = 1, mtu = 1500): Link {
  return { name, kind, type, mtu, index: 7, flags: { up: true } } as unknown as Link;
}

/** Host services that fail the test if detection touches them (it must decide from the link alone). */
const untouchable = new Proxy({} as HostServices, {
  get: (_, key) => {
    throw new Error(`detection used the host services (${String(key)})`);
  },
});

/** OVSDB with the bridges named (and nothing else). */
function withOvsBridges(...bridges: string[]): HostServices {
  const vs = {
    getBridge: async (n: string) => (bridges.includes(n) ? { datapathType: 'netdev' } : undefined),
    remote: 'unix:test',
  };
  return { vswitch: async () => vs } as unknown as HostServices;
}

const probe = (name: string, l: Link | undefined, host = untouchable, createBridge = false): HostProbe => ({
  name,
  link: l,
  createBridge,
  host,
});

test('every AttachMode has its module under its own name, and the stores are listed once', () => {
  assert.deepEqual(Object.keys(MODES).sort(), [...ATTACH_MODES].sort());
  for (const name of ATTACH_MODES) assert.equal(MODES[name].name, name);
  assert.deepEqual(
    Object.values(MODES).map((m) => [m.name, m.side]),
    [
      ['ovs', 'host'],
      ['bridge', 'host'],
      ['macvlan', 'guest'],
      ['dummy', 'guest'],
      ['phys', 'guest'],
      ['ovn', 'host'],
    ],
  );
  assert.deepEqual(
    REMOTE_STORES.map((s) => s.what),
    ['OVS port', 'OVN logical port'],
  );
  assert.deepEqual(
    MODES.ovn.stores.map((s) => s.what),
    ['OVS port', 'OVN logical port'],
    'an OVN attachment owns an OVS port and a logical port',
  );
});

test('a mode this version does not know (a record of another version) is no mode; removing it is UNSUPPORTED', () => {
  assert.equal(modeOf('vxlan'), undefined);
  assert.equal(modeOf('__proto__'), undefined);
  assert.equal(modeOf('ipoib'), undefined);
  throwsCode(() => modeOfRecord({ id: 'abc', mode: 'vxlan' }), 'UNSUPPORTED', 'mode');
  assert.equal(modeOfRecord({ id: 'abc', mode: 'macvlan' }), MODES.macvlan);
});

test('detection, as pipework: a Linux bridge, an OVS bridge, a dummy* name, else a NIC for a macvlan', async () => {
  const detect = async (p: HostProbe) => (await targetOf(p, undefined))?.mode;
  assert.equal(await detect(probe('br0', link('br0', 'bridge'))), 'bridge');
  assert.equal(await detect(probe('eth0', link('eth0', undefined))), 'macvlan');
  assert.equal(await detect(probe('dummy3', undefined)), 'dummy');
  assert.equal(await detect(probe('eth9', undefined)), undefined, 'nothing takes a missing NIC');
  assert.equal(await detect(probe('ovs0', link('ovs0', 'tun'), withOvsBridges('ovs0'))), 'ovs');
  assert.equal(
    await detect(probe('ovs1', undefined, withOvsBridges('ovs1'))),
    'ovs',
    'a bridge of OVSDB without a kernel device yet',
  );
  // A tap device that is no OVS bridge is a NIC.
  assert.equal(await detect(probe('tap0', link('tap0', 'tun'), withOvsBridges())), 'macvlan');
  const target = await targetOf(probe('eth0', link('eth0', undefined, 1, 9000)), undefined);
  assert.deepEqual([target?.name, target?.mtu, target?.created], ['eth0', 9000, false]);
});

test('an InfiniBand NIC (link type 32) is refused as IPoIB, unsupported, asked for as a macvlan parent or not', async () => {
  const ib = link('ib0', undefined, 32, 2044);
  for (const asked of [undefined, 'macvlan' as const])
    await assert.rejects(
      targetOf(probe('ib0', ib), asked),
      isNetplumbError('UNSUPPORTED', 'host', /InfiniBand \(IPoIB\)/),
    );
  // Moving the NIC itself is another matter: --direct-phys takes it.
  assert.equal((await targetOf(probe('ib0', ib), 'phys'))?.mode, 'phys');
});

test('a mode asked for takes the host interface or refuses it', async () => {
  await assert.rejects(
    targetOf(probe('eth0', link('eth0', undefined)), 'bridge'),
    isNetplumbError('CONFLICT', 'host', /not a Linux bridge/),
  );
  await assert.rejects(
    targetOf(probe('br7', undefined), 'bridge'),
    isNetplumbError('NOT_FOUND', 'host', /--create-bridge/),
  );
  await assert.rejects(
    targetOf(probe('ovs7', undefined, withOvsBridges()), 'ovs'),
    isNetplumbError('NOT_FOUND', 'host', /in unix:test/),
  );
  await assert.rejects(
    targetOf(probe('eth9', undefined), 'macvlan'),
    isNetplumbError('NOT_FOUND', 'host', /does not exist/),
  );
  // A NIC already moved into its guest by an earlier --direct-phys: the attach finds its record there.
  assert.deepEqual(await targetOf(probe('eth5', undefined), 'phys'), {
    mode: 'phys',
    name: 'eth5',
    mtu: 0,
    created: false,
  });
  // A dummy asked for is a dummy, whatever the host has of that name.
  assert.equal((await targetOf(probe('dummy0', link('dummy0', 'dummy')), 'dummy'))?.mode, 'dummy');
});

test("each mode's settings: its defaults for the record, and what it refuses", async () => {
  const plan = (extra: Partial<AttachSpec>) =>
    parseAttachSpec({ host: 'x0', guest: { container: 'c1' }, ip: { kind: 'none' }, ...extra });
  const eth = { mode: 'macvlan' as const, name: 'eth0', mtu: 9000, created: false };
  assert.deepEqual(MODES.macvlan.settings(plan({}), eth), { mtu: 9000, macvlanMode: 'bridge' });
  assert.deepEqual(MODES.macvlan.settings(plan({ macvlanMode: 'vepa', mtu: 1400 }), eth), {
    mtu: 1400,
    macvlanMode: 'vepa',
  });
  assert.deepEqual(MODES.ovs.settings(plan({ trunks: [10, 20] }), { ...eth, mode: 'ovs' }), { mtu: 9000 });
  assert.deepEqual(MODES.phys.settings(plan({}), { ...eth, mode: 'phys' }), { mtu: 0 }, 'a moved NIC keeps its MTU');
  assert.throws(
    () => MODES.bridge.settings(plan({ vlan: 10 }), { ...eth, mode: 'bridge' }),
    isNetplumbError('INVALID_ARGUMENT', 'vlan', /Open vSwitch/),
  );
  for (const m of ['bridge', 'macvlan', 'dummy', 'phys'] as const)
    assert.throws(
      () => MODES[m].settings(plan({ trunks: [10] }), { ...eth, mode: m }),
      isNetplumbError('INVALID_ARGUMENT', 'trunks'),
      m,
    );
});

test("an OVN network attachment: a network implies mode ovn, its VLAN is the network's, its MAC known beforehand", () => {
  const spec = { host: 'br-int', guest: { container: 'c1' }, ip: { kind: 'none' } } as const;
  const plan = parseAttachSpec({ ...spec, network: 'vlan100' });
  assert.equal(plan.mode, 'ovn');
  assert.equal(plan.network, 'vlan100');
  assert.throws(() => parseAttachSpec({ ...spec, mode: 'ovn' }), isNetplumbError('INVALID_ARGUMENT', 'network'));
  assert.throws(
    () => parseAttachSpec({ ...spec, mode: 'ovs', network: 'vlan100' }),
    isNetplumbError('INVALID_ARGUMENT', 'mode'),
  );
  for (const bad of ['', 'a b', '-x', 'a/b', 'x'.repeat(65)])
    assert.throws(() => parseAttachSpec({ ...spec, network: bad }), isNetplumbError('INVALID_ARGUMENT', 'network'));
  const target = { mode: 'ovn' as const, name: 'br-int', mtu: 1442, created: false };
  const settings = MODES.ovn.settings(plan, target);
  assert.equal(settings.mtu, 1442, "the network's MTU");
  const mac = settings.macFor?.('abcdefghij');
  assert.match(mac ?? '', /^02(:[0-9a-f]{2}){5}$/);
  assert.equal(settings.macFor?.('abcdefghij'), mac, 'the same attachment, the same MAC');
  assert.notEqual(settings.macFor?.('abcdefghik'), mac);
  assert.throws(
    () => MODES.ovn.settings(parseAttachSpec({ ...spec, network: 'n', vlan: 100 }), target),
    isNetplumbError('INVALID_ARGUMENT', 'vlan', /network create/),
  );
});
