/**
 * The native front door (build/Release/netplumb-front, run by the names netplumb, pipework
 * and netplumb-cni): through a running daemon the command runs there and no Node.js starts
 * (the front door is given a PATH without node: any fallback would fail with status 127);
 * without a daemon, with a stale socket, with a daemon on another OVSDB, with --no-daemon,
 * it execs Node.js, which acts alone; a peer the daemon does not allow is refused as over
 * its API. A daemon serving test programs (support/front-door-daemon.ts) shows what the
 * real commands cannot: stdin relayed when asked and never read otherwise, megabytes of
 * output, the environment passed, a call handed back after reading stdin, the daemon
 * killed during a call. Oracles: ovs-vsctl and ip -json, the daemon's log, the bytes.
 */
import { after, before, test } from '../helpers/privileged.js';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServedDaemon, serveInNetns, spawnDaemonInNetns } from '../helpers/daemon.js';
import { useLeakCheck } from '../helpers/leak.js';
import { TestNetns } from '../helpers/netns.js';
import { must } from '../../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { bigByte, bigErrLine } from './support/front-door-daemon.js';

const ROOT = join(__dirname, '..', '..', '..');
const FRONT = join(ROOT, 'build', 'Release', 'netplumb-front');
const NODE_CLI = join(ROOT, 'bin', 'node-cli.js');
const TEST_DAEMON = join(__dirname, 'support', 'front-door-daemon.js');
/** A PATH with no node in it: a front door that tried to start Node.js would exit 127. */
const NO_NODE = '/nonexistent-np-front-door';
/** pipework's and netplumb's exit status for "the outcome is unknown". */
const PIPEWORK_FAILED = 1;
const OUTCOME_UNKNOWN = 12;
/** netplumb-cni's exit status for a failure (its CNI error on stdout). */
const CNI_FAILED = 1;

let ovs: OvsInstance;
/** A directory of links named netplumb, pipework, netplumb-cni to the front door. */
let bin: string;
/** Absolute paths: some calls run with a PATH that has nothing in it. */
let ip: string;
let setpriv: string;
let cat: string;

before(async () => {
  ovs = await startOvs({ withVswitchd: true });
  await ovs.addBridge('ovs0');
  bin = mkdtempSync('/tmp/np-front-bin-');
  chmodSync(bin, 0o755);
  for (const name of ['netplumb', 'pipework', 'netplumb-cni']) symlinkSync(FRONT, join(bin, name));
  const where = async (tool: string) => (await must(['sh', '-c', `command -v ${tool}`])).trim();
  [ip, setpriv, cat] = [await where('ip'), await where('setpriv'), await where('cat')];
});
after(async () => {
  await ovs?.stop();
  if (bin) rmSync(bin, { recursive: true, force: true });
});
useLeakCheck();

interface Result {
  stdout: string;
  stderr: string;
  code: number | null;
}

interface CallOptions {
  env?: NodeJS.ProcessEnv;
  /** Bytes to give on stdin (then closed), or 'held': a pipe that is never closed while the call runs. */
  stdin?: Buffer | 'held';
  /** Run as another user: setpriv arguments (--reuid=…). */
  as?: string[];
  /** Called once the process is spawned. */
  started?: (child: ChildProcess) => void;
}

/** `argv` in the OVS namespace (where the daemons run), as a user would run it. */
function runInHost(argv: string[], opts: CallOptions = {}): Promise<Result & { stdoutBytes: Buffer }> {
  const full = [ip, 'netns', 'exec', ovs.netns, ...(opts.as ? [setpriv, ...opts.as, '--'] : []), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0] as string, full.slice(1), {
      env: { PATH: process.env.PATH, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => undefined); // a front door that never reads it exits first
    if (opts.stdin !== 'held') child.stdin.end(opts.stdin ?? Buffer.alloc(0));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      child.stdin.destroy();
      const stdoutBytes = Buffer.concat(out);
      resolve({ stdout: stdoutBytes.toString(), stdoutBytes, stderr: err, code });
    });
    opts.started?.(child);
  });
}

/** PROG ARGS through the front door. */
function front(prog: string, args: string[], opts: CallOptions = {}) {
  return runInHost([join(bin, prog), ...args], opts);
}

