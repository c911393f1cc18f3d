/** The netplumb command line: subcommands, long options, suggestions, the shared AttachSpec. */
import { test } from 'node:test';
import { rejectsArgv } from './support/assert-error.js';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetplumbError } from '../../src/errors.js';
import { parseNetplumbArgs, type NetplumbCommand } from '../../src/cli/netplumb-args.js';
import { helpText } from '../../src/cli/netplumb-help.js';
import { SUBCOMMANDS } from '../../src/cli/netplumb-options.js';
import { parsePipeworkArgs } from '../../src/cli/pipework-args.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { cpuMs } from './support/fuzz.js';

const parse = (line: string): NetplumbCommand => parseNetplumbArgs(line.split(' '));

function attachSpec(line: string): AttachSpec {
  const c = parse(`attach --bridge ovs0 --container web1 ${line}`.trim());
  assert.equal(c.command, 'attach');
  return (c as Extract<NetplumbCommand, { command: 'attach' }>).spec;
}

function rejects(argv: readonly string[], field: string, message?: RegExp): void {
  rejectsArgv(parseNetplumbArgs, argv, field, message);
}

const base = ['attach', '--bridge', 'ovs0', '--container', 'web1'];

test('attach with every option', () => {
  const c = parse(
    'attach --bridge ovs0 --container web1 --ip 10.0.0.5/24 --gateway 10.0.0.254 --vlan 100 --mac U:web1 --ifname eth2 --host-ifname vweb1 --mtu 9000 --mode ovs --force --create-bridge --allow-host-netns --wait-up 5 --json --ovs-db unix:/run/openvswitch/db.sock --docker-host unix:///run/docker.sock',
  );
  assert.deepEqual(c, {
    command: 'attach',
    spec: {
      host: 'ovs0',
      mode: 'ovs',
      guest: { container: 'web1' },
      ifname: 'eth2',
      hostIfname: 'vweb1',
      ip: { kind: 'static', address: '10.0.0.5/24', gateway: '10.0.0.254' },
      mac: 'U:web1',
      vlan: 100,
      mtu: 9000,
      createBridge: true,
      force: true,
      allowHostNetns: true,
      waitUpMs: 5000,
    },
    dhcpSidecar: false,
    json: true,
    connection: { ovsDb: 'unix:/run/openvswitch/db.sock', dockerSocketPath: '/run/docker.sock' },
  });
});

test('attach: minimal, --opt=value, no --ip means no address', () => {
  assert.deepEqual(parseNetplumbArgs(['attach', '--bridge=br1', '--container=pid:42']), {
    command: 'attach',
    spec: { host: 'br1', guest: { pid: 42 }, ip: { kind: 'none' } },
    dhcpSidecar: false,
    json: false,
    connection: {},
  });
});

test('attach produces the same AttachSpec as the equivalent pipework command line', () => {
  const pairs: Array<[string[], string[]]> = [
    [
      ['--ip', '10.0.0.5/24', '--gateway', '10.0.0.254', '--vlan', '100'],
      ['ovs0', 'web1', '10.0.0.5/24@10.0.0.254', '@100'],
    ],
    [
      ['--ip', '10.0.0.5/24@10.0.0.254', '--mac', '02:42:ac:11:00:02'],
      ['ovs0', 'web1', '10.0.0.5/24@10.0.0.254', '02:42:AC:11:00:02'],
    ],
    [
      ['--ifname', 'eth2', '--host-ifname', 'h1', '--ip', '2001:db8::5/64', '--mac', 'U:x'],
      ['ovs0', '-i', 'eth2', '-l', 'h1', 'web1', '2001:db8::5/64', 'U:x'],
    ],
    [
      ['--ip', 'udhcpc-f:-t 3'],
      ['ovs0', 'web1', 'udhcpc-f:-t 3'],
    ],
    [
      ['--ip', '0/0'],
      ['ovs0', 'web1', '0/0'],
    ],
  ];
  for (const [netplumb, pipework] of pairs) {
    const fromNetplumb = parseNetplumbArgs([...base, ...netplumb]);
    const fromPipework = parsePipeworkArgs(pipework);
    assert.ok(fromNetplumb.command === 'attach' && fromPipework.kind === 'attach');
    assert.deepEqual(fromNetplumb.spec, fromPipework.spec, netplumb.join(' '));
  }
});

