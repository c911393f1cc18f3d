/** The pipework command line: every form of docs/pipework.md §1 and the argv cases of faults.md A1–A7. */
import { test } from 'node:test';
import { isNetplumbError, rejectsArgv } from './support/assert-error.js';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import { parsePipeworkArgs, usage, type PipeworkCommand } from '../../src/cli/pipework-args.js';
import type { AttachSpec } from '../../src/plumb/spec.js';

const parse = (line: string): PipeworkCommand => parsePipeworkArgs(line.split(' '));

function attach(line: string): Extract<PipeworkCommand, { kind: 'attach' }> {
  const c = parse(line);
  assert.equal(c.kind, 'attach', line);
  return c as Extract<PipeworkCommand, { kind: 'attach' }>;
}

const spec = (line: string): AttachSpec => attach(line).spec;

function rejects(argv: readonly string[], field: string, message?: RegExp): void {
  rejectsArgv(parsePipeworkArgs, argv, field, message);
}

test('static address on a bridge; the container name defaults (left to the engine: eth1)', () => {
  assert.deepEqual(attach('br1 web1 192.168.1.5/24'), {
    kind: 'attach',
    spec: { host: 'br1', guest: { container: 'web1' }, ip: { kind: 'static', address: '192.168.1.5/24' } },
    dhcpSidecar: false,
  });
});

test('-i, -l and -a in that order, gateway, MAC and VLAN', () => {
  assert.deepEqual(attach('ovs0 -i eth2 -l vweb1 -a 4 web1 10.0.0.5/24@10.0.0.254 02:42:AC:11:00:02@100'), {
    kind: 'attach',
    spec: {
      host: 'ovs0',
      guest: { container: 'web1' },
      ifname: 'eth2',
      hostIfname: 'vweb1',
      family: 4,
      ip: { kind: 'static', address: '10.0.0.5/24', gateway: '10.0.0.254' },
      mac: '02:42:ac:11:00:02',
      vlan: 100,
    },
    dhcpSidecar: false,
  });
  assert.equal(spec('br1 -i eth2 web1 10.0.0.5/24').ifname, 'eth2');
  assert.equal(spec('br1 -l h1 web1 10.0.0.5/24').hostIfname, 'h1');
  assert.equal(spec('br1 -a 4 web1 10.0.0.5/24').family, 4);
  assert.equal(spec('br1 -i eth2 -a 6 web1 2001:db8::5/64').family, 6);
});

test('a gateway outside the subnet is valid (pipework adds an on-link route)', () => {
  assert.deepEqual(spec('br1 web1 10.0.0.5/24@192.168.0.1').ip, {
    kind: 'static',
    address: '10.0.0.5/24',
    gateway: '192.168.0.1',
  });
});

test('IPv6 with -a 6, or detected from the address; canonical text', () => {
  assert.deepEqual(spec('ovs0 -a 6 web1 2001:DB8:0::5/64@2001:db8::1').ip, {
    kind: 'static',
    address: '2001:db8::5/64',
    gateway: '2001:db8::1',
  });
  assert.deepEqual(spec('ovs0 web1 2001:db8::5/64').ip, { kind: 'static', address: '2001:db8::5/64' });
  assert.equal(spec('ovs0 web1 2001:db8::5/64').family, undefined);
});

test('0/0: an interface without an address', () => {
  assert.deepEqual(spec('br1 web1 0/0').ip, { kind: 'none' });
  assert.deepEqual(spec('br1 -a 6 web1 ::/0').ip, { kind: 'none' });
  rejects(['br1', 'web1', '0/0@10.0.0.1'], 'gateway');
});

test('dhcp[:opts]: the Docker busybox sidecar; -f in the options keeps it renewing', () => {
  assert.deepEqual(attach('br1 web1 dhcp'), {
    kind: 'attach',
    spec: {
      host: 'br1',
      guest: { container: 'web1' },
      ip: { kind: 'dhcp', client: 'udhcpc', foreground: false, options: [] },
    },
    dhcpSidecar: true,
  });
  assert.deepEqual(parsePipeworkArgs(['br1', 'web1', 'dhcp:-f -t 5']), {
    kind: 'attach',
    spec: {
      host: 'br1',
      guest: { container: 'web1' },
      ip: { kind: 'dhcp', client: 'udhcpc', foreground: true, options: ['-f', '-t', '5'] },
    },
    dhcpSidecar: true,
  });
  rejects(['br1', 'web1', 'dhcp-f'], 'ip', /dhcp:-f/);
});

