/**
 * `netplumb serve` as a child process (the installed command, in the emulated host
 * namespace where the private OVS runs) and the `netplumb` commands using it through
 * $NETPLUMB_SOCKET: the same stdout, stderr and exit codes as with --no-daemon; the
 * daemon really served them (its --foreground log); SIGTERM stops it gracefully (exit 0,
 * socket removed).
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, lstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { daemonAnswers } from '../helpers/daemon.js';
import { run } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { waitForExit } from '../../sandbox/process.js';
import { TestNetns } from '../helpers/netns.js';
import { useLeakCheck } from '../helpers/leak.js';

const NETPLUMB = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
let ovs: OvsInstance;

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge('ovs0');
});
after(async () => {
  await ovs?.stop();
});
useLeakCheck();

interface Served {
  child: ChildProcess;
  sock: string;
  log: () => Record<string, unknown>[];
  stderr: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  cleanup: () => void;
}

/** `ip netns exec OVSNS node bin/netplumb serve --socket … --ovs-db … --foreground`, once its socket answers. */
async function serve(env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const top = mkdtempSync('/tmp/np-daemon-cli-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ovs.netns,
      process.execPath,
      NETPLUMB,
      'serve',
      '--socket',
      sock,
      '--ovs-db',
      ovs.remote,
      '--foreground',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NETPLUMB_LOG: '', ...env },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const served: Served = {
    child,
    sock,
    log: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      const c = await exited;
      await waitForExit(child.pid as number);
      return c;
    },
    cleanup: () => rmSync(top, { recursive: true, force: true }),
  };
  if (await daemonAnswers(sock, child)) return served;
  await served.stop('SIGKILL');
  served.cleanup();
  throw new Error(`netplumb serve did not come up: ${stderr}`);
}

/**
 * Run `netplumb ARGS` in the OVS namespace, through the daemon or not. The private OVSDB
 * is named by $OVS_DB, which the command uses when it acts itself (the daemon has its own).
 */
async function netplumb(
  args: string[],
  sock: string,
  daemon: boolean,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(
    ['ip', 'netns', 'exec', ovs.netns, process.execPath, NETPLUMB, ...args, ...(daemon ? [] : ['--no-daemon'])],
    {
      env: { ...process.env, NETPLUMB_SOCKET: sock, NETPLUMB_LOG: '', OVS_DB: ovs.remote },
    },
  );
}

/** show reads the host itself on every run (never through the daemon): its read time differs between two runs. */
function timeless<T extends { stdout: string }>(r: T): T {
  return { ...r, stdout: r.stdout.replace(/"generatedAt":"[^"]*"/g, '"generatedAt":"…"') };
}

function requests(s: Served): string[] {
  return s
    .log()
    .filter((l) => l.msg === 'request')
    .map((l) => String(l.method));
}

test('netplumb attach/list/show/detach/gc: the same output through the daemon as without it', async () => {
  const s = await serve();
  const g = await TestNetns.create('dc');
  try {
    const st = statSync(s.sock);
    assert.equal(st.mode & 0o7777, 0o660);
    assert.equal(statSync(join(s.sock, '..')).mode & 0o7777, 0o750);

    const attach = [
      'attach',
      '--bridge',
      'ovs0',
      '--container',
      `netns:${g.name}`,
      '--ip',
      '10.9.0.2/24',
      '--vlan',
      '90',
    ];
    const first = await netplumb(attach, s.sock, true);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^attached: netns:cookie:\d+ eth1 10\.9\.0\.2\/24 → ovs0 vlan 90 \(ovs, host side np\w+h ofport \d+\)\n$/,
    );
    assert.deepEqual(requests(s), ['attach'], 'the daemon served it');
    // Oracles: OVSDB for the tag, the kernel for the address.
    const port = (await ovs.vsctl(['list-ports', 'ovs0'])).trim();
    assert.equal((await ovs.vsctl(['get', 'port', port, 'tag'])).trim(), '90');
    const [link] = await g.ip('addr', 'show', 'dev', 'eth1');
    assert.deepEqual(
      link?.addr_info?.filter((x) => x.family === 'inet').map((x) => x.local),
      ['10.9.0.2'],
    );

    for (const args of [
      attach,
      [...attach, '--json'],
      ['list'],
      ['list', '--json'],
      ['list', '--container', `netns:${g.name}`],
      ['show', '--container', `netns:${g.name}`, '--json'],
      ['show', '--container', `netns:${g.name}`, '--ifname', 'eth9'],
      ['attach', '--bridge', 'ovs0', '--container', `netns:${g.name}`, '--vlan', '91', '--ip', '10.9.0.2/24'],
      ['attach', '--bridge', 'ovs9', '--mode', 'ovs', '--container', `netns:${g.name}`, '--ifname', 'eth2', '--json'],
      ['attach', '--bridge', 'ovs0', '--container', 'netns:np-no-such-ns'],
      ['gc', '--dry-run'],
    ]) {
      const viaDaemon = await netplumb(args, s.sock, true);
      const direct = await netplumb(args, s.sock, false);
      assert.deepEqual(timeless(viaDaemon), timeless(direct), `netplumb ${args.join(' ')}`);
    }
    assert.ok(requests(s).length > 4, 'the daemon served the commands without --no-daemon');

    const detach = await netplumb(['detach', '--container', `netns:${g.name}`], s.sock, true);
    assert.equal(detach.code, 0, detach.stderr);
    assert.match(detach.stdout, /^detached: netns:cookie:\d+ eth1 \(np\w+h\)\n$/);
    assert.equal((await ovs.vsctl(['list-ports', 'ovs0'])).trim(), '');
    assert.deepEqual(await g.linkNames(), ['lo']);
    assert.deepEqual(
      await netplumb(['detach', '--container', `netns:${g.name}`], s.sock, true),
      await netplumb(['detach', '--container', `netns:${g.name}`], s.sock, false),
    );
    assert.equal((await netplumb(['list'], s.sock, true)).stdout, 'no attachments\n');

    assert.equal(await s.stop('SIGTERM'), 0, 'SIGTERM: a graceful exit');
    assert.equal(lstatSync(s.sock, { throwIfNoEntry: false }), undefined, 'the socket is removed');
    assert.ok(s.log().some((l) => l.msg === 'stopped'));
    // No daemon any more: the command acts directly, same result.
    assert.equal((await netplumb(['list'], s.sock, true)).stdout, 'no attachments\n');
  } finally {
    await s.stop('SIGKILL');
    await g.destroy();
    for (const p of (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean))
      await ovs.vsctl(['--if-exists', 'del-port', p]);
    s.cleanup();
  }
});

