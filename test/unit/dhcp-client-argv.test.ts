/**
 * What netplumb starts for a DHCP client, checked without running it: each client's argv
 * (only udhcpc is installed where the privileged tests run), the jail around it, the scripts
 * shipped in libexec/, and the DHCP script as dhcpcd runs it (dhcpcd configures the interface
 * itself, so the script only records the name servers: no root needed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clientArgv, DHCP_HOOK, DHCP_RUN_DIR, dhcpDir } from '../../src/plumb/dhcp.js';
import { JAIL_SCRIPT, LIBEXEC_DIR, jailArgv, readOnlyRemounts } from '../../src/plumb/jail.js';

const ROOT = resolve(__dirname, '..', '..', '..');
const dir = dhcpDir('abc123');
const dhcp = (client: 'udhcpc' | 'dhclient' | 'dhcpcd', foreground: boolean, options: string[] = []) =>
  ({ kind: 'dhcp', client, foreground, options }) as const;
const hookEnv = (client: string) => ['-e', `NETPLUMB_DHCP_DIR=${dir}`, '-e', `NETPLUMB_DHCP_CLIENT=${client}`];

test("udhcpc: netplumb's script (-s), no lease → exit (-n), 5 tries 2 s apart, -q or -f, the guest's hostname", () => {
  const common = ['udhcpc', '-i', 'eth1', '-s', DHCP_HOOK, '-n', '-t', '5', '-T', '2', '-O', 'search'];
  assert.deepEqual(clientArgv(dhcp('udhcpc', false), 'eth1', 'web1', dir), [...common, '-q', '-x', 'hostname:web1']);
  assert.deepEqual(clientArgv(dhcp('udhcpc', true), 'eth1', undefined, dir), [...common, '-f']);
});

test("dhclient: netplumb's script (-sf, its variables with -e), leases and pid in the attachment's directory; -d to stay", () => {
  const common = [
    'dhclient',
    '-1',
    '-sf',
    DHCP_HOOK,
    ...hookEnv('dhclient'),
    '-lf',
    `${dir}/dhclient.leases`,
    '-pf',
    `${dir}/pid`,
  ];
  assert.deepEqual(clientArgv(dhcp('dhclient', false), 'eth1', 'web1', dir), [...common, 'eth1']);
  assert.deepEqual(clientArgv(dhcp('dhclient', true, ['-v']), 'eth1', 'web1', dir), [...common, '-d', '-v', 'eth1']);
});

test("dhcpcd: netplumb's script (-c, its variables with -e), the name-server options asked for, -1 or -B", () => {
  const common = [
    'dhcpcd',
    '-c',
    DHCP_HOOK,
    ...hookEnv('dhcpcd'),
    '-t',
    '10',
    ...['-o', 'domain_name_servers', '-o', 'domain_name', '-o', 'domain_search'],
  ];
  assert.deepEqual(clientArgv(dhcp('dhcpcd', false), 'eth1', 'web1', dir), [...common, '-h', 'web1', '-1', 'eth1']);
  assert.deepEqual(clientArgv(dhcp('dhcpcd', true), 'eth1', undefined, dir), [...common, '-B', 'eth1']);
});

test("every client: the user's options come after netplumb's (a user's own script wins, and is jailed too); every file named is the hook or in the attachment's directory", () => {
  for (const client of ['udhcpc', 'dhclient', 'dhcpcd'] as const)
    for (const foreground of [false, true]) {
      const argv = clientArgv(dhcp(client, foreground, ['--user-option']), 'eth1', 'web1', dir);
      const ours = argv.indexOf(DHCP_HOOK);
      assert.ok(ours > 0 && ours < argv.indexOf('--user-option'), `${client}: ${argv.join(' ')}`);
      for (const word of argv.flatMap((w) => w.split('=').slice(-1)))
        if (word.startsWith('/'))
          assert.ok(word === DHCP_HOOK || word.startsWith(`${dir}/`) || word === dir, `${client}: ${word}`);
    }
  assert.equal(dir, `${DHCP_RUN_DIR}/abc123`);
});

const MOUNTINFO = [
  '21 26 0:20 / /proc rw,relatime - proc proc rw',
  '22 26 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw',
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '23 26 0:6 / /dev rw,nosuid,relatime - devtmpfs devtmpfs rw,size=1k',
  '25 23 0:23 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,mode=600',
  '28 25 0:25 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,mode=600',
  '44 26 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw',
  '45 26 0:40 / /run rw,nosuid,nodev,noexec - tmpfs tmpfs rw',
  '46 26 0:41 / /mnt/a\\040b\\134c ro,nosuid,nodev,noatime - tmpfs x ro',
  '47 26 0:42 / /var/lib/containers/storage/overlay/1/merged rw,relatime,nosymfollow - overlay overlay rw,lowerdir=/l',
  '',
].join('\n');

test('the jail remounts every mount read-only, with its own flags, once; /proc, /sys and /run it replaces', () => {
  assert.deepEqual(readOnlyRemounts(MOUNTINFO), [
    'ro,relatime',
    '/',
    'ro,nosuid,relatime',
    '/dev',
    'ro,nosuid,noexec,relatime',
    '/dev/pts',
    'ro,nosuid,nodev,noatime',
    '/mnt/a b\\c',
    'ro,relatime',
    '/var/lib/containers/storage/overlay/1/merged',
  ]);
});

test('the jail: the guest netns from fd 3, a private mount and UTS namespace, the fixed script, then the program as given', () => {
  const argv = jailArgv(['udhcpc', '-i', 'eth1', '$(reboot)'], dir, MOUNTINFO);
  assert.deepEqual(argv.slice(0, 12), [
    'nsenter',
    '--net=/proc/self/fd/3',
    '--',
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    JAIL_SCRIPT,
    dir,
  ]);
  assert.deepEqual(argv.slice(12, -5), readOnlyRemounts(MOUNTINFO));
  assert.deepEqual(argv.slice(-5), ['--', 'udhcpc', '-i', 'eth1', '$(reboot)']);
  assert.equal(jailArgv(['tc'], undefined, MOUNTINFO)[11], '-', 'no directory to write to');
});

test('the scripts ship with the package: in libexec/ (package.json "files"), executable, valid sh', () => {
  assert.equal(LIBEXEC_DIR, join(ROOT, 'libexec'));
  const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
  assert.ok(files.includes('libexec'), 'package.json "files" has libexec');
  for (const script of [JAIL_SCRIPT, DHCP_HOOK]) {
    accessSync(script, constants.X_OK);
    const check = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${script}: ${check.stderr}`);
  }
});

/** The hook as dhcpcd runs it: `reason` and the lease in its environment. */
function dhcpcdEvent(state: string, env: Record<string, string>): number | null {
  return spawnSync(DHCP_HOOK, [], {
    env: { NETPLUMB_DHCP_DIR: state, NETPLUMB_DHCP_CLIENT: 'dhcpcd', interface: 'eth1', ...env },
    stdio: 'ignore',
  }).status;
}