test('host DHCP clients: udhcpc, dhclient, dhcpcd, each with -f and :options', () => {
  const cases: Array<[string, string, boolean, string[]]> = [
    ['udhcpc', 'udhcpc', false, []],
    ['udhcpc-f', 'udhcpc', true, []],
    ['udhcpc:-t 3', 'udhcpc', false, ['-t', '3']],
    ['udhcpc-f:-t 3', 'udhcpc', true, ['-t', '3']],
    ['dhclient', 'dhclient', false, []],
    ['dhclient-f:-v', 'dhclient', true, ['-v']],
    ['dhcpcd', 'dhcpcd', false, []],
    ['dhcpcd:-4', 'dhcpcd', false, ['-4']],
    ['dhcpcd-f', 'dhcpcd', true, []],
    ['dhclient:', 'dhclient', false, []],
  ];
  for (const [word, client, foreground, options] of cases) {
    const c = parsePipeworkArgs(['eth0', 'web1', word]);
    assert.equal(c.kind, 'attach');
    if (c.kind !== 'attach') continue;
    assert.deepEqual(c.spec.ip, { kind: 'dhcp', client, foreground, options }, word);
    assert.equal(c.dhcpSidecar, false);
  }
});

test('4th argument: MAC, U:<seed>, @VID, MAC@VID, U:<seed>@VID, empty', () => {
  const fourth = (w: string) => {
    const c = attach(`ovs0 web1 10.0.0.5/24 ${w}`);
    return { mac: c.spec.mac, vlan: c.spec.vlan };
  };
  assert.deepEqual(fourth('aa-bb-cc-dd-ee-01'), { mac: 'aa:bb:cc:dd:ee:01', vlan: undefined });
  assert.deepEqual(fourth('U:web1'), { mac: 'U:web1', vlan: undefined });
  assert.deepEqual(fourth('@4094'), { mac: undefined, vlan: 4094 });
  assert.deepEqual(fourth('02:42:ac:11:00:02@1'), { mac: '02:42:ac:11:00:02', vlan: 1 });
  assert.deepEqual(fourth('U:web1:eth2@200'), { mac: 'U:web1:eth2', vlan: 200 });
  const empty = parsePipeworkArgs(['ovs0', 'web1', '10.0.0.5/24', '']);
  assert.ok(empty.kind === 'attach' && empty.spec.mac === undefined && empty.spec.vlan === undefined);
});

test('mac:<hostmac> picks the host NIC by hardware address; an IPoIB address is refused as unsupported', () => {
  const s = spec('mac:02:42:AC:11:00:02 -i eth2 web1 10.0.0.5/24');
  assert.equal(s.hostMac, '02:42:ac:11:00:02');
  assert.equal(s.host, 'mac:02:42:AC:11:00:02');
  const ib = '80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:6b:b1';
  assert.throws(
    () => parsePipeworkArgs([`mac:${ib}`, 'web1', 'dhcp']),
    isNetplumbError('UNSUPPORTED', 'hostInterface', /InfiniBand \(IPoIB\)/),
  );
  rejects(['mac:02:42:ac:11:00', 'web1', '10.0.0.5/24'], 'hostInterface');
});

test('--direct-phys moves the NIC itself', () => {
  assert.equal(spec('--direct-phys eth1 web1 10.0.0.5/24').mode, 'phys');
  assert.equal(spec('--direct-phys eth1 -i eth5 web1 10.0.0.5/24@10.0.0.1 @100').vlan, 100);
  rejects(['--direct-phys'], 'hostInterface');
  rejects(['--direct-phys', 'route', 'web1', 'add', 'default'], 'hostInterface');
});

