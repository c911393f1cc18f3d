/**
 * The attach plan (src/plumb/plan.ts): one attach, written for each boundary — a library
 * AttachSpec, the same spec as the daemon receives it (JSON, then its params check), a
 * `netplumb attach` line, a `pipework` line — is parsed into the same plan; the spec a
 * command line hands the engine carries that plan, and parsing that spec again gives it
 * back. Errors keep the field each boundary names.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNetplumbArgs } from '../../src/cli/netplumb-args.js';
import { parsePipeworkArgs } from '../../src/cli/pipework-args.js';
import { attachParams } from '../../src/daemon/params.js';
import { parseAttachSpec, planOf } from '../../src/plumb/parse-spec.js';
import { boundPlan, specOf, withCreateBridge, type AttachPlan } from '../../src/plumb/plan.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { isNetplumbError, throwsCode } from './support/assert-error.js';
import { fuzz } from './support/fuzz.js';

/** One attach in every boundary's syntax. */
interface Written {
  spec: AttachSpec;
  netplumb: string[];
  pipework: string[];
}

/** What a command line bound to the spec it returns: the spec must carry a plan. */
function planOfCommand(c: object): AttachPlan {
  const spec = (c as { spec?: AttachSpec }).spec;
  assert.ok(spec !== undefined, 'an attach command');
  const plan = boundPlan(spec);
  assert.ok(plan !== undefined, 'the spec a command line hands the engine is bound to its plan');
  return plan;
}

/** The plan of `w` through every boundary; all must be equal (returns it). */
function samePlanEverywhere(w: Written): AttachPlan {
  const library = parseAttachSpec(w.spec);
  const daemon = parseAttachSpec(attachParams(JSON.parse(JSON.stringify(w.spec))));
  const netplumb = planOfCommand(parseNetplumbArgs(['attach', ...w.netplumb]));
  const pipework = planOfCommand(parsePipeworkArgs(w.pipework));
  assert.deepEqual(daemon, library, 'daemon params');
  assert.deepEqual(netplumb, library, 'netplumb attach');
  assert.deepEqual(pipework, library, 'pipework');
  // What a command line sends a daemon parses there to the plan it made here.
  const sent = parseNetplumbArgs(['attach', ...w.netplumb]);
  assert.ok(sent.command === 'attach');
  assert.deepEqual(parseAttachSpec(attachParams(JSON.parse(JSON.stringify(sent.spec)))), library, 'sent to a daemon');
  // And a plan's spec is the plan again.
  assert.deepEqual(parseAttachSpec(specOf(library)), library, 'specOf round trip');
  return library;
}

test('the same attach gives the same plan at every boundary: OVS access port, gateway, stable MAC', () => {
  const plan = samePlanEverywhere({
    spec: {
      host: 'ovs0',
      vlan: 70,
      mac: 'U:web7',
      guest: { container: 'web7' },
      ip: { kind: 'static', address: '10.7.0.5/24', gateway: '10.7.0.254' },
      hostIfname: 'vweb7',
      ifname: 'eth3',
    },
    netplumb: [
      '--bridge=ovs0',
      '--container=web7',
      '--ifname=eth3',
      '--host-ifname=vweb7',
      '--ip=10.7.0.5/24@10.7.0.254',
      '--mac=U:web7',
      '--vlan=70',
    ],
    pipework: ['ovs0', '-i', 'eth3', '-l', 'vweb7', 'web7', '10.7.0.5/24@10.7.0.254', 'U:web7@70'],
  });
  // Parsed: the MAC derived (pipework's md5 of "web7\n"), the seed kept; the address and gateway as bytes.
  assert.deepEqual(plan.mac, { address: '02:f1:63:ea:6e:78', seed: 'web7' });
  assert.ok(plan.ip.kind === 'static');
  assert.equal(plan.ip.address.cidr, '10.7.0.5/24');
  assert.deepEqual([...plan.ip.address.bytes], [10, 7, 0, 5]);
  assert.equal(plan.ip.gateway?.address, '10.7.0.254');
  assert.deepEqual(plan.guest, { kind: 'container', container: 'web7', label: 'container "web7"' });
});