test("the DHCP script under dhcpcd: records the lease's name servers in the attachment's resolv.conf, forgets them when the lease ends", () => {
  const state = mkdtempSync(join(tmpdir(), 'np-hook-'));
  try {
    const lease = {
      new_domain_name_servers: '10.9.0.53 fd00:9::53 bad;ns',
      new_domain_name: 'np.test',
      new_domain_search: 'a.np.test $(id)',
    };
    assert.equal(dhcpcdEvent(state, { reason: 'PREINIT' }), 0);
    assert.equal(existsSync(join(state, 'resolv.conf')), false);
    assert.equal(dhcpcdEvent(state, { reason: 'BOUND', ...lease }), 0);
    assert.equal(
      readFileSync(join(state, 'resolv.conf'), 'utf8'),
      [
        '# DHCP lease of eth1 (dhcpcd); written by netplumb, not used by the host',
        'domain np.test',
        'search a.np.test',
        'nameserver 10.9.0.53',
        'nameserver fd00:9::53',
        '',
      ].join('\n'),
    );
    assert.equal(dhcpcdEvent(state, { reason: 'STOP' }), 0);
    assert.equal(existsSync(join(state, 'resolv.conf')), false);
    // Without netplumb's variables (a client that scrubbed its environment) the script refuses to run.
    assert.notEqual(spawnSync(DHCP_HOOK, [], { env: { interface: 'eth1', reason: 'BOUND' } }).status, 0);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