test('attach: dhcp (sidecar) and the host clients', () => {
  const c = parse('attach --bridge br1 --container web1 --ip dhcp:-f');
  assert.ok(c.command === 'attach');
  assert.equal(c.dhcpSidecar, true);
  assert.deepEqual(c.spec.ip, { kind: 'dhcp', client: 'udhcpc', foreground: true, options: ['-f'] });
  assert.deepEqual(attachSpec('--ip dhclient').ip, {
    kind: 'dhcp',
    client: 'dhclient',
    foreground: false,
    options: [],
  });
});

test('attach: trunks are distinct VLAN ids, sorted; exclusive with --vlan; OVS only', () => {
  assert.deepEqual(attachSpec('--trunks 300,100,200').trunks, [100, 200, 300]);
  assert.deepEqual(attachSpec('--trunks 7 --mode ovs').trunks, [7]);
  rejects([...base, '--trunks', '100,100'], 'trunks', /twice/);
  rejects([...base, '--trunks', '100,4095'], 'trunks');
  rejects([...base, '--trunks', '100,'], 'trunks');
  rejects([...base, '--trunks', '100', '--vlan', '100'], 'trunks', /exclude/);
  rejects([...base, '--trunks', '100', '--mode', 'macvlan'], 'trunks', /OVS/);
});

test('attach: modes, macvlan modes, host by MAC, namespace guests', () => {
  assert.equal(attachSpec('--mode macvlan --macvlan-mode vepa').macvlanMode, 'vepa');
  rejects([...base, '--mode', 'ovz'], 'mode', /did you mean ovs\?/);
  // pipework's IPoIB mode is not implemented: not a mode netplumb offers.
  rejects([...base, '--mode', 'ipoib'], 'mode', /not one of ovs, bridge, macvlan, dummy, phys/);
  rejects([...base, '--mode', 'bridge', '--macvlan-mode', 'vepa'], 'macvlan-mode');
  const c = parse('attach --bridge mac:02:42:ac:11:00:02 --container netns:blue');
  assert.ok(c.command === 'attach');
  assert.equal(c.spec.hostMac, '02:42:ac:11:00:02');
  assert.deepEqual(c.spec.guest, { netns: 'blue' });
});

test('attach: --gateway needs a static address of its family, once, not the address itself', () => {
  rejects([...base, '--gateway', '10.0.0.1'], 'gateway', /static/);
  rejects([...base, '--ip', 'dhcp', '--gateway', '10.0.0.1'], 'gateway', /static/);
  rejects([...base, '--ip', '10.0.0.5/24@10.0.0.1', '--gateway', '10.0.0.2'], 'gateway', /twice/);
  rejects([...base, '--ip', '10.0.0.5/24', '--gateway', '10.0.0.5'], 'gateway');
  rejects([...base, '--ip', '10.0.0.5/24', '--gateway', '2001:db8::1'], 'gateway');
  assert.equal(attachSpec('--ip 2001:db8::5/64 --gateway fe80::1').ip.kind, 'static');
});

test('attach: --bridge and --container are required', () => {
  rejects(['attach', '--container', 'web1'], 'bridge', /required/);
  rejects(['attach', '--bridge', 'br1'], 'container', /required/);
});

test('A1: 16-byte names', () => {
  rejects([...base, '--host-ifname', 'aaaaaaaaaaaaaaaa'], 'host-ifname', /exceeds 15 bytes/);
  rejects([...base, '--ifname', 'aaaaaaaaaaaaaaaa'], 'ifname', /exceeds 15 bytes/);
  rejects(['attach', '--bridge', 'aaaaaaaaaaaaaaaa', '--container', 'web1'], 'bridge', /exceeds 15 bytes/);
});