test('the same plan everywhere: IPv6, a namespace guest, a literal MAC in any spelling, DHCP, no address', () => {
  samePlanEverywhere({
    spec: {
      host: 'br1',
      guest: { netns: 'blue' },
      ip: { kind: 'static', address: '2001:db8::5/64' },
      mac: '02:42:ac:11:00:02',
    },
    netplumb: [
      '--bridge',
      'br1',
      '--container',
      'netns:blue',
      '--ip',
      '2001:DB8:0::5/64',
      '--mac',
      '02-42-AC-11-00-02',
    ],
    pipework: ['br1', 'netns:blue', '2001:db8::5/64', '02:42:AC:11:00:02'],
  });
  samePlanEverywhere({
    spec: {
      host: 'eth0',
      guest: { pid: 42 },
      ip: { kind: 'dhcp', client: 'dhclient', foreground: true, options: ['-v'] },
    },
    netplumb: ['--bridge', 'eth0', '--container', 'pid:42', '--ip', 'dhclient-f:-v'],
    pipework: ['eth0', 'pid:42', 'dhclient-f:-v'],
  });
  samePlanEverywhere({
    spec: {
      host: 'mac:02:42:AC:11:00:09',
      hostMac: '02:42:ac:11:00:09',
      guest: { path: '/run/netns/x' },
      ip: { kind: 'none' },
    },
    netplumb: ['--bridge', 'mac:02:42:AC:11:00:09', '--container', '/run/netns/x'],
    pipework: ['mac:02:42:AC:11:00:09', '/run/netns/x', '0/0'],
  });
});

test('options only the library and netplumb attach have: trunks (ascending), MTU, mode, flags, wait', () => {
  const spec: AttachSpec = {
    host: 'ovs0',
    guest: { container: 'web1' },
    ip: { kind: 'none' },
    trunks: [200, 100],
    mtu: 9000,
    mode: 'ovs',
    force: true,
    createBridge: true,
    allowHostNetns: true,
    waitUpMs: 5000,
  };
  const library = parseAttachSpec(spec);
  const cli = planOfCommand(
    parseNetplumbArgs(
      'attach --bridge ovs0 --container web1 --trunks 200,100 --mtu 9000 --mode ovs --force --create-bridge --allow-host-netns --wait-up 5'.split(
        ' ',
      ),
    ),
  );
  assert.deepEqual(cli, library);
  assert.deepEqual(library.trunks, [100, 200]);
  assert.deepEqual(parseAttachSpec(attachParams(JSON.parse(JSON.stringify(spec)))), library);
  // false flags are the same as absent ones.
  assert.deepEqual(parseAttachSpec({ ...spec, force: false }), parseAttachSpec({ ...spec, force: undefined }));
});

test('a spec bound to its plan is frozen; a changed copy is parsed afresh', () => {
  const c = parsePipeworkArgs(['ovs0', 'web1', '10.0.0.5/24', '@100']);
  assert.ok(c.kind === 'attach');
  assert.ok(Object.isFrozen(c.spec) && Object.isFrozen(c.spec.ip) && Object.isFrozen(c.spec.guest));
  assert.throws(() => {
    (c.spec as { vlan?: number }).vlan = 200;
  }, TypeError);
  assert.equal(planOf(c.spec), boundPlan(c.spec));
  const copy = { ...c.spec, vlan: 200 };
  assert.equal(boundPlan(copy), undefined);
  assert.equal(planOf(copy).vlan, 200);
  throwsCode(() => planOf({ ...c.spec, vlan: 4095 }), 'INVALID_ARGUMENT', 'vlan');
  // pipework's bridge creation keeps the plan bound, and changes only that.
  const created = withCreateBridge(c.spec);
  assert.deepEqual(boundPlan(created), { ...boundPlan(c.spec), createBridge: true });
  assert.equal(created.createBridge, true);
});