test('guests: container names and ids, and namespace selectors', () => {
  assert.deepEqual(spec('br1 0123456789ab 10.0.0.5/24').guest, { container: '0123456789ab' });
  assert.deepEqual(spec('br1 pid:4242 10.0.0.5/24').guest, { pid: 4242 });
  assert.deepEqual(spec('br1 netns:blue 10.0.0.5/24').guest, { netns: 'blue' });
  assert.deepEqual(spec('br1 /run/netns/blue 10.0.0.5/24').guest, { path: '/run/netns/blue' });
  assert.deepEqual(spec('br1 /proc/77/ns/net 10.0.0.5/24').guest, { pid: 77 });
});

test('route, rule and tc pass everything after the guest through', () => {
  assert.deepEqual(parsePipeworkArgs(['route', 'web1', 'add', '10.1.0.0/16', 'via', '10.0.0.1']), {
    kind: 'passthrough',
    tool: 'route',
    guest: { container: 'web1' },
    args: ['add', '10.1.0.0/16', 'via', '10.0.0.1'],
  });
  assert.deepEqual(parse('rule web1 add from 10.0.0.5 table 100'), {
    kind: 'passthrough',
    tool: 'rule',
    guest: { container: 'web1' },
    args: ['add', 'from', '10.0.0.5', 'table', '100'],
  });
  assert.deepEqual(parse('tc web1 qdisc add dev eth1 root netem delay 10ms'), {
    kind: 'passthrough',
    tool: 'tc',
    guest: { container: 'web1' },
    args: 'qdisc add dev eth1 root netem delay 10ms'.split(' '),
  });
  rejects(['route'], 'guest');
  rejects(['route', 'web1'], 'argv');
  rejects(['tc', '$(reboot)', 'qdisc'], 'guest');
});

test('--wait [-i if]', () => {
  assert.deepEqual(parse('--wait'), { kind: 'wait', ifname: 'eth1' });
  assert.deepEqual(parse('--wait -i eth2'), { kind: 'wait', ifname: 'eth2' });
  rejects(['--wait', '-i'], 'argv');
  rejects(['--wait', 'eth2'], 'argv');
  rejects(['--wait', '-i', 'a/b'], 'containerIfName');
  rejects(['--wait', '--direct-phys'], 'argv');
});

test('--wait and --direct-phys are honoured only as the first word', () => {
  rejects(['br1', '--wait'], 'argv', /first argument/);
  rejects(['br1', 'web1', '--wait'], 'argv', /first argument/);
  rejects(['br1', '-i', 'eth1', '--direct-phys', 'web1', '10.0.0.5/24'], 'argv', /first argument/);
  rejects(['br1', 'web1', '10.0.0.5/24', '--direct-phys'], 'argv', /first argument/);
  rejects(['--direct-phys', '--wait'], 'argv', /first argument/);
  rejects(['-i', 'eth1', 'web1', '10.0.0.5/24'], 'argv', /unknown option/);
});

test('-i, -l, -a must come in that order, each once; -a takes 4 or 6', () => {
  rejects('br1 -l h1 -i eth2 web1 10.0.0.5/24'.split(' '), 'argv', /in that order/);
  rejects('br1 -a 4 -i eth2 web1 10.0.0.5/24'.split(' '), 'argv', /in that order/);
  rejects('br1 -i eth2 -i eth3 web1 10.0.0.5/24'.split(' '), 'argv', /in that order/);
  rejects('br1 -x y web1 10.0.0.5/24'.split(' '), 'argv', /unknown option/);
  rejects(['br1', '-i'], 'argv', /needs a value/);
  rejects('br1 -a 5 web1 10.0.0.5/24'.split(' '), 'addressFamily');
  rejects('br1 -a inet6 web1 10.0.0.5/24'.split(' '), 'addressFamily');
});

