/**
 * `npm run bench -- cli`: one attach of a container to an OVS bridge with an address and a
 * VLAN, from a cold process each time, as a user (or a runtime exec'ing a plugin) runs it:
 *
 *   front+daemon  pipework ovs0 netns:G 10.0.0.N/24 @100 as installed: the native front door
 *                 (build/Release/netplumb-front in bin/pipework's place) hands the call to the
 *                 running `netplumb serve`, which parses and runs it; no Node.js is started
 *   front alone   the same with no daemon: the front door execs Node.js, which acts alone
 *   node+daemon   the Node.js launcher (bin/pipework before install) through the daemon's
 *                 JSON-RPC API: what the front door replaces
 *   baseline      bench/baseline/pipework-ovs.sh: the `ip` + `ovs-vsctl` sequence pipework runs
 *   node -e 0     bare Node.js start (NODE_EXTRA_CA_CERTS unset, as the commands run it)
 *   --version     netplumb --version through the front door and the daemon, and acting alone
 *   netns exec    `ip netns exec HOST true`: the wrapper's own cost, in every other row too
 *
 * Everything runs on an emulated host: a private ovsdb-server + ovs-vswitchd (userspace
 * datapath) in a namespace of its own, bridge ovs0, guests that are plain namespaces each
 * held by a `sleep` (its pid is pipework's NSPID). Every command is `ip netns exec HOST …`.
 * Methods alternate within each round in a shuffled order, so they share the machine's
 * noise; every attach is checked (exit 0, eth1 with its address in the guest, one OVS port
 * with tag 100) and undone outside the timing. Each run is wrapped in `/usr/bin/time -f %M`
 * (the same for every method): its wait4 rusage gives the peak RSS of the process (for a
 * script, of its largest process); `ip netns exec`, `env -S` and the front door exec in
 * place, so for a command acting alone it is Node's own peak. The root namespace is never
 * changed; everything is removed at the end, also on failure.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  symlinkSync,
  writeFileSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  existsSync,
  unlinkSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { startDaemon, stopDaemon, type DaemonProcess } from './lib/daemon.js';
import { nowMs, percentile, printTable, round, shuffled } from './lib/stats.js';
import { rng } from '../test/helpers/rng.js';

const ROOT = join(__dirname, '..', '..');
/** What `netplumb --version` must print: package.json's version. */
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const RUNS = Number(process.env.NETPLUMB_BENCH_CLI_RUNS ?? 30);
const WARMUP = Number(process.env.NETPLUMB_BENCH_CLI_WARMUP ?? 2);
const VLAN = 100;
const CA_FILE = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
const TIME = '/usr/bin/time';

const METHODS = [
  'front_daemon',
  'front_alone',
  'node_daemon',
  'baseline',
  'node',
  'version',
  'version_alone',
  'netns_exec',
] as const;
type Method = (typeof METHODS)[number];
const ATTACHES: readonly Method[] = ['front_daemon', 'front_alone', 'node_daemon', 'baseline'];
const LABEL: Record<Method, string> = {
  front_daemon: 'attach: pipework (front door) through netplumb serve',
  front_alone: 'attach: pipework (front door), no daemon: Node.js acts alone',
  node_daemon: 'attach: Node.js launcher through the JSON-RPC API',
  baseline: 'attach: pipework ip + ovs-vsctl sequence (baseline)',
  node: 'node -e 0',
  version: 'netplumb --version (front door, daemon)',
  version_alone: 'netplumb --version (front door, no daemon)',
  netns_exec: 'ip netns exec HOST true',
};

interface Guest {
  ns: string;
  holder: ChildProcess;
  pid: number;
}

interface Sample {
  ms: number;
  rssKb: number;
  /** user + system CPU of the process and what it waited for (10 ms resolution: use means). */
  cpuMs: number;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** Run argv under /usr/bin/time; wall time from spawn to exit, measured here. */
function timed(
  argv: string[],
  env: NodeJS.ProcessEnv,
  rssFile: string,
): Promise<Sample & { code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t0 = nowMs();
    const child = spawn(TIME, ['-f', '%M %U %S', '-o', rssFile, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = nowMs() - t0;
      // time writes "Command exited with non-zero status N" before the figures when the command fails.
      const [rss, user, sys] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
      resolve({ ms, rssKb: rss ?? NaN, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, code, out });
    });
  });
}