/** PROG ARGS in Node.js, acting alone. */
async function alone(prog: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  const { stdout, stderr, code } = await runInHost([process.execPath, NODE_CLI, prog, ...args], { env });
  return { stdout, stderr, code };
}

function result(r: Result): Result {
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
}

interface Daemon extends ServedDaemon {
  /** Stop it, and remove its directory. */
  dispose(): Promise<void>;
}

/** A daemon in the OVS namespace: `netplumb serve` (real) or the test-program daemon. */
async function startDaemon(kind: 'serve' | 'test', extra: string[] = []): Promise<Daemon> {
  const top = mkdtempSync('/tmp/np-front-');
  chmodSync(top, 0o755);
  const sock = join(top, 'run', 'netplumb.sock');
  try {
    const d =
      kind === 'serve'
        ? await serveInNetns(ovs.netns, ovs.remote, sock, { args: extra })
        : await spawnDaemonInNetns(ovs.netns, sock, TEST_DAEMON, ['--serve', sock, ovs.remote], {
            NETPLUMB_LOG: 'debug',
          });
    return {
      ...d,
      dispose: async () => {
        await d.stop();
        rmSync(top, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(top, { recursive: true, force: true });
    throw e;
  }
}

const msgs = (d: Daemon, msg: string) => d.log().filter((l) => l.msg === msg);

async function ports(): Promise<string[]> {
  return (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
}

async function removePorts(): Promise<void> {
  for (const p of await ports()) await ovs.vsctl(['--if-exists', 'del-port', p]);
}

/** The guest has eth1 with exactly `address`. */
async function assertAddress(g: TestNetns, address: string): Promise<void> {
  const [link] = await g.ip('addr', 'show', 'dev', 'eth1');
  assert.deepEqual(
    link?.addr_info?.filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`),
    [address],
  );
}

test('through the daemon: pipework and netplumb run there, no Node.js starts, and answer as they do alone', async () => {
  const d = await startDaemon('serve');
  const g = await TestNetns.create('fd');
  try {
    const served = { NETPLUMB_SOCKET: d.sock, OVS_DB: ovs.remote, PATH: NO_NODE };
    const attach = await front('pipework', ['ovs0', `netns:${g.name}`, '10.9.0.2/24', '@100'], { env: served });
    assert.deepEqual(result(attach), { stdout: '', stderr: '', code: 0 });
    const [port] = await ports();
    assert.equal((await ovs.vsctl(['get', 'port', port as string, 'tag'])).trim(), '100');
    await assertAddress(g, '10.9.0.2/24');
    assert.deepEqual(
      msgs(d, 'front-door call').map((l) => l.program),
      ['pipework'],
      'the daemon ran the call',
    );
    assert.deepEqual(
      msgs(d, 'request').map((l) => l.method),
      ['attach'],
      'its attach was a request of the method table',
    );

    // The same stdout, stderr and exit code as Node.js acting alone, for results and errors.
    const own = { NETPLUMB_SOCKET: `${d.sock}.none`, OVS_DB: ovs.remote };
    for (const [prog, args] of [
      ['netplumb', ['list']],
      ['netplumb', ['list', '--json']],
      ['netplumb', ['list', '--container', `netns:${g.name}`]],
      ['netplumb', ['detach', '--container', `netns:${g.name}`, '--ifname', 'eth9', '--json']],
      ['netplumb', ['attach', '--bridge', 'ovs0', '--container', 'netns:np-no-such-ns']],
      ['netplumb', ['atach']],
      ['netplumb', ['--version']],
      ['netplumb', ['help', 'attach']],
      ['pipework', ['ovs0', `netns:${g.name}`, '10.9.0.2/24', '@100']],
      ['pipework', ['ovs0', 'netns:np-no-such-ns', '10.9.0.3/24']],
      ['pipework', ['ovs0']],
      ['pipework', ['--help']],
    ] as const) {
      const viaFront = await front(prog, [...args], { env: served });
      const direct = await alone(prog, [...args], own);
      assert.deepEqual(result(viaFront), direct, `${prog} ${args.join(' ')}`);
    }
    assert.equal(msgs(d, 'front-door call handed back').length, 0, 'every call was served');

    // A stdin that never closes is never read: the command finishes.
    const held = await front('netplumb', ['list', '--json'], { env: served, stdin: 'held' });
    assert.equal(held.code, 0, held.stderr);
    assert.equal((JSON.parse(held.stdout) as { attachments: unknown[] }).attachments.length, 1);

    const detach = await front('netplumb', ['detach', '--container', `netns:${g.name}`], { env: served });
    assert.equal(detach.code, 0, detach.stderr);
    assert.match(detach.stdout, /^detached: netns:cookie:\d+ eth1 \(np\w+h\)\n$/);
    assert.deepEqual(await ports(), []);
    assert.deepEqual(await g.linkNames(), ['lo']);
  } finally {
    await d.dispose();
    await removePorts();
    await g.destroy();
  }
});

test('no daemon, or one on another OVSDB, or --no-daemon: the front door runs Node.js, which acts alone', async () => {
  const d = await startDaemon('serve');
  const g = await TestNetns.create('fa');
  try {
    // No daemon at $NETPLUMB_SOCKET: Node.js attaches (and reads no stdin it does not need).
    const none = { NETPLUMB_SOCKET: `${d.sock}.none`, OVS_DB: ovs.remote };
    const attach = await front('pipework', ['ovs0', `netns:${g.name}`, '10.9.1.2/24', '@101'], {
      env: none,
      stdin: 'held',
    });
    assert.deepEqual(result(attach), { stdout: '', stderr: '', code: 0 });
    const [port] = await ports();
    assert.equal((await ovs.vsctl(['get', 'port', port as string, 'tag'])).trim(), '101');
    await assertAddress(g, '10.9.1.2/24');
    assert.equal(msgs(d, 'front-door call').length, 0, 'the daemon was not asked');
    const noNode = await front('netplumb', ['list'], { env: { ...none, PATH: NO_NODE } });
    assert.equal(noNode.code, 127, 'it needs Node.js');
    assert.match(noNode.stderr, /^netplumb: no daemon serves this call, and Node\.js cannot be started/);

    // The daemon acts on another OVSDB than $OVS_DB names: handed back, Node.js acts alone.
    const other = { NETPLUMB_SOCKET: d.sock, OVS_DB: `unix:${d.sock}.other-db` };
    const viaFront = await front('netplumb', ['list', '--json'], { env: other });
    assert.deepEqual(result(viaFront), await alone('netplumb', ['list', '--json', '--no-daemon'], other));
    const handedBack = msgs(d, 'front-door call handed back');
    assert.equal(handedBack.length, 1);
    assert.match(
      String(handedBack[0]?.why),
      /uses OVSDB unix:\S*db\.sock, .* but this command asks for unix:\S*other-db,/,
    );

    // --no-daemon, PIPEWORK_NO_DAEMON=1 and show (it reads the guests from where the caller
    // is): handed back too (without Node.js on PATH: 127).
    const served = { NETPLUMB_SOCKET: d.sock, OVS_DB: ovs.remote, PATH: NO_NODE };
    assert.equal((await front('netplumb', ['list', '--no-daemon'], { env: served })).code, 127);
    assert.equal((await front('netplumb', ['show', '--json'], { env: served })).code, 127);
    const pw = await front('pipework', ['ovs0', `netns:${g.name}`, '10.9.1.2/24', '@101'], {
      env: { ...served, PIPEWORK_NO_DAEMON: '1' },
    });
    assert.equal(pw.code, 127, pw.stderr);
    assert.equal(msgs(d, 'front-door call handed back').length, 4);
    assert.equal(msgs(d, 'request').length, 0, 'the daemon did nothing for them');

    const detach = await front('netplumb', ['detach', '--container', `netns:${g.name}`], { env: none });
    assert.equal(detach.code, 0, detach.stderr);
    assert.deepEqual(await ports(), []);
  } finally {
    await d.dispose();
    await removePorts();
    await g.destroy();
  }
});

/** A group nobody (65534) is not in, to own the daemon's socket: its members may connect. */
function groupWithoutNobody(): number {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (name && gid && Number(gid) > 0 && Number(gid) !== 65534 && !(members ?? '').split(',').includes('nobody'))
      return Number(gid);
  }
  throw new Error('no group without nobody in /etc/group');
}

test('a peer the daemon does not allow is refused as over its API: Node.js runs, and may not act either', async () => {
  const gid = groupWithoutNobody();
  const group = (await must(['getent', 'group', String(gid)])).split(':')[0] as string;
  const d = await startDaemon('serve', ['--group', group]);
  const g = await TestNetns.create('fr');
  try {
    // nobody, with the group as a supplementary group: it can reach the socket (0660
    // root:GROUP in a 0750 directory), but SO_PEERCRED names uid 65534, gid 65534.
    const as = ['--reuid=65534', '--regid=65534', `--groups=${gid}`];
    const env = { NETPLUMB_SOCKET: d.sock, OVS_DB: ovs.remote };
    const r = await front('pipework', ['ovs0', `netns:${g.name}`, '10.9.2.2/24', '@102'], { env, as });
    assert.equal(r.code, PIPEWORK_FAILED, r.stderr);
    assert.match(r.stderr, /^pipework: /);
    assert.deepEqual(await ports(), [], 'nothing attached');
    assert.deepEqual(await g.linkNames(), ['lo']);
    const refused = d.log().filter((l) => l.msg === 'connection refused: peer not allowed');
    assert.ok(refused.length >= 1, 'the listener refused the peer');
    assert.ok(refused.every((l) => (l.peer as { uid: number }).uid === 65534));
    assert.equal(msgs(d, 'front-door call').length, 0, 'no byte of it was run');
    const noNode = await front('pipework', ['ovs0', `netns:${g.name}`, '10.9.2.2/24'], {
      env: { ...env, PATH: NO_NODE },
      as,
    });
    assert.equal(noNode.code, 127, 'refused: the front door runs Node.js');
  } finally {
    await d.dispose();
    await removePorts();
    await g.destroy();
  }
});

test('stdin is relayed when the command asks for it and never read otherwise; only the variables netplumb reads are sent', async () => {
  const d = await startDaemon('test');
  try {
    const env = { NETPLUMB_SOCKET: d.sock, PATH: NO_NODE };
    const input = Buffer.alloc(200_000, 0);
    for (let i = 0; i < input.length; i++) input[i] = (i * 13) & 0xff;
    const echoed = await front('netplumb-cni', ['echo-stdin'], { env, stdin: input });
    assert.equal(echoed.code, 3, echoed.stderr);
    assert.ok(echoed.stdoutBytes.equals(Buffer.concat([Buffer.from(`${input.length}:`), input])));
    const empty = await front('netplumb-cni', ['echo-stdin'], { env });
    assert.deepEqual(result(empty), { stdout: '0:', stderr: '', code: 3 });
    const held = await front('netplumb-cni', ['no-stdin'], { env, stdin: 'held' });
    assert.deepEqual(result(held), { stdout: 'done\n', stderr: '', code: 0 });

    const vars = await front('pipework', ['env'], {
      env: {
        ...env,
        NETPLUMB_LOG: '',
        PIPEWORK_X: '1',
        OVS_RUNDIR: '/tmp',
        CNI_COMMAND: 'ADD',
        DOCKER_HOST: 'unix:///x',
        DOCKER_HOSTNAME: 'no',
        HOME: '/root',
        SECRET: 'no',
      },
    });
    assert.deepEqual(vars.stdout.trim().split('\n'), [
      'CNI_COMMAND',
      'DOCKER_HOST',
      'NETPLUMB_LOG',
      'NETPLUMB_SOCKET',
      'OVS_RUNDIR',
      'PIPEWORK_X',
    ]);
  } finally {
    await d.dispose();
  }
});

test('megabytes of output arrive whole and in order, stdout and stderr apart', async () => {
  const d = await startDaemon('test');
  try {
    const chunks = 1024;
    const r = await front('netplumb', ['big', String(chunks)], { env: { NETPLUMB_SOCKET: d.sock, PATH: NO_NODE } });
    assert.equal(r.code, 0, r.stderr.slice(0, 200));
    assert.equal(r.stdoutBytes.length, chunks * 4096);
    const wrong = r.stdoutBytes.findIndex((b, i) => b !== bigByte(i));
    assert.equal(wrong, -1, `byte ${wrong} of stdout`);
    assert.equal(r.stderr, Array.from({ length: chunks }, (_, k) => bigErrLine(k)).join(''));
  } finally {
    await d.dispose();
  }
});

test('a call handed back after its stdin was read: Node.js gets the same arguments and that stdin, without NODE_EXTRA_CA_CERTS', async () => {
  const d = await startDaemon('test');
  // A `node` first on PATH that records what it was given.
  const fake = mkdtempSync('/tmp/np-front-node-');
  chmodSync(fake, 0o755);
  const record = join(fake, 'record');
  writeFileSync(
    join(fake, 'node'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${record}.argv\nprintf '%s' "\${NODE_EXTRA_CA_CERTS-unset}" > ${record}.ca\n${cat} > ${record}.stdin\nexit 5\n`,
    { mode: 0o755 },
  );
  try {
    const r = await front('netplumb-cni', ['stdin-then-back', 'a b', '--x'], {
      env: { NETPLUMB_SOCKET: d.sock, PATH: fake, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
      stdin: Buffer.from('{"cniVersion":"1.0.0"}'),
    });
    assert.equal(r.code, 5, r.stderr);
    const [script, ...args] = readFileSync(`${record}.argv`, 'utf8').trimEnd().split('\n');
    assert.equal(realpathSync(script as string), realpathSync(NODE_CLI));
    assert.deepEqual(args, ['netplumb-cni', 'stdin-then-back', 'a b', '--x']);
    assert.equal(readFileSync(`${record}.ca`, 'utf8'), 'unset');
    assert.equal(readFileSync(`${record}.stdin`, 'utf8'), '{"cniVersion":"1.0.0"}');
    assert.equal(msgs(d, 'front-door call handed back').length, 1);
  } finally {
    await d.dispose();
    rmSync(fake, { recursive: true, force: true });
  }
});

test('a CNI call (CNI_COMMAND set, whatever the name) whose daemon is killed during it: CNI error 11 on stdout', async () => {
  const d = await startDaemon('test');
  try {
    let killed: Promise<unknown> | undefined;
    // Called as netplumb: a runtime runs the plugin by its configuration's type, any link name.
    const r = await front('netplumb', ['hang-quietly'], {
      env: { NETPLUMB_SOCKET: d.sock, CNI_COMMAND: 'ADD', PATH: NO_NODE },
      started: (child) =>
        child.stderr?.once('data', () => {
          killed = d.stop('SIGKILL');
        }),
    });
    await killed;
    assert.deepEqual(
      msgs(d, 'front-door call').map((l) => l.program),
      ['netplumb-cni'],
      'run as netplumb-cni',
    );
    assert.equal(r.code, CNI_FAILED);
    const error = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(error.code, 11);
    assert.match(String(error.msg), /the netplumb daemon hung up during the call/);
    assert.match(r.stderr, /^started\nnetplumb-cni: the netplumb daemon \(.*\) hung up during the call/);
  } finally {
    await d.dispose();
  }
});

test('a daemon killed during a call: a clear error and the unknown-outcome status; its stale socket: Node.js acts', async () => {
  const d = await startDaemon('test');
  try {
    const env = { NETPLUMB_SOCKET: d.sock };
    let killed: Promise<unknown> | undefined;
    const r = await front('netplumb', ['hang'], {
      env,
      started: (child) =>
        child.stdout?.once('data', () => {
          killed = d.stop('SIGKILL');
        }),
    });
    await killed;
    assert.equal(r.stdout, 'started\n');
    assert.equal(r.code, OUTCOME_UNKNOWN);
    assert.match(
      r.stderr,
      /^netplumb: the netplumb daemon \(.*\) hung up during the call: it may or may not have been carried out/,
    );
    // The socket file is left behind, with nobody listening: Node.js acts.
    const stale = await front('netplumb', ['--version'], { env });
    assert.equal(stale.code, 0, stale.stderr);
    assert.match(stale.stdout, /^netplumb \d+\.\d+\.\d+\n$/);
  } finally {
    await d.dispose();
  }
});