test('missing and extra arguments; help and usage', () => {
  rejects([], 'argv');
  rejects(['br1'], 'guest');
  rejects(['br1', 'web1'], 'ip');
  rejects(['br1', 'web1', '10.0.0.5/24', '@100', 'extra'], 'argv', /unexpected/);
  assert.deepEqual(parse('--help'), { kind: 'help' });
  assert.deepEqual(parse('-h'), { kind: 'help' });
  try {
    parsePipeworkArgs([]);
  } catch (e) {
    assert.ok(e instanceof NetplumbError && e.details.showUsage === true);
  }
  const text = usage();
  assert.ok(text.startsWith('Syntax:\n'));
  assert.equal(text.split('\n').filter((l) => l.startsWith('pipework ')).length, 8);
  assert.ok(
    text.includes(
      'pipework <hostinterface> [-i containerinterface] [-l localinterfacename] [-a addressfamily] <guest> <ipaddr>/<subnet>[@default_gateway] [macaddr][@vlan]',
    ),
  );
  assert.ok(text.includes('pipework --wait [-i containerinterface]'));
  assert.ok(text.includes('netplumb --help'));
});

test('A1: 16-byte interface names (host interface, -i, -l) exceed 15 bytes', () => {
  const long = 'aaaaaaaaaaaaaaaa';
  rejects([long, 'web1', '10.0.0.5/24'], 'hostInterface', /exceeds 15 bytes/);
  rejects(['br1', '-i', long, 'web1', '10.0.0.5/24'], 'containerIfName', /exceeds 15 bytes/);
  rejects(['br1', '-l', long, 'web1', '10.0.0.5/24'], 'hostIfName', /exceeds 15 bytes/);
});

test('A3: invalid interface names are refused everywhere a name goes', () => {
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'eth0\n', 'eth\u0000']) {
    rejects([bad, 'web1', '10.0.0.5/24'], 'hostInterface');
    rejects(['br1', '-i', bad, 'web1', '10.0.0.5/24'], 'containerIfName');
    rejects(['br1', '-l', bad, 'web1', '10.0.0.5/24'], 'hostIfName');
  }
});

test('A5: VLAN 0, 4095, 4096, -1, 1.5, 10abc, 0x10 and an empty tag are refused', () => {
  for (const bad of ['0', '4095', '4096', '-1', '1.5', '10abc', '0x10', '', '010', ' 10']) {
    rejects(['ovs0', 'web1', '10.0.0.5/24', `@${bad}`], 'vlan');
    rejects(['ovs0', 'web1', '10.0.0.5/24', `02:42:ac:11:00:02@${bad}`], 'vlan');
  }
  rejects(['ovs0', 'web1', '10.0.0.5/24', '@100@200'], 'vlan', /more than one "@"/);
  assert.equal(spec('ovs0 web1 10.0.0.5/24 @1').vlan, 1);
  assert.equal(spec('ovs0 web1 10.0.0.5/24').vlan, undefined);
});

test('A6: invalid MACs are refused; dashes are normalised', () => {
  for (const bad of [
    'ff:ff:ff:ff:ff:ff',
    '00:00:00:00:00:00',
    'aa:bb:cc:dd:ee',
    'AA:BB:CC:DD:EE:FG',
    'aabb.ccdd.eeff',
    'u:seed',
    'U:',
    'U:a*b',
  ]) {
    rejects(['ovs0', 'web1', '10.0.0.5/24', bad], 'mac');
    rejects(['ovs0', 'web1', '10.0.0.5/24', `${bad}@100`], 'mac');
  }
  assert.equal(spec('ovs0 web1 10.0.0.5/24 AA-BB-CC-DD-EE-01').mac, 'aa:bb:cc:dd:ee:01');
});

test("A7: a missing prefix gets pipework's hint", () => {
  rejects(['br1', 'web1', '10.0.0.1'], 'ip', /Maybe you meant 10\.0\.0\.1\/24\?/);
  rejects(['br1', 'web1', '10.0.0.1@10.0.0.254'], 'ip', /Maybe you meant 10\.0\.0\.1\/24@10\.0\.0\.254\?/);
  rejects(['br1', 'web1', '2001:db8::5'], 'ip', /Maybe you meant 2001:db8::5\/64\?/);
  rejects(['br1', 'web1', 'nonsense'], 'ip', /dhcp/);
});