async function startGuest(name: string): Promise<Guest> {
  ip('netns', 'add', name);
  // `ip netns exec` execs the command in place: the child's pid is the sleep's, inside the namespace.
  const holder = spawn('ip', ['netns', 'exec', name, 'sleep', 'infinity'], { stdio: 'ignore' });
  const pid = holder.pid;
  if (pid === undefined) throw new Error(`could not start a process in ${name}`);
  const target = readlinkSync(`/proc/self/ns/net`);
  for (let i = 0; i < 500; i++) {
    try {
      // Entered once its namespace differs from ours (the bench runs in the root namespace).
      if (readlinkSync(`/proc/${pid}/ns/net`) !== target && readlinkSync(`/proc/${pid}/exe`).endsWith('sleep'))
        return { ns: name, holder, pid };
    } catch {
      /* not there yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the holder of ${name} (pid ${pid}) did not enter it`);
}

/**
 * The commands as an npm install lays them out (package.json "files": bin, dist/src, the
 * built addon and front door), copied once: the measured code cannot change under a
 * rebuild running beside the benchmark. The Node.js launchers stay in bin/node/ for the
 * node+daemon row; bin/netplumb and bin/pipework become the front door, as the install
 * script makes them.
 */
/** scripts/front-door.js: what the install does with the front door. */
interface FrontDoorScript {
  probeFrontDoor(file: string): void;
  installFrontDoor(root: string, exe: string): string;
}

function snapshot(dir: string): string {
  const pkg = join(dir, 'pkg');
  for (const p of [
    'package.json',
    'bin',
    join('dist', 'src'),
    join('dist', 'bundle'),
    join('build', 'Release', 'netplumb.node'),
    join('build', 'Release', 'netplumb-front'),
  ])
    cpSync(join(ROOT, p), join(pkg, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  // The Node.js launchers stay for the node+daemon row, one level down.
  mkdirSync(join(pkg, 'bin', 'node'));
  for (const name of ['netplumb', 'pipework']) {
    const launcher = readFileSync(join(pkg, 'bin', name), 'utf8');
    writeFileSync(
      join(pkg, 'bin', 'node', name),
      launcher.replace("require('./node-cli.js')", "require('../node-cli.js')"),
      {
        mode: 0o755,
      },
    );
  }
  const { installFrontDoor, probeFrontDoor } = require(join(ROOT, 'scripts', 'front-door.js')) as FrontDoorScript;
  const exe = join(pkg, 'build', 'Release', 'netplumb-front');
  probeFrontDoor(exe);
  installFrontDoor(pkg, exe);
  return pkg;
}

async function main(): Promise<void> {
  if (!existsSync(TIME)) throw new Error(`${TIME} is required (Debian package "time")`);
  const tag = `${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'np-bench-cli-'));
  const rssFile = join(dir, 'rss');
  const guests: Guest[] = [];
  let ovs: OvsInstance | undefined;
  let daemon: DaemonProcess | undefined;
  const samples = Object.fromEntries(METHODS.map((m) => [m, [] as Sample[]])) as Record<Method, Sample[]>;
  const rounds = WARMUP + RUNS;
  try {
    ovs = await startOvs({ withVswitchd: true });
    await ovs.addBridge('ovs0');
    const host = ovs.netns;
    const remote = ovs.remote;
    for (let i = 0; i < rounds; i++) guests.push(await startGuest(`np-cg-${tag}-${i}`));

    // The environment the commands get: this machine's (NODE_EXTRA_CA_CERTS included, when set:
    // the commands drop it), the private OVS found through $OVS_RUNDIR, no logging (a plain run).
    const base: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: ovs.dir, NODE_EXTRA_CA_CERTS: CA_FILE };
    delete base.NETPLUMB_LOG;
    const noCa: NodeJS.ProcessEnv = { ...base };
    delete noCa.NODE_EXTRA_CA_CERTS;
    // Through the daemon: found through $NETPLUMB_SOCKET; alone: $NETPLUMB_SOCKET names nothing.
    const socket = join(dir, 'run', 'netplumb.sock');
    const viaDaemon: NodeJS.ProcessEnv = { ...base, NETPLUMB_SOCKET: socket };
    const alone: NodeJS.ProcessEnv = { ...base, NETPLUMB_SOCKET: join(dir, 'no-daemon.sock') };
    const inHost = (args: string[]) => ['ip', 'netns', 'exec', host, ...args];
    const pkg = snapshot(dir);
    const pipework = join(pkg, 'bin', 'pipework');
    const netplumb = join(pkg, 'bin', 'netplumb');
    const nodePipework = join(pkg, 'bin', 'node', 'pipework');
    const script = join(ROOT, 'bench', 'baseline', 'pipework-ovs.sh');
    daemon = await startDaemon(inHost([netplumb, 'serve', '--socket', socket]), alone, socket);

    const command = (m: Method, g: Guest, addr: string): { argv: string[]; env: NodeJS.ProcessEnv } => {
      const attach = ['ovs0', `netns:${g.ns}`, addr, `@${VLAN}`];
      switch (m) {
        case 'front_daemon':
          return { argv: inHost([pipework, ...attach]), env: viaDaemon };
        case 'front_alone':
          return { argv: inHost([pipework, ...attach]), env: alone };
        case 'node_daemon':
          return { argv: inHost([nodePipework, ...attach]), env: viaDaemon };
        case 'baseline':
          return { argv: inHost([script, 'ovs0', String(g.pid), addr, String(VLAN), remote]), env: base };
        case 'node':
          return { argv: inHost([process.execPath, '-e', '0']), env: noCa };
        case 'version':
          return { argv: inHost([netplumb, '--version']), env: viaDaemon };
        case 'version_alone':
          return { argv: inHost([netplumb, '--version']), env: alone };
        case 'netns_exec':
          return { argv: inHost(['true']), env: base };
      }
    };

    const check = async (m: Method, g: Guest, addr: string): Promise<void> => {
      const links = JSON.parse(ip('-json', '-n', g.ns, 'addr', 'show', 'dev', 'eth1')) as {
        operstate: string;
        flags: string[];
        addr_info: { family: string; local: string; prefixlen: number }[];
      }[];
      const l = links[0];
      if (
        !l?.flags.includes('UP') ||
        !l.addr_info.some((a) => a.family === 'inet' && `${a.local}/${a.prefixlen}` === addr)
      )
        throw new Error(`${m}: eth1 in ${g.ns} is not up with ${addr}: ${JSON.stringify(links)}`);
      const ports = (await ovs!.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
      if (ports.length !== 1) throw new Error(`${m}: expected one port on ovs0, found ${ports.join(', ') || 'none'}`);
      const tagOf = (await ovs!.vsctl(['get', 'port', ports[0] as string, 'tag'])).trim();
      if (tagOf !== String(VLAN)) throw new Error(`${m}: port ${ports[0]} has tag ${tagOf}, expected ${VLAN}`);
    };

    // Undo one attach (outside the timing): the guest end of the veth (the host end goes with
    // it), then every port on ovs0 (waiting for ovs-vswitchd, as the attach did).
    const undo = async (g: Guest): Promise<void> => {
      try {
        ip('-n', g.ns, 'link', 'del', 'eth1');
      } catch {
        /* the attach failed before eth1 existed */
      }
      const ports = (await ovs!.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean);
      if (ports.length > 0) await ovs!.vsctl(ports.flatMap((p) => ['--', '--if-exists', 'del-port', 'ovs0', p]));
      const left = (JSON.parse(ip('-json', '-n', host, 'link', 'show', 'type', 'veth')) as unknown[]).length;
      if (left !== 0) throw new Error(`${left} veth(s) left in ${host} after undo`);
    };

    const rand = rng(0x5eed);
    for (let r = 0; r < rounds; r++) {
      const g = guests[r] as Guest;
      const addr = `10.0.0.${(r % 250) + 1}/24`;
      for (const m of shuffled(METHODS, rand)) {
        const { argv, env } = command(m, g, addr);
        const s = await timed(argv, env, rssFile);
        if (s.code !== 0) throw new Error(`${m} exited ${s.code}: ${argv.join(' ')}\n${s.out}`);
        if (ATTACHES.includes(m)) {
          await check(m, g, addr);
          await undo(g);
        }
        if ((m === 'version' || m === 'version_alone') && s.out.trim() !== `netplumb ${VERSION}`)
          throw new Error(`--version printed ${JSON.stringify(s.out)}`);
        if (r >= WARMUP) samples[m].push({ ms: s.ms, rssKb: s.rssKb, cpuMs: s.cpuMs });
      }
    }
  } finally {
    await stopDaemon(daemon);
    for (const g of guests) g.holder.kill('SIGKILL');
    await Promise.all(
      guests.map(
        (g) =>
          new Promise((res) =>
            g.holder.exitCode !== null || g.holder.signalCode !== null ? res(undefined) : g.holder.once('exit', res),
          ),
      ),
    );
    for (const g of guests) {
      try {
        ip('netns', 'del', g.ns);
      } catch {
        /* already gone */
      }
      // The baseline removes its /var/run/netns/NSPID link itself; a failed run may leave it.
      const link = `/var/run/netns/${g.pid}`;
      try {
        if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
      } catch {
        /* not there */
      }
    }
    await ovs?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const ms = (m: Method) => samples[m].map((s) => s.ms);
  const cpu = (m: Method) => mean(samples[m].map((s) => s.cpuMs));
  const rss = (m: Method) => samples[m].map((s) => s.rssKb / 1024);
  const p = (m: Method, q: number) => percentile(ms(m), q);
  function mean(xs: number[]): number {
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  }
  // Paired per round: the CLI start minus the bare Node start of the same round.
  const paired = (a: Method, b: Method) => samples[a].map((s, i) => s.ms - (samples[b][i] as Sample).ms);

  printTable(
    [
      `${RUNS} runs each (after ${WARMUP} warm-up rounds), cold process, on the emulated host`,
      'p50 ms',
      'p99 ms',
      'mean ms',
      'max ms',
      'CPU ms (mean)',
      'peak RSS MB (p50 / max)',
    ],
    METHODS.map((m) => [
      LABEL[m],
      p(m, 50),
      p(m, 99),
      mean(ms(m)),
      Math.max(...ms(m)),
      round(cpu(m), 1),
      `${round(percentile(rss(m), 50), 1)} / ${round(Math.max(...rss(m)), 1)}`,
    ]),
  );

  const ratio = (m: Method, q: number) => p('baseline', q) / p(m, q);
  const startAbove = p('version_alone', 50) - p('node', 50);
  const startAbovePaired = percentile(paired('version_alone', 'node'), 50);
  const peakRss = Math.max(...rss('front_alone'));
  process.stdout.write('\n');
  printTable(
    ['figure', 'value', 'target'],
    [
      ['attach: baseline p50 / front door + daemon p50', `${round(ratio('front_daemon', 50), 2)}×`, '≥ 4×'],
      ['attach: baseline p99 / front door + daemon p99', `${round(ratio('front_daemon', 99), 2)}×`, ''],
      ['attach: baseline p50 / acting alone p50', `${round(ratio('front_alone', 50), 2)}×`, '≥ 1.0×'],
      ['attach: baseline p99 / acting alone p99', `${round(ratio('front_alone', 99), 2)}×`, ''],
      ['attach: baseline p50 / Node.js launcher + JSON-RPC p50', `${round(ratio('node_daemon', 50), 2)}×`, ''],
      [
        'attach: baseline CPU / front door + daemon CPU (means, caller side)',
        `${round(cpu('baseline') / cpu('front_daemon'), 2)}×`,
        '',
      ],
      ['attach: baseline CPU / acting alone CPU (means)', `${round(cpu('baseline') / cpu('front_alone'), 2)}×`, ''],
      ['--version through the daemon (p50)', `${round(p('version', 50), 1)} ms`, ''],
      ['CLI start above node -e 0 (p50 --version alone − p50 node)', `${round(startAbove, 1)} ms`, '≤ 15 ms'],
      ['  same, median of per-round differences', `${round(startAbovePaired, 1)} ms`, ''],
      ['attach acting alone above node -e 0 (p50 − p50)', `${round(p('front_alone', 50) - p('node', 50), 1)} ms`, ''],
      ['peak RSS of an attach acting alone (max)', `${round(peakRss, 1)} MB`, '≤ 80 MB'],
      ['ip netns exec HOST true (in every row above)', `${round(p('netns_exec', 50), 1)} ms`, ''],
    ],
  );

  const fig: Record<string, unknown> = { bench: 'cli', runs: RUNS, warmup: WARMUP };
  for (const m of METHODS) {
    fig[`${m}_p50_ms`] = round(p(m, 50), 2);
    fig[`${m}_p99_ms`] = round(p(m, 99), 2);
    fig[`${m}_rss_max_mb`] = round(Math.max(...rss(m)), 1);
    fig[`${m}_cpu_mean_ms`] = round(cpu(m), 1);
  }
  Object.assign(fig, {
    baseline_vs_front_daemon_p50: round(ratio('front_daemon', 50), 3),
    baseline_vs_front_daemon_p99: round(ratio('front_daemon', 99), 3),
    baseline_vs_alone_p50: round(ratio('front_alone', 50), 3),
    baseline_vs_alone_p99: round(ratio('front_alone', 99), 3),
    baseline_vs_node_daemon_p50: round(ratio('node_daemon', 50), 3),
    cli_start_above_node_ms: round(startAbove, 2),
    cli_start_above_node_paired_ms: round(startAbovePaired, 2),
    peak_rss_mb: round(peakRss, 1),
    netns_exec_ms: round(p('netns_exec', 50), 2),
    targets_met: {
      front_daemon_4x: ratio('front_daemon', 50) >= 4,
      alone_1x: ratio('front_alone', 50) >= 1,
      start_15ms: startAbove <= 15,
      rss_80mb: peakRss <= 80,
    },
  });
  process.stdout.write(`${JSON.stringify(fig)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench cli failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