test('the same bad value is refused at every boundary, each naming its own field', () => {
  const base: AttachSpec = { host: 'ovs0', guest: { container: 'web1' }, ip: { kind: 'none' } };
  const cases: [Partial<AttachSpec>, string, string[], string, string[], string][] = [
    [{ vlan: 4095 }, 'vlan', ['--vlan', '4095'], 'vlan', ['ovs0', 'web1', '0/0', '@4095'], 'vlan'],
    [
      { ifname: 'a b' },
      'ifname',
      ['--ifname', 'a b'],
      'ifname',
      ['ovs0', '-i', 'a b', 'web1', '0/0'],
      'containerIfName',
    ],
    [
      { hostIfname: 'x'.repeat(16) },
      'hostIfname',
      ['--host-ifname', 'x'.repeat(16)],
      'host-ifname',
      ['ovs0', '-l', 'x'.repeat(16), 'web1', '0/0'],
      'hostIfName',
    ],
    [
      { mac: 'ff:ff:ff:ff:ff:ff' },
      'mac',
      ['--mac', 'ff:ff:ff:ff:ff:ff'],
      'mac',
      ['ovs0', 'web1', '0/0', 'ff:ff:ff:ff:ff:ff'],
      'mac',
    ],
    [{ mac: 'U:a b' }, 'mac', ['--mac', 'U:a b'], 'mac', ['ovs0', 'web1', '0/0', 'U:a b'], 'mac'],
    [
      { ip: { kind: 'static', address: '10.0.0.5' } },
      'ip',
      ['--ip', '10.0.0.5'],
      'ip',
      ['ovs0', 'web1', '10.0.0.5'],
      'ip',
    ],
    [
      { ip: { kind: 'static', address: '10.0.0.5/24', gateway: '10.0.0.5' } },
      'gateway',
      ['--ip', '10.0.0.5/24@10.0.0.5'],
      'gateway',
      ['ovs0', 'web1', '10.0.0.5/24@10.0.0.5'],
      'gateway',
    ],
    [{ guest: { container: 'a/b' } }, 'container', [], '', [], ''],
    [{ mtu: 67 }, 'mtu', ['--mtu', '67'], 'mtu', [], ''],
    [{ trunks: [7, 7] }, 'trunks', ['--trunks', '7,7'], 'trunks', [], ''],
    [{ vlan: 7, trunks: [8] }, 'trunks', ['--vlan', '7', '--trunks', '8'], 'trunks', [], ''],
  ];
  for (const [change, field, netplumb, netplumbField, pipework, pipeworkField] of cases) {
    const what = JSON.stringify(change);
    assert.throws(() => parseAttachSpec({ ...base, ...change }), isNetplumbError('INVALID_ARGUMENT', field), what);
    assert.throws(
      () => parseAttachSpec(attachParams(JSON.parse(JSON.stringify({ ...base, ...change })))),
      isNetplumbError('INVALID_ARGUMENT', field),
      `daemon ${what}`,
    );
    if (netplumb.length > 0)
      assert.throws(
        () => parseNetplumbArgs(['attach', '--bridge', 'ovs0', '--container', 'web1', ...netplumb]),
        isNetplumbError('INVALID_ARGUMENT', netplumbField),
        `netplumb ${what}`,
      );
    if (pipework.length > 0)
      assert.throws(
        () => parsePipeworkArgs(pipework),
        isNetplumbError('INVALID_ARGUMENT', pipeworkField),
        `pipework ${what}`,
      );
  }
});

test('values only a library caller or a daemon client can get wrong are refused by the plan parser', () => {
  const base: AttachSpec = { host: 'ovs0', guest: { container: 'web1' }, ip: { kind: 'none' } };
  const bad: [AttachSpec, string][] = [
    [{ ...base, mode: 'ipoib' as AttachSpec['mode'] }, 'mode'],
    [{ ...base, macvlanMode: 'loud' as AttachSpec['macvlanMode'] }, 'macvlanMode'],
    [{ ...base, family: 5 as 4 }, 'family'],
    [{ ...base, family: 6, ip: { kind: 'static', address: '10.0.0.5/24' } }, 'ip'],
    [{ ...base, waitUpMs: -1 }, 'waitUpMs'],
    [{ ...base, ip: { kind: 'static', address: '2001:db8::5/64', gateway: '10.0.0.1' } }, 'gateway'],
    [{ ...base, ip: { kind: 'dhcp', client: 'sh' as 'udhcpc', foreground: false, options: [] } }, 'ip.client'],
    [{ ...base, ip: { kind: 'bogus' } as unknown as AttachSpec['ip'] }, 'ip.kind'],
    [{ ...base, hostMac: '02:42:ac:11:00' }, 'hostMac'],
    [{ ...base, metadata: { 'iface-id': 'x' } }, 'externalIds.iface-id'],
    [{ ...base, guest: { netns: '../x' } }, 'netns'],
  ];
  for (const [spec, field] of bad) throwsCode(() => parseAttachSpec(spec), 'INVALID_ARGUMENT', field);
  // An InfiniBand NIC's hardware address: IPoIB is not supported, said as such.
  const ib = '80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:6b:b1';
  throwsCode(() => parseAttachSpec({ ...base, host: `mac:${ib}`, hostMac: ib }), 'UNSUPPORTED', 'hostMac');
});