test('A3: invalid interface names', () => {
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'eth0\n', 'eth\u0000']) {
    rejects([...base, '--ifname', bad], 'ifname');
    rejects([...base, '--host-ifname', bad], 'host-ifname');
    rejects(['detach', '--container', 'web1', '--ifname', bad], 'ifname');
  }
});

test('A5: VLAN ids', () => {
  for (const bad of ['0', '4095', '4096', '-1', '1.5', '10abc', '0x10', ''])
    rejects([...base, `--vlan=${bad}`], 'vlan');
  assert.equal(attachSpec('--vlan 1').vlan, 1);
  assert.equal(attachSpec('--vlan 4094').vlan, 4094);
  assert.equal(attachSpec('').vlan, undefined);
});

test('A6: MACs', () => {
  for (const bad of ['ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', 'aa:bb:cc:dd:ee', 'AA:BB:CC:DD:EE:FG', 'aabb.ccdd.eeff'])
    rejects([...base, '--mac', bad], 'mac');
  assert.equal(attachSpec('--mac AA-BB-CC-DD-EE-01').mac, 'aa:bb:cc:dd:ee:01');
});

test('A7: IP addresses', () => {
  rejects([...base, '--ip', '10.0.0.1'], 'ip', /Maybe you meant 10\.0\.0\.1\/24\?/);
  for (const bad of ['10.0.0.1/33', '010.0.0.1/24', 'fe80::1%eth0/64', '::ffff:10.0.0.1/120'])
    rejects([...base, '--ip', bad], 'ip');
  rejects([...base, '--ip', '10.0.0.1/24@10.0.0.1'], 'gateway');
});

test('numbers: --mtu and --wait-up ranges', () => {
  for (const bad of ['67', '65536', '1500.5', 'abc', '']) rejects([...base, `--mtu=${bad}`], 'mtu');
  for (const bad of ['-1', '3601', '1.5']) rejects([...base, `--wait-up=${bad}`], 'wait-up');
  assert.equal(attachSpec('--wait-up 0').waitUpMs, 0);
});

test('unknown options and commands get the closest name', () => {
  rejects([...base, '--brige', 'x'], 'option', /did you mean --bridge\?/);
  rejects([...base, '--vlans', '100'], 'option', /did you mean --vlan\?/);
  rejects([...base, '--host-if', 'x'], 'option', /did you mean --host-ifname\?/);
  rejects([...base, '-v'], 'option');
  rejects(['detach', '--container', 'web1', '--vlan', '1'], 'option', /unknown option --vlan for netplumb detach/);
  rejects(['atach'], 'command', /did you mean attach\?/);
  rejects(['br1', 'web1', '10.0.0.5/24'], 'command', /pipework/);
  rejects(['help', 'atach'], 'command', /did you mean attach\?/);
});

test('option syntax errors: missing value, given twice, value on a flag, stray positionals', () => {
  rejects(['attach', '--bridge'], 'bridge', /needs a value/);
  rejects(['attach', '--bridge', '--container', 'web1'], 'bridge', /needs a value/);
  rejects([...base, '--bridge', 'br2'], 'bridge', /twice/);
  rejects([...base, '--force=yes'], 'force', /takes no value/);
  rejects([...base, '--json', '--json'], 'json', /twice/);
  rejects([...base, 'extra'], 'argv', /unexpected argument/);
  rejects(['list', 'container'], 'argv', /did you mean --container\?/);
});