test('netplumb serve runs with the daemon heap settings under its own pid, and trims memory once idle', async () => {
  const s = await serve({ NETPLUMB_LOG: 'debug' });
  try {
    // `ip netns exec` execs node: the child's pid is the daemon's, replaced in place with the flags.
    const cmdline = readFileSync(`/proc/${s.child.pid}/cmdline`, 'utf8').split('\0');
    for (const flag of ['--max-semi-space-size=4', '--expose-gc'])
      assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`);
    const script = cmdline.indexOf(NETPLUMB);
    assert.deepEqual(
      cmdline.slice(script, -1),
      [NETPLUMB, 'serve', '--socket', s.sock, '--ovs-db', ovs.remote, '--foreground'],
      'the same command after the node flags',
    );
    const r = await netplumb(['list'], s.sock, true);
    assert.equal(r.code, 0, r.stderr);
    let trimmed: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && trimmed === undefined; i++) {
      await new Promise((res) => setTimeout(res, 50));
      trimmed = s.log().find((l) => l.msg === 'idle: memory trimmed');
    }
    assert.ok(trimmed, `no trim logged: ${s.stderr().slice(-2000)}`);
    const vmRssMb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${s.child.pid}/status`, 'utf8'))![1]) / 1024;
    assert.ok(
      vmRssMb <= (trimmed.rssBeforeMb as number) + 2,
      `VmRSS ${vmRssMb} MB after the trim, ${trimmed.rssBeforeMb} MB before`,
    );
  } finally {
    await s.stop('SIGKILL');
    s.cleanup();
  }
});

test('netplumb serve refuses a path taken by a live daemon, and SIGTERM during attaches lets them finish', async () => {
  const s = await serve();
  const guests: TestNetns[] = [];
  try {
    const second = await run([
      'ip',
      'netns',
      'exec',
      ovs.netns,
      process.execPath,
      NETPLUMB,
      'serve',
      '--socket',
      s.sock,
      '--ovs-db',
      ovs.remote,
    ]);
    assert.equal(second.code, 9, 'CONFLICT');
    assert.match(second.stderr, /another process is serving on it/);
    assert.ok(lstatSync(s.sock).isSocket(), 'the first daemon keeps its socket');

    for (let i = 0; i < 4; i++) guests.push(await TestNetns.create('dt'));
    const cmds = guests.map((g, i) =>
      netplumb(
        ['attach', '--bridge', 'ovs0', '--container', `netns:${g.name}`, '--ip', `10.9.1.${i + 1}/24`],
        s.sock,
        true,
      ),
    );
    // SIGTERM as soon as the daemon has taken the requests (four commands to start: under
    // load, seconds; the deadline only stops a hang).
    const deadline = Date.now() + 60_000;
    while (requests(s).length < guests.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(requests(s).length, guests.length);
    assert.equal(await s.stop('SIGTERM'), 0, s.stderr().slice(-2000));
    const results = await Promise.all(cmds);
    assert.ok(
      results.every((r) => r.code === 0 && r.stdout.startsWith('attached: ')),
      JSON.stringify(results),
    );
    assert.equal((await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).length, guests.length);
    for (const g of guests) {
      const r = await netplumb(['detach', '--container', `netns:${g.name}`], s.sock, true);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await ovs.vsctl(['list-ports', 'ovs0'])).trim(), '');
  } finally {
    await s.stop('SIGKILL');
    for (const g of guests) await g.destroy();
    for (const p of (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean))
      await ovs.vsctl(['--if-exists', 'del-port', p]);
    s.cleanup();
  }
});
