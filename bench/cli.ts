/**
 * `npm run bench -- cli`: one attach of a container to an OVS bridge with an address and a
 * VLAN, from a cold process each time, as a user runs it:
 *
 *   ours        bin/pipework ovs0 netns:G 10.0.0.N/24 @100   (as installed: the shebang drops
 *               NODE_EXTRA_CA_CERTS, which stays set in the environment it is given)
 *   ours+CA     node bin/pipework …  with NODE_EXTRA_CA_CERTS kept
 *   daemon      bin/pipework … with `netplumb serve` running on the emulated host: the cold
 *               process parses its arguments and hands the attach to the daemon
 *   baseline    bench/baseline/pipework-ovs.sh: the `ip` + `ovs-vsctl` sequence pipework runs
 *   node -e 0   bare Node start, without and with NODE_EXTRA_CA_CERTS
 *   --version   bin/netplumb --version: the CLI start with nothing to do
 *   netns exec  `ip netns exec HOST true`: the wrapper's own cost, in every other row too
 *
 * Everything runs on an emulated host: a private ovsdb-server + ovs-vswitchd (userspace
 * datapath) in a namespace of its own, bridge ovs0, guests that are plain namespaces each
 * held by a `sleep` (its pid is pipework's NSPID). Every command is `ip netns exec HOST …`.
 * Methods alternate within each round in a shuffled order, so they share the machine's
 * noise; every attach is checked (exit 0, eth1 with its address in the guest, one OVS port
 * with tag 100) and undone outside the timing. Each run is wrapped in `/usr/bin/time -f %M`
 * (the same for every method): its wait4 rusage gives the peak RSS of the process (for a
 * script, of its largest process); `ip netns exec` and `env -S` exec in place, so for the
 * CLI it is Node's own peak. The root namespace is never changed; everything is removed at
 * the end, also on failure.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  symlinkSync,
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
import { nowMs, percentile, printTable, round } from './lib/stats.js';
import { rng } from '../test/helpers/rng.js';

const ROOT = join(__dirname, '..', '..');
/** What `netplumb --version` must print: package.json's version. */
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const RUNS = Number(process.env.NETPLUMB_BENCH_CLI_RUNS ?? 30);
const WARMUP = Number(process.env.NETPLUMB_BENCH_CLI_WARMUP ?? 2);
const VLAN = 100;
const CA_FILE = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
const TIME = '/usr/bin/time';

type Method = 'ours' | 'ours_ca' | 'daemon' | 'baseline' | 'node' | 'node_ca' | 'version' | 'netns_exec';
const METHODS: Method[] = ['ours', 'ours_ca', 'daemon', 'baseline', 'node', 'node_ca', 'version', 'netns_exec'];
const ATTACHES: Method[] = ['ours', 'ours_ca', 'daemon', 'baseline'];
const LABEL: Record<Method, string> = {
  ours: 'attach: bin/pipework (as installed, CA dropped)',
  ours_ca: 'attach: node bin/pipework, NODE_EXTRA_CA_CERTS set',
  daemon: 'attach: bin/pipework through netplumb serve',
  baseline: 'attach: pipework ip + ovs-vsctl sequence (baseline)',
  node: 'node -e 0',
  node_ca: 'node -e 0, NODE_EXTRA_CA_CERTS set',
  version: 'bin/netplumb --version',
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

function shuffled<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
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
 * built addon), copied once: the measured code cannot change under a rebuild running
 * beside the benchmark. NETPLUMB_BENCH_CLI_IN_PLACE=1 runs the working tree's instead.
 */