test('A7: bad prefixes, leading zeros, zone ids, v4-mapped under -a 4, family mismatches, gateway == address', () => {
  rejects(['br1', 'web1', '10.0.0.1/33'], 'ip');
  rejects(['br1', 'web1', '010.0.0.1/24'], 'ip');
  rejects(['br1', '-a', '6', 'web1', 'fe80::1%eth0/64'], 'ip');
  rejects(['br1', 'web1', 'fe80::1%eth0/64'], 'ip');
  rejects(['br1', '-a', '4', 'web1', '::ffff:10.0.0.1/120'], 'ip');
  rejects(['br1', 'web1', '::ffff:10.0.0.1/120'], 'ip');
  rejects(['br1', '-a', '6', 'web1', '10.0.0.1/24'], 'ip');
  rejects(['br1', '-a', '4', 'web1', '2001:db8::1/64'], 'ip');
  rejects(['br1', 'web1', '10.0.0.1/24@10.0.0.1'], 'gateway');
  rejects(['br1', 'web1', '10.0.0.1/24@2001:db8::1'], 'gateway');
  rejects(['br1', 'web1', '10.0.0.1/24@10.0.0.254@x'], 'ip', /more than one "@"/);
  rejects(['br1', 'web1', '10.0.0.1/24@'], 'gateway');
});

test('H5: shell syntax in guest names is refused', () => {
  for (const bad of ['$(reboot)', '`id`', 'a;b', 'a|b', 'a\nb', 'a b', '-web1', ''])
    rejects(['br1', bad, '10.0.0.5/24'], bad.startsWith('-') ? 'argv' : 'guest');
  rejects(['br1', 'pid:0', '10.0.0.5/24'], 'pid');
  rejects(['br1', 'netns:../x', '10.0.0.5/24'], 'netns');
});

const WORDS = [
  'br1',
  'ovs0',
  'eth0',
  'mac:02:42:ac:11:00:02',
  '-i',
  '-l',
  '-a',
  '4',
  '6',
  '--wait',
  '--direct-phys',
  'route',
  'rule',
  'tc',
  'web1',
  'pid:12',
  '10.0.0.5/24',
  '10.0.0.5/24@10.0.0.1',
  '2001:db8::5/64',
  '0/0',
  'dhcp',
  'dhcp:-f',
  'udhcpc-f',
  'dhcpcd-f:-4',
  'U:seed',
  '@100',
  '02:42:ac:11:00:02@7',
  '',
  '@',
];

test('property: any argv either parses or throws INVALID_ARGUMENT, never anything else', () => {
  const word = fc.oneof(
    fc.constantFrom(...WORDS),
    fc.string({ maxLength: 20 }),
    fc.string({ maxLength: 20, unit: 'binary' }),
  );
  fc.assert(
    fc.property(fc.array(word, { maxLength: 8 }), (argv) => {
      try {
        parsePipeworkArgs(argv);
      } catch (e) {
        assert.ok(e instanceof NetplumbError, `non-NetplumbError for ${JSON.stringify(argv)}: ${String(e)}`);
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.equal(typeof e.details.field, 'string');
      }
    }),
    { numRuns: 5000 },
  );
});

test('--persist first declares the attachment; elsewhere, or before a non-attach form, it is refused', () => {
  const cmd = parsePipeworkArgs(['--persist', 'ovs0', 'c1', '10.0.0.1/24@10.0.0.254', '@100']);
  assert.equal(cmd.kind, 'attach');
  const spec = (cmd as Extract<PipeworkCommand, { kind: 'attach' }>).spec;
  assert.equal(spec.persist, true);
  assert.equal(spec.vlan, 100);
  const direct = parsePipeworkArgs(['--persist', '--direct-phys', 'eth0', 'c1', '10.0.0.1/24']);
  assert.equal((direct as Extract<PipeworkCommand, { kind: 'attach' }>).spec.persist, true);
  assert.throws(() => parsePipeworkArgs(['--persist', 'route', 'c1', 'add', 'default']), /declares an attachment/);
  assert.throws(() => parsePipeworkArgs(['ovs0', '--persist', 'c1', '10.0.0.1/24']), /unknown option|out of place/);
});