test('detach, list, show, gc, serve', () => {
  assert.deepEqual(parse('detach --container web1'), {
    command: 'detach',
    guest: { container: 'web1' },
    target: { ifname: 'eth1' },
    json: false,
    connection: {},
  });
  assert.deepEqual(parse('detach --container web1 --ifname eth2 --json'), {
    command: 'detach',
    guest: { container: 'web1' },
    target: { ifname: 'eth2' },
    json: true,
    connection: {},
  });
  assert.deepEqual(parse('detach --container web1 --all'), {
    command: 'detach',
    guest: { container: 'web1' },
    target: { all: true },
    json: false,
    connection: {},
  });
  rejects(['detach', '--container', 'web1', '--all', '--ifname', 'eth1'], 'all', /exclude/);
  rejects(['detach'], 'container', /required/);
  assert.deepEqual(parse('list'), { command: 'list', json: false, connection: {} });
  assert.deepEqual(parse('list --container web1 --json'), {
    command: 'list',
    guest: { container: 'web1' },
    json: true,
    connection: {},
  });
  assert.deepEqual(parse('show --container web1 --ifname eth2'), {
    command: 'show',
    guest: { kind: 'container', container: 'web1', label: 'container "web1"' },
    ifname: 'eth2',
    json: false,
    connection: {},
  });
  assert.deepEqual(parse('gc --dry-run --ovs-db tcp:127.0.0.1:6640'), {
    command: 'gc',
    dryRun: true,
    json: false,
    connection: { ovsDb: 'tcp:127.0.0.1:6640' },
  });
  assert.deepEqual(parse('serve --socket /run/netplumb/api.sock --group netplumb'), {
    command: 'serve',
    socketPath: '/run/netplumb/api.sock',
    group: 'netplumb',
    connection: {},
  });
  assert.deepEqual(parse('gc --grace 0 --json'), {
    command: 'gc',
    dryRun: false,
    graceSeconds: 0,
    json: true,
    connection: {},
  });
  rejects(['gc', '--grace', '-1'], 'grace');
  rejects(['gc', '--grace', '1.5'], 'grace');
  assert.deepEqual(parse('serve --gc-interval 300 --gc-grace 120'), {
    command: 'serve',
    gcIntervalSeconds: 300,
    gcGraceSeconds: 120,
    connection: {},
  });
  assert.deepEqual(parse('serve --gc-interval 0'), { command: 'serve', connection: {} });
  assert.deepEqual(parse('serve --gc-grace 10'), { command: 'serve', gcGraceSeconds: 10, connection: {} });
  assert.deepEqual(parse('serve --max-concurrent 64'), { command: 'serve', maxConcurrent: 64, connection: {} });
  rejects(['serve', '--max-concurrent', '0'], 'max-concurrent', /./);
  rejects(['serve', '--socket', 'relative.sock'], 'socket');
  rejects(['serve', '--group', 'Bad Group'], 'group');
  rejects(['list', '--ovs-db', 'ssl:1.2.3.4:6640'], 'remote');
  rejects(['list', '--docker-host', 'tcp://1.2.3.4:2375'], 'docker-host');
  assert.deepEqual(parse('list --docker-host unix:/run/podman/podman.sock'), {
    command: 'list',
    json: false,
    connection: { dockerSocketPath: '/run/podman/podman.sock' },
  });
});

test('help and version, in every spelling', () => {
  assert.deepEqual(parseNetplumbArgs([]), { command: 'help' });
  assert.deepEqual(parse('--help'), { command: 'help' });
  assert.deepEqual(parse('-h'), { command: 'help' });
  assert.deepEqual(parse('help'), { command: 'help' });
  assert.deepEqual(parse('help detach'), { command: 'help', topic: 'detach' });
  assert.deepEqual(parse('attach --help'), { command: 'help', topic: 'attach' });
  assert.deepEqual(parse('attach --bridge br1 -h'), { command: 'help', topic: 'attach' });
  assert.deepEqual(parse('version'), { command: 'version' });
  assert.deepEqual(parse('--version'), { command: 'version' });
});

test('help texts list every option and teach the pipework equivalent', () => {
  const attach = helpText('attach');
  for (const option of [
    '--bridge',
    '--container',
    '--ip',
    '--gateway',
    '--vlan',
    '--trunks',
    '--mac',
    '--ifname',
    '--host-ifname',
    '--mtu',
    '--mode',
    '--force',
    '--create-bridge',
    '--wait-up',
    '--json',
    '--ovs-db',
    '--docker-host',
  ])
    assert.ok(attach.includes(option), option);
  assert.ok(attach.includes('pipework ovs0 web1 10.0.0.5/24@10.0.0.254 @100'));
  // Every netplumb example in the attach help parses, and where a pipework equivalent is given, both give the same spec.
  for (const line of attach.split('\n').filter((l) => l.startsWith('  netplumb attach '))) {
    const c = parseNetplumbArgs(line.trim().split(' ').slice(1));
    assert.equal(c.command, 'attach', line);
  }
  for (const s of SUBCOMMANDS) assert.ok(helpText(s).length > 0);
  assert.ok(helpText().includes('Commands:'));
});