// ------------------------------------------------------------------ property: any valid attach

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/).filter((n) => !['route', 'rule', 'tc', 'dhcp'].includes(n));
const octet = fc.integer({ min: 1, max: 254 });
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0'));

interface Case {
  host: string;
  guest: { word: string; ref: AttachSpec['guest'] };
  ip: { word: string; config: AttachSpec['ip'] };
  ifname?: string;
  hostIfname?: string;
  mac?: string;
  vlan?: number;
}

const guestCase = fc.oneof(
  name.map((n) => ({ word: n, ref: { container: n } })),
  name.map((n) => ({ word: `netns:${n}`, ref: { netns: n } })),
  fc.integer({ min: 1, max: 4194304 }).map((p) => ({ word: `pid:${p}`, ref: { pid: p } })),
);
const ipCase = fc.oneof(
  fc.tuple(octet, octet, octet).map(([a, b, c]) => ({
    word: `10.${a}.${b}.${c}/24`,
    config: { kind: 'static' as const, address: `10.${a}.${b}.${c}/24` },
  })),
  fc.tuple(octet, octet).map(([a, b]) => ({
    word: `10.${a}.${b}.1/24@10.${a}.${b}.254`,
    config: { kind: 'static' as const, address: `10.${a}.${b}.1/24`, gateway: `10.${a}.${b}.254` },
  })),
  fc.integer({ min: 1, max: 0xfffe }).map((h) => ({
    word: `2001:db8::${h.toString(16)}/64`,
    config: { kind: 'static' as const, address: `2001:db8::${h.toString(16)}/64` },
  })),
  fc.constant<Case['ip']>({ word: '0/0', config: { kind: 'none' } }),
  fc.constant<Case['ip']>({
    word: 'udhcpc-f:-t 3',
    config: { kind: 'dhcp', client: 'udhcpc', foreground: true, options: ['-t', '3'] },
  }),
);
const macCase = fc.oneof(
  fc.uint8Array({ minLength: 5, maxLength: 5 }).map((b) => ['02', ...hex(b)].join(':')),
  name.map((n) => `U:${n}`),
);
const attachCase: fc.Arbitrary<Case> = fc.record(
  {
    host: name,
    guest: guestCase,
    ip: ipCase,
    ifname: name,
    hostIfname: name,
    mac: macCase,
    vlan: fc.integer({ min: 1, max: 4094 }),
  },
  { requiredKeys: ['host', 'guest', 'ip'] },
);

function written(c: Case): Written {
  const macVlan =
    c.mac !== undefined || c.vlan !== undefined ? [`${c.mac ?? ''}${c.vlan !== undefined ? `@${c.vlan}` : ''}`] : [];
  const opt = (o: string, v: string | number | undefined) => (v === undefined ? [] : [`--${o}`, String(v)]);
  return {
    spec: {
      host: c.host,
      guest: c.guest.ref,
      ip: c.ip.config,
      ...(c.ifname !== undefined ? { ifname: c.ifname } : {}),
      ...(c.hostIfname !== undefined ? { hostIfname: c.hostIfname } : {}),
      ...(c.mac !== undefined ? { mac: c.mac } : {}),
      ...(c.vlan !== undefined ? { vlan: c.vlan } : {}),
    },
    netplumb: [
      ...opt('bridge', c.host),
      ...opt('container', c.guest.word),
      ...opt('ip', c.ip.word),
      ...opt('ifname', c.ifname),
      ...opt('host-ifname', c.hostIfname),
      ...opt('mac', c.mac),
      ...opt('vlan', c.vlan),
    ],
    pipework: [
      c.host,
      ...(c.ifname !== undefined ? ['-i', c.ifname] : []),
      ...(c.hostIfname !== undefined ? ['-l', c.hostIfname] : []),
      c.guest.word,
      c.ip.word,
      ...macVlan,
    ],
  };
}

fuzz(
  'cli',
  'any valid attach: the library, the daemon, netplumb attach and pipework make one plan',
  attachCase,
  (c) => {
    samePlanEverywhere(written(c));
  },
);