function snapshot(dir: string): string {
  const pkg = join(dir, 'pkg');
  for (const p of [
    'package.json',
    'bin',
    join('dist', 'src'),
    join('dist', 'bundle'),
    join('build', 'Release', 'netplumb.node'),
  ])
    cpSync(join(ROOT, p), join(pkg, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
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
  const samples: Record<Method, Sample[]> = {
    ours: [],
    ours_ca: [],
    daemon: [],
    baseline: [],
    node: [],
    node_ca: [],
    version: [],
    netns_exec: [],
  };
  const rounds = WARMUP + RUNS;
  try {
    ovs = await startOvs({ withVswitchd: true });
    await ovs.addBridge('ovs0');
    const host = ovs.netns;
    const remote = ovs.remote;
    for (let i = 0; i < rounds; i++) guests.push(await startGuest(`np-cg-${tag}-${i}`));

    // The environment the commands get: this machine's (NODE_EXTRA_CA_CERTS included, when set),
    // the private OVS found through $OVS_RUNDIR, no logging (a plain run).
    const base: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: ovs.dir };
    delete base.NETPLUMB_LOG;
    const withCa: NodeJS.ProcessEnv = { ...base, NODE_EXTRA_CA_CERTS: CA_FILE };
    const noCa: NodeJS.ProcessEnv = { ...base };
    delete noCa.NODE_EXTRA_CA_CERTS;
    // "ours" acts in its own process; "daemon" finds the daemon through $NETPLUMB_SOCKET.
    const direct: NodeJS.ProcessEnv = { ...withCa, PIPEWORK_NO_DAEMON: '1' };
    const socket = join(dir, 'run', 'netplumb.sock');
    const viaDaemon: NodeJS.ProcessEnv = { ...withCa, NETPLUMB_SOCKET: socket };
    const inHost = (args: string[]) => ['ip', 'netns', 'exec', host, ...args];
    const pkg = process.env.NETPLUMB_BENCH_CLI_IN_PLACE === '1' ? ROOT : snapshot(dir);
    const pipework = join(pkg, 'bin', 'pipework');
    const netplumb = join(pkg, 'bin', 'netplumb');
    const script = join(ROOT, 'bench', 'baseline', 'pipework-ovs.sh');
    daemon = await startDaemon(inHost([netplumb, 'serve', '--socket', socket]), base, socket);

    const command = (m: Method, g: Guest, addr: string): { argv: string[]; env: NodeJS.ProcessEnv } => {
      switch (m) {
        case 'ours':
          return { argv: inHost([pipework, 'ovs0', `netns:${g.ns}`, addr, `@${VLAN}`]), env: direct };
        case 'ours_ca':
          return { argv: inHost([process.execPath, pipework, 'ovs0', `netns:${g.ns}`, addr, `@${VLAN}`]), env: direct };
        case 'daemon':
          return { argv: inHost([pipework, 'ovs0', `netns:${g.ns}`, addr, `@${VLAN}`]), env: viaDaemon };
        case 'baseline':
          return { argv: inHost([script, 'ovs0', String(g.pid), addr, String(VLAN), remote]), env: base };
        case 'node':
          return { argv: inHost([process.execPath, '-e', '0']), env: noCa };
        case 'node_ca':
          return { argv: inHost([process.execPath, '-e', '0']), env: withCa };
        case 'version':
          return { argv: inHost([netplumb, '--version']), env: withCa };
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
        if (m === 'version' && s.out.trim() !== `netplumb ${VERSION}`)
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

  const ratioP50 = p('baseline', 50) / p('ours', 50);
  const ratioDaemonP50 = p('baseline', 50) / p('daemon', 50);
  const ratioP99 = p('baseline', 99) / p('ours', 99);
  const startAbove = p('version', 50) - p('node', 50);
  const startAbovePaired = percentile(paired('version', 'node'), 50);
  const peakRss = Math.max(...rss('ours'));
  process.stdout.write('\n');
  printTable(
    ['figure', 'value', 'target'],
    [
      ['attach: baseline p50 / ours p50', `${round(ratioP50, 2)}×`, '≥ 1.5×'],
      ['attach: baseline p50 / ours through the daemon p50', `${round(ratioDaemonP50, 2)}×`, '≥ 1.5×'],
      ['attach: baseline p99 / ours p99', `${round(ratioP99, 2)}×`, ''],
      ['attach: baseline CPU / ours CPU (means)', `${round(cpu('baseline') / cpu('ours'), 2)}×`, ''],
      ['CLI start above node -e 0 (p50 --version − p50 node)', `${round(startAbove, 1)} ms`, '≤ 15 ms'],
      ['  same, median of per-round differences', `${round(startAbovePaired, 1)} ms`, ''],
      ['attach above node -e 0 (p50 ours − p50 node)', `${round(p('ours', 50) - p('node', 50), 1)} ms`, ''],
      ['peak RSS of bin/pipework attach (max)', `${round(peakRss, 1)} MB`, '≤ 80 MB'],
      ['NODE_EXTRA_CA_CERTS: node -e 0 with − without (p50)', `${round(p('node_ca', 50) - p('node', 50), 1)} ms`, ''],
      ['NODE_EXTRA_CA_CERTS: attach with − as installed (p50)', `${round(p('ours_ca', 50) - p('ours', 50), 1)} ms`, ''],
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
    baseline_vs_ours_p50: round(ratioP50, 3),
    baseline_vs_ours_p99: round(ratioP99, 3),
    baseline_vs_daemon_p50: round(ratioDaemonP50, 3),
    baseline_vs_ours_cpu: round(cpu('baseline') / cpu('ours'), 3),
    cli_start_above_node_ms: round(startAbove, 2),
    cli_start_above_node_paired_ms: round(startAbovePaired, 2),
    attach_above_node_ms: round(p('ours', 50) - p('node', 50), 2),
    ca_cost_node_ms: round(p('node_ca', 50) - p('node', 50), 2),
    ca_cost_attach_ms: round(p('ours_ca', 50) - p('ours', 50), 2),
    peak_rss_mb: round(peakRss, 1),
    netns_exec_ms: round(p('netns_exec', 50), 2),
    targets_met: {
      ratio_1_5x: ratioP50 >= 1.5,
      ratio_1_5x_daemon: ratioDaemonP50 >= 1.5,
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