const WORDS = [
  'attach',
  'detach',
  'list',
  'show',
  'gc',
  'serve',
  'help',
  'version',
  '--bridge',
  '--container',
  '--ip',
  '--gateway',
  '--vlan',
  '--trunks',
  '--mac',
  '--mode',
  '--mtu',
  '--wait-up',
  '--json',
  '--all',
  '--ifname',
  '--force',
  '--ovs-db',
  '--docker-host',
  '--socket',
  '--',
  'br1',
  'web1',
  '10.0.0.5/24',
  'dhcp',
  '100,200',
  'U:x',
  'ovs',
  'eth1',
  '--bridge=ovs0',
  '-h',
];

test('property: any argv either parses or throws INVALID_ARGUMENT, never anything else', () => {
  const word = fc.oneof(
    fc.constantFrom(...WORDS),
    fc.string({ maxLength: 16 }),
    fc.string({ maxLength: 16, unit: 'binary' }),
  );
  fc.assert(
    fc.property(fc.array(word, { maxLength: 10 }), (argv) => {
      try {
        parseNetplumbArgs(argv);
      } catch (e) {
        assert.ok(e instanceof NetplumbError, `non-NetplumbError for ${JSON.stringify(argv)}: ${String(e)}`);
        assert.equal(e.code, 'INVALID_ARGUMENT');
      }
    }),
    { numRuns: 5000 },
  );
});

test('words named like Object.prototype members are plain words, never table hits (found by the property test)', () => {
  for (const w of ['valueOf', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    for (const argv of [['attach', w], ['detach', w], ['help', w], [w]]) {
      assert.throws(
        () => parseNetplumbArgs(argv),
        (e: unknown) => e instanceof NetplumbError && e.code === 'INVALID_ARGUMENT',
        argv.join(' '),
      );
    }
  }
});

test('a 128 KiB word (the longest argument Linux passes) is refused at once, not after seconds of suggesting (the slowest case of the fuzz run: --😀… took 0.7 s)', () => {
  for (const argv of [
    ['attach', `--${'\ud83d'.repeat(128 * 1024)}`],
    ['x'.repeat(128 * 1024)],
    ['attach', `--${'é'.repeat(128 * 1024)}=1`],
  ]) {
    // CPU time, not the wall clock: other load on the machine must not fail this.
    const ms = cpuMs(() => rejects(argv, argv.length === 1 ? 'command' : 'option'));
    assert.ok(ms < 100, `${ms.toFixed(0)} ms of CPU`);
  }
  // Suggestions themselves are unchanged.
  rejects(['attach', '--brige', 'x'], 'option', /did you mean --bridge\?/);
  rejects(['atach'], 'command', /did you mean attach\?/);
});

test('attach --persist and --state-dir; --state-dir must be absolute', () => {
  const cmd = parseNetplumbArgs([
    'attach',
    '--bridge',
    'ovs0',
    '--container',
    'c1',
    '--persist',
    '--state-dir',
    '/tmp/np-state',
  ]);
  assert.equal(cmd.command, 'attach');
  const a = cmd as Extract<NetplumbCommand, { command: 'attach' }>;
  assert.equal(a.spec.persist, true);
  assert.equal(a.connection.stateDir, '/tmp/np-state');
  assert.throws(() => parseNetplumbArgs(['list', '--state-dir', 'relative']), /absolute path/);
  const serve = parseNetplumbArgs(['serve', '--state-dir', '/var/lib/x']) as Extract<
    NetplumbCommand,
    { command: 'serve' }
  >;
  assert.equal(serve.connection.stateDir, '/var/lib/x');
});
