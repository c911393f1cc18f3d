/**
 * `npm run bench -- churn`: attach/detach throughput and latency under churn of N containers
 * (attach all, detach all, ROUNDS rounds), side by side in one run:
 *
 *   ours        the library direct (a Plumber in this process); the library through the
 *               daemon (a DaemonClient to `netplumb serve` on the emulated host); the CLI
 *               through the daemon (`netplumb attach|detach --json` as cold processes).
 *               The library and the daemon client have every request in flight at once (the
 *               engine coalesces concurrent attaches into batches; the daemon takes at most
 *               DEFAULT_MAX_CONCURRENT at once and answers "busy" beyond, so that is its
 *               bound); one more library row at concurrency 64; the CLI at concurrency 16.
 *   (a)         the `ip` + `ovs-vsctl` sequence pipework runs, per container (bench/baseline/).
 *   (b) floor   one `ip -batch` creating every veth with its peer in its namespace + one
 *               `ovs-vsctl` transaction adding every port, then the reverse; both orders.
 *               The guest ends stay down without an address: a floor below the real work.
 *   floor live  the same, but each guest end also gets its address and is brought up (the
 *               done-criterion of ours). iproute2 reaches a link in another namespace only
 *               from a process inside it, so that part is one `ip -batch` per guest, started
 *               from the same batch (`netns exec`).
 *
 * An attach counts as done when the guest's interface is up with its address and the OVS
 * port has an ofport: every attach of ours must report its ofport, and after each "attach
 * all" (outside the timing) the bridge must hold one port per attachment and a sample of
 * guests must show the interface up with its address. The floors wait for every ofport.
 * Each of our engines does one small untimed churn first (connections, caches, compilation).
 *
 * Also: attach latency p50/p99/max at concurrency 1, 16, 64 and with 10 vs 2000 ports on the
 * bridge (library direct); event-loop lag during the library churn; child processes started
 * by our hot path (in this process: every spawn counted; the daemon: its children sampled
 * from /proc); the daemon's resident memory with N attachments (after its churns) and, in a
 * fresh daemon, with 2000 (two interfaces, eth1 and eth2, in each of 1000 guests), also after
 * a pause with no request (the daemon trims its memory when idle). Also where the library's
 * event-loop lag comes from: its GC pauses, and the time its main thread was runnable but
 * not running (another thread had the CPU; /proc schedstat).
 *
 * Guests are like Docker's IPv4-only containers: each namespace has IPv6 disabled
 * (`net.ipv6.conf.{all,default}.disable_ipv6=1`), for every method alike. With IPv6 on,
 * every new interface's autoconfiguration multicasts (DAD, RS, MLD) are flooded by the
 * userspace datapath to every port of the VLAN, which would dominate the run.
 *
 * Writes bench/results/churn-<date>.json and .svg; prints tables and, last, one JSON line
 * with every figure and the target checks. Everything happens inside namespaces the
 * benchmark creates (an emulated host running a private Open vSwitch, one namespace per
 * container); nothing is routed in the namespace it runs in. Guests, the daemon and OVS are
 * removed at the end, also on failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../src/daemon/client.js';
import { DEFAULT_MAX_CONCURRENT } from '../src/daemon/server.js';
import { Vswitch } from '../src/ovsdb/index.js';
import { Plumber, type DetachRequest } from '../src/plumb/plumber.js';
import type { AttachSpec } from '../src/plumb/spec.js';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { procStatusMb, startDaemon, stopDaemon, watchChildren, type DaemonProcess } from './lib/daemon.js';
import { countSpawns, nowMs, percentile, printTable, round, summary, timeIt } from './lib/stats.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';
import { watchLoop, type LoopFigures } from './lib/loop-watch.js';

const envNumber = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const N = envNumber('NETPLUMB_CHURN_N', 1000);
const ROUNDS = envNumber('NETPLUMB_CHURN_ROUNDS', 3);
const BASELINE_N = envNumber('NETPLUMB_CHURN_BASELINE_N', 60);
const CLI_N = envNumber('NETPLUMB_CHURN_CLI_N', 200);
const CLI_CONCURRENCY = 16;
/** Guests with two interfaces each for the daemon's memory at 2 × this many attachments. */
const RSS_GUESTS = envNumber('NETPLUMB_CHURN_RSS_GUESTS', 1000);
const LATENCY_N = 200;
const CONCURRENCY = [1, 16, 64];
const BRIDGE = 'ovs0';
const VLAN = 100;
const GUESTS = 'IPv6 disabled, as Docker does for IPv4-only containers';
const ROOT = join(__dirname, '..', '..');
const NETPLUMB = join(ROOT, 'bin', 'netplumb');

type Summary = ReturnType<typeof summary>;
type Ifname = 'eth1' | 'eth2';

/** One attachment: interface `ifname` in guest number `guest`. */
interface Slot {
  guest: number;
  ifname: Ifname;
}

/** What the churn drives: the library direct, through the daemon, or the CLI. */
interface ChurnEngine {
  attach(s: Slot): Promise<{ ofport?: number }>;
  detach(s: Slot): Promise<unknown>;
}

/** Throughput of one method: per second from the median round, and every round's time. */
interface Rates {
  containers: number;
  concurrency: number;
  attachPerSec: number;
  detachPerSec: number;
  attachMs: number[];
  detachMs: number[];
  /** CPU time ovs-vswitchd used per attach and per detach (median round), ms: its share of the work. */
  vswitchdCpuMsPerAttach: number;
  vswitchdCpuMsPerDetach: number;
}

/** One timed phase: its wall time and the CPU time ovs-vswitchd used meanwhile, ms. */
interface Phase {
  ms: number;
  vswitchdCpuMs: number;
}

type Order = 'kernelFirst' | 'ovsFirst';
type FloorRates = Record<Order, Rates> & { best: { attachPerSec: number; detachPerSec: number } };

// ---------------------------------------------------------------- guests, specs, commands

const guestName = (i: number): string => `np-ch${process.pid}-${i}`;

/** An address unique to (guest, interface): eth1 in 10.64.0.0/10 (prefix /8), eth2 in 172.16.0.0/12. */
function address(s: Slot): string {
  const h = s.guest + 1;
  const [a, b, len] = s.ifname === 'eth1' ? [10, 64, 8] : [172, 16, 12];
  return `${a}.${b + (h >> 16)}.${(h >> 8) & 255}.${h & 255}/${len}`;
}

const spec = (s: Slot): AttachSpec => ({
  host: BRIDGE,
  guest: { netns: guestName(s.guest) },
  ifname: s.ifname,
  vlan: VLAN,
  ip: { kind: 'static', address: address(s) },
});
const detachRequest = (s: Slot): DetachRequest => ({ guest: { netns: guestName(s.guest) }, ifname: s.ifname });

/** eth1 in guests 0 … n-1. */
const slots = (n: number): Slot[] => Array.from({ length: n }, (_, guest) => ({ guest, ifname: 'eth1' }));
/** eth1 and eth2 in guests 0 … n-1. */
const twoEach = (n: number): Slot[] => slots(n).flatMap((s) => [s, { ...s, ifname: 'eth2' as const }]);

const started = nowMs();
/** Progress on stderr (stdout carries the report). */
function step(what: string): void {
  process.stderr.write(`churn: ${what} (${round((nowMs() - started) / 1000, 1)} s)\n`);
}

/** Run argv to completion; its stdout. Its stderr is kept out of the report (a failure's error carries it). */
function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0] as string, argv.slice(1), {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

/** `ip [-n NETNS] [-force] -batch -` with `lines` on stdin. */
function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): void {
  sh(
    ['ip', ...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'],
    `${lines.join('\n')}\n`,
  );
}

function vsctl(ovs: OvsInstance, args: string[]): string {
  return sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=600', ...args]);
}

/** `-- VERB ovs0 NAME …` for every name, for one ovs-vsctl transaction. */
const perPort = (
  names: string[],
  verb: 'add-port' | 'del-port',
  extra: (name: string) => string[] = () => [],
): string[] => names.flatMap((n) => ['--', verb, BRIDGE, n, ...extra(n)]);

/** Delete host-side links in one batch: put them in a link group, delete the group. */
function deleteHostLinks(ovs: OvsInstance, names: string[], group: number): void {
  ipBatch([...names.map((n) => `link set ${n} group ${group}`), `link del group ${group}`], { netns: ovs.netns });
}

/** Guest namespaces 0 … n-1, each with IPv6 disabled, in one `ip -batch`. */
function createGuests(n: number): void {
  const sysctl = 'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1';
  ipBatch(
    Array.from({ length: n }, (_, i) => [`netns add ${guestName(i)}`, `netns exec ${guestName(i)} ${sysctl}`]).flat(),
  );
}

function deleteGuests(n: number): void {
  try {
    ipBatch(
      Array.from({ length: n }, (_, i) => `netns del ${guestName(i)}`),
      { force: true },
    );
  } catch {
    /* the ones that were never created */
  }
}

/** Run `fn(i)` for i in [0, n) with at most `c` in flight; per-call latencies in ms. */
async function pool(n: number, c: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const lat: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = nowMs();
        await fn(i);
        lat[i] = nowMs() - t0;
      }
    }),
  );
  return lat;
}

/** Rates from timed rounds of `n` attaches and `n` detaches. */
function rates(n: number, concurrency: number, attach: Phase[], detach: Phase[]): Rates {
  const ms = (ps: Phase[]) => ps.map((p) => round(p.ms, 1));
  const perSec = (ps: Phase[]) =>
    round(
      (n * 1000) /
        percentile(
          ps.map((p) => p.ms),
          50,
        ),
      1,
    );
  const cpuPerOp = (ps: Phase[]) =>
    round(
      percentile(
        ps.map((p) => p.vswitchdCpuMs),
        50,
      ) / n,
      2,
    );
  return {
    containers: n,
    concurrency,
    attachPerSec: perSec(attach),
    detachPerSec: perSec(detach),
    attachMs: ms(attach),
    detachMs: ms(detach),
    vswitchdCpuMsPerAttach: cpuPerOp(attach),
    vswitchdCpuMsPerDetach: cpuPerOp(detach),
  };
}

/** CPU time (user + system) ovs-vswitchd has used so far, ms: /proc/PID/stat, in clock ticks of 10 ms. */
function vswitchdCpuMs(ovs: OvsInstance): number {
  const pid = readFileSync(join(ovs.dir, 'vswitchd.pid'), 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Time `fn`, and count ovs-vswitchd's CPU meanwhile. */
async function phase(ovs: OvsInstance, fn: () => Promise<unknown> | undefined): Promise<Phase> {
  const cpu0 = vswitchdCpuMs(ovs);
  const t0 = nowMs();
  await fn();
  return { ms: nowMs() - t0, vswitchdCpuMs: vswitchdCpuMs(ovs) - cpu0 };
}

// ---------------------------------------------------------------- the done-criterion

/** An attach of ours is done only with the port's ofport (the guest side is checked by checkAttached). */
async function attachDone(engine: ChurnEngine, s: Slot): Promise<void> {
  const r = await engine.attach(s);
  if (!(typeof r.ofport === 'number' && r.ofport > 0))
    throw new Error(`attach of ${s.ifname} in ${guestName(s.guest)} returned without an ofport: ${JSON.stringify(r)}`);
}

/** The guest's interface is up with its address (asynchronous: the library's event loop is being watched). */
async function checkGuest(s: Slot): Promise<void> {
  const { stdout } = await run(['ip', '-json', '-n', guestName(s.guest), 'addr', 'show', 'dev', s.ifname], process.env);
  const links = JSON.parse(stdout) as {
    flags: string[];
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  const l = links[0];
  if (
    !l?.flags.includes('UP') ||
    !l.addr_info.some((a) => a.family === 'inet' && `${a.local}/${a.prefixlen}` === address(s))
  ) {
    throw new Error(`${s.ifname} in ${guestName(s.guest)} is not up with ${address(s)}: ${stdout}`);
  }
}

/** Up to 16 slots spread evenly over `all`: their guests are checked. */
async function checkGuests(all: Slot[]): Promise<void> {
  const k = Math.min(16, all.length);
  for (let j = 0; j < k; j++) await checkGuest(all[Math.floor((j * all.length) / k)] as Slot);
}

async function portCount(ovs: OvsInstance): Promise<number> {
  // Asynchronous, so the check does not stall the event loop whose lag is being measured.
  return (await ovs.vsctl(['list-ports', BRIDGE])).split('\n').filter(Boolean).length;
}

/** After "attach all", outside the timing: one port per attachment, sampled guests up with their address. */
async function checkAttached(ovs: OvsInstance, all: Slot[]): Promise<void> {
  const ports = await portCount(ovs);
  if (ports !== all.length) throw new Error(`expected ${all.length} ports after attach, found ${ports}`);
  await checkGuests(all);
}

/** Every port without a type (a veth) has an ofport: ovs-vswitchd opened them all. */
function waitOfports(ovs: OvsInstance, n: number): void {
  for (;;) {
    const ofports = vsctl(ovs, ['--bare', '--columns=ofport', 'find', 'interface', 'type=""'])
      .split('\n')
      .filter(Boolean)
      .map(Number);
    if (ofports.length >= n && ofports.every((o) => o > 0)) return;
  }
}

// ---------------------------------------------------------------- the churn, for every engine

interface ChurnOptions {
  slots: Slot[];
  concurrency: number;
  rounds: number;
  /** Wraps each timed phase (the library's is watched for child processes). */
  watch?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Called in the last round with every attachment in place (memory is read there). */
  atPeak?: () => void | Promise<void>;
}

/** Attach every slot, check, detach every slot, check; `rounds` times. */
async function churn(engine: ChurnEngine, ovs: OvsInstance, o: ChurnOptions): Promise<Rates> {
  const watch = o.watch ?? (<T>(fn: () => Promise<T>) => fn());
  const n = o.slots.length;
  const attach: Phase[] = [];
  const detach: Phase[] = [];
  for (let r = 0; r < o.rounds; r++) {
    attach.push(
      await phase(ovs, () => watch(() => pool(n, o.concurrency, (k) => attachDone(engine, o.slots[k] as Slot)))),
    );
    await checkAttached(ovs, o.slots);
    if (r === o.rounds - 1) await o.atPeak?.();
    detach.push(await phase(ovs, () => watch(() => pool(n, o.concurrency, (k) => engine.detach(o.slots[k] as Slot)))));
    if ((await portCount(ovs)) !== 0) throw new Error('ports left after detach');
  }
  return rates(n, o.concurrency, attach, detach);
}

/** One small untimed churn first, so that no method's figures include its start (connections, caches, compilation). */
async function warmUp(engine: ChurnEngine, ovs: OvsInstance): Promise<void> {
  await churn(engine, ovs, { slots: slots(Math.min(N, 16)), concurrency: 16, rounds: 1 });
}

/** The library direct, or through the daemon: both take an AttachSpec and a DetachRequest. */
function apiEngine(api: {
  attach(spec: AttachSpec): Promise<{ ofport?: number }>;
  detach(req: DetachRequest): Promise<unknown>;
}): ChurnEngine {
  return { attach: (s) => api.attach(spec(s)), detach: (s) => api.detach(detachRequest(s)) };
}

/** Run argv to completion; its stdout, or an error with its output when it fails. */
function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`${argv.join(' ')} exited ${code}: ${stdout}${stderr}`)),
    );
  });
}

/** `netplumb attach|detach --json` as a cold process on the emulated host; `env` points it at the daemon. */
function cliEngine(ovs: OvsInstance, env: NodeJS.ProcessEnv): ChurnEngine {
  const netplumb = async (args: string[]) =>
    JSON.parse((await run(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, ...args, '--json'], env)).stdout) as {
      ofport?: number;
    };
  const target = (s: Slot) => ['--container', `netns:${guestName(s.guest)}`, '--ifname', s.ifname];
  return {
    attach: (s) => netplumb(['attach', '--bridge', BRIDGE, ...target(s), '--ip', address(s), '--vlan', String(VLAN)]),
    detach: (s) => netplumb(['detach', ...target(s)]),
  };
}

// ---------------------------------------------------------------- ours: library direct

interface LibraryFigures {
  library: Rates;
  libraryC64: Rates;
  childProcesses: number;
  eventLoopLag: LoopFigures;
  rssMbAtN: number;
  attachLatencyMs: Record<string, Summary>;
  portsScaling: { ports10: Summary; ports2000: Summary; p99Ratio: number };
  ovsApplyFloorMs: { ports10: Summary; ports2000: Summary; note: string };
}

/**
 * Attach latency of `n` guests at concurrency `c`, in a steady state: each worker detaches
 * what it attached (untimed) before its next attach, so the bridge holds at most `c` of ours
 * besides what was there. (Attaching all `n` first would time a bridge growing by `n` ports,
 * and ovs-vswitchd's apply cost grows with the ports on the bridge: see the 2000-port figures.)
 */
async function attachLatency(engine: ChurnEngine, n: number, c: number): Promise<Summary> {
  const all = slots(n);
  return steadyLatency(
    n,
    c,
    (k) => attachDone(engine, all[k] as Slot),
    (k) => engine.detach(all[k] as Slot),
  );
}

/** Latency of `timed(i)` for i in [0, n), `c` at once, each undone (`undo(i)`, untimed) before its worker's next call. */
async function steadyLatency(
  n: number,
  c: number,
  timed: (i: number) => Promise<unknown>,
  undo: (i: number) => Promise<unknown>,
): Promise<Summary> {
  const lat: number[] = [];
  await pool(n, c, async (i) => {
    const t0 = nowMs();
    await timed(i);
    lat.push(nowMs() - t0);
    await undo(i);
  });
  return summary(lat);
}

/**
 * The "port applied" wait with no netplumb engine around it: one OVSDB transaction adding a
 * ready-made veth, waiting for ovs-vswitchd's ofport, sequentially (each port deleted,
 * untimed, before the next): the part of every attach that ovs-vswitchd owns.
 */
async function ovsApplyFloor(ovs: OvsInstance, vs: Vswitch): Promise<Summary> {
  const names = Array.from({ length: 50 }, (_, i) => `af${i}`);
  ipBatch(
    names.map((n, i) => `link add ${n} up type veth peer name ag${i}`),
    { netns: ovs.netns },
  );
  const lat = await steadyLatency(
    names.length,
    1,
    (i) => vs.addPort(BRIDGE, { name: names[i] as string, tag: VLAN }, { wait: 60_000 }),
    (i) => vs.delPort([names[i] as string], { wait: 60_000 }),
  );
  deleteHostLinks(ovs, names, 4243);
  return lat;
}

/** Attach latency (and the OVS apply floor) with `k` other ports on the bridge. */
async function withPorts(
  ovs: OvsInstance,
  vs: Vswitch,
  engine: ChurnEngine,
  k: number,
): Promise<{ ours: Summary; floor: Summary }> {
  const fill = Array.from({ length: k }, (_, i) => `fill${i}`);
  vsctl(
    ovs,
    perPort(fill, 'add-port', (n) => ['--', 'set', 'interface', n, 'type=internal']),
  );
  try {
    const floor = await ovsApplyFloor(ovs, vs);
    return { ours: await attachLatency(engine, Math.min(N, LATENCY_N), 1), floor };
  } finally {
    vsctl(ovs, perPort(fill, 'del-port'));
  }
}

async function measureLibrary(ovs: OvsInstance): Promise<LibraryFigures> {
  const plumber = Plumber.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns } });
  const engine = apiEngine(plumber);
  try {
    let spawns = 0;
    const watch = async <T>(fn: () => Promise<T>): Promise<T> => {
      const r = await countSpawns(fn);
      spawns += r.spawns;
      return r.result;
    };
    let rssMbAtN = NaN;
    await warmUp(engine, ovs);
    step('library direct');
    const loop = watchLoop();
    const library = await churn(engine, ovs, {
      slots: slots(N),
      concurrency: N,
      rounds: ROUNDS,
      watch,
      atPeak: () => {
        rssMbAtN = process.memoryUsage().rss / 2 ** 20;
      },
    });
    const libraryC64 = await churn(engine, ovs, { slots: slots(N), concurrency: 64, rounds: ROUNDS, watch });
    const eventLoopLag = loop.stop();

    step('attach latency');
    const attachLatencyMs: Record<string, Summary> = {};
    for (const c of CONCURRENCY)
      attachLatencyMs[`c${c}`] = await attachLatency(engine, Math.min(N, c === 1 ? LATENCY_N : c * 10), c);

    step('10 vs 2000 ports');
    const vs = await Vswitch.connect({ remote: ovs.remote });
    try {
      const p10 = await withPorts(ovs, vs, engine, 10);
      const p2000 = await withPorts(ovs, vs, engine, 2000);
      return {
        library,
        libraryC64,
        childProcesses: spawns,
        eventLoopLag,
        rssMbAtN: round(rssMbAtN, 1),
        attachLatencyMs,
        portsScaling: { ports10: p10.ours, ports2000: p2000.ours, p99Ratio: round(p2000.ours.p99 / p10.ours.p99, 2) },
        ovsApplyFloorMs: {
          ports10: p10.floor,
          ports2000: p2000.floor,
          note: 'one add-port transaction of a ready veth + wait for ofport, sequential: the part of every attach that ovs-vswitchd owns',
        },
      };
    } finally {
      await vs.close();
    }
  } finally {
    await plumber.close();
  }
}

// ---------------------------------------------------------------- ours: through the daemon

interface DaemonFigures {
  daemonClient: Rates;
  cli: Rates;
  childProcesses: number;
  rssMbAtN: number;
  at2000: {
    attachments: number;
    guests: number;
    vmRssMb: number;
    vmHwmMb: number;
    idleVmRssMb: number;
    attachPerSec: number;
    detachPerSec: number;
  };
}

/** One CLI attach with debug logging, outside the timing: it must say it went through the daemon. */
async function checkCliUsesDaemon(ovs: OvsInstance, env: NodeJS.ProcessEnv): Promise<void> {
  const s: Slot = { guest: 0, ifname: 'eth1' };
  const { stderr } = await run(
    [
      'ip',
      'netns',
      'exec',
      ovs.netns,
      NETPLUMB,
      'attach',
      '--bridge',
      BRIDGE,
      '--container',
      `netns:${guestName(0)}`,
      '--ip',
      address(s),
      '--vlan',
      String(VLAN),
    ],
    { ...env, NETPLUMB_LOG: 'debug' },
  );
  await run(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, 'detach', '--container', `netns:${guestName(0)}`], env);
  if (!stderr.includes('"via":"daemon"')) throw new Error(`netplumb attach did not use the daemon: ${stderr}`);
}

/** A running `netplumb serve`: its socket, its pid (from its identity), the environment that points the CLI at it. */
interface ServeContext {
  socket: string;
  pid: number;
  env: NodeJS.ProcessEnv;
}

/**
 * `netplumb serve` on the emulated host for the length of `fn`; stopped also when `fn`
 * fails, and then what it wrote to stderr is part of the error.
 */
async function withDaemon<T>(ovs: OvsInstance, dir: string, fn: (d: ServeContext) => Promise<T>): Promise<T> {
  const socket = join(dir, 'netplumb.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: ovs.dir };
  delete env.NETPLUMB_LOG;
  let daemon: DaemonProcess | undefined;
  try {
    daemon = await startDaemon(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, 'serve', '--socket', socket], env, socket);
    const pid = await withClient(socket, async (c) => (await c.version()).pid);
    if (!readlinkSync(`/proc/${pid}/exe`).includes('node')) throw new Error(`daemon pid ${pid} is not a node process`);
    return await fn({ socket, pid, env: { ...env, NETPLUMB_SOCKET: socket } });
  } catch (e) {
    const c = daemon?.child;
    throw c && (c.exitCode !== null || c.signalCode !== null)
      ? new Error(`netplumb serve ended (${c.exitCode ?? c.signalCode}): ${daemon?.stderr()}`, { cause: e })
      : e;
  } finally {
    await stopDaemon(daemon);
  }
}

/** A DaemonClient for the length of `fn` (the daemon closes connections that stay silent, so one a phase). */
async function withClient<T>(socket: string, fn: (c: DaemonClient) => Promise<T>): Promise<T> {
  const client = await DaemonClient.connect(socket);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function measureDaemon(ovs: OvsInstance, dir: string): Promise<DaemonFigures> {
  const churns = await withDaemon(ovs, dir, async (d) => {
    await checkCliUsesDaemon(ovs, d.env);
    const children = watchChildren(d.pid);
    try {
      const figures = await daemonChurns(ovs, d);
      return { ...figures, childProcesses: children.stop().length };
    } finally {
      children.stop();
    }
  });
  step(`daemon memory with ${2 * RSS_GUESTS} attachments (a fresh daemon)`);
  return { ...churns, at2000: await withDaemon(ovs, dir, (d) => daemonMemory(ovs, d)) };
}

/** The daemon's churns: through a client and through the CLI. */
async function daemonChurns(
  ovs: OvsInstance,
  d: ServeContext,
): Promise<Omit<DaemonFigures, 'childProcesses' | 'at2000'>> {
  let rssMbAtN = NaN;
  step('library through the daemon');
  const daemonClient = await withClient(d.socket, async (c) => {
    await warmUp(apiEngine(c), ovs);
    return churn(apiEngine(c), ovs, {
      slots: slots(N),
      concurrency: Math.min(N, DEFAULT_MAX_CONCURRENT),
      rounds: ROUNDS,
      atPeak: () => {
        rssMbAtN = procStatusMb(d.pid, 'VmRSS');
      },
    });
  });
  step('CLI through the daemon');
  const cli = await churn(cliEngine(ovs, d.env), ovs, {
    slots: slots(CLI_N),
    concurrency: CLI_CONCURRENCY,
    rounds: ROUNDS,
  });
  return { daemonClient, cli, rssMbAtN: round(rssMbAtN, 1) };
}

/** How long the bench holds the attachments with no request, so that the daemon's idle trim (memory.ts) has run. */
const IDLE_PAUSE_MS = 3000;

/**
 * A daemon that did nothing else holds 2 × RSS_GUESTS attachments: its resident memory once
 * they are all attached (and its peak), then again after a pause with no request.
 */
async function daemonMemory(ovs: OvsInstance, d: ServeContext): Promise<DaemonFigures['at2000']> {
  const mem = { vmRssMb: NaN, vmHwmMb: NaN, idleVmRssMb: NaN };
  const many = twoEach(RSS_GUESTS);
  const held = await withClient(d.socket, (c) =>
    churn(apiEngine(c), ovs, {
      // Memory is the figure here: at concurrency 64, so that no one batch of ports keeps ovs-vswitchd
      // reconfiguring past the engine's apply timeout on a loaded machine (seen at 256 with 2000 veths).
      slots: many,
      concurrency: 64,
      rounds: 1,
      atPeak: async () => {
        Object.assign(mem, {
          vmRssMb: round(procStatusMb(d.pid, 'VmRSS'), 1),
          vmHwmMb: round(procStatusMb(d.pid, 'VmHWM'), 1),
        });
        await new Promise((r) => setTimeout(r, IDLE_PAUSE_MS));
        mem.idleVmRssMb = round(procStatusMb(d.pid, 'VmRSS'), 1);
      },
    }),
  );
  return {
    attachments: many.length,
    guests: RSS_GUESTS,
    ...mem,
    attachPerSec: held.attachPerSec,
    detachPerSec: held.detachPerSec,
  };
}

// ---------------------------------------------------------------- the floors

/**
 * One floor run: one `ip -batch` creating veth fI with its peer eth1 in guest I (live: each
 * guest end then addressed and brought up by an `ip -batch` of its own inside the guest) +
 * one ovs-vsctl transaction adding every port, in `order`, until every port has an ofport;
 * then one transaction deleting every port and one batch deleting every veth.
 */
async function floorOnce(
  ovs: OvsInstance,
  n: number,
  order: Order,
  liveFiles: string[] | undefined,
): Promise<{ attach: Phase; detach: Phase }> {
  const names = Array.from({ length: n }, (_, i) => `f${i}`);
  const veths = () =>
    ipBatch(
      [
        ...names.map((f, i) => `link add ${f} up type veth peer name eth1 netns ${guestName(i)}`),
        ...(liveFiles ?? []).map((file, i) => `netns exec ${guestName(i)} ip -batch ${file}`),
      ],
      { netns: ovs.netns },
    );
  const ports = () =>
    vsctl(
      ovs,
      perPort(names, 'add-port', () => [`tag=${VLAN}`]),
    );
  const attach = await phase(ovs, () => {
    if (order === 'kernelFirst') {
      veths();
      ports();
    } else {
      ports();
      veths();
    }
    waitOfports(ovs, n);
  });
  if (liveFiles) await checkGuests(slots(n));
  const detach = await phase(ovs, () => {
    vsctl(ovs, perPort(names, 'del-port'));
    deleteHostLinks(ovs, names, 4242);
  });
  return { attach, detach };
}

/** Both orders, ROUNDS rounds each; `live` gives each guest end its address and brings it up. */
async function measureFloor(ovs: OvsInstance, dir: string, live: boolean): Promise<FloorRates> {
  const liveFiles = live
    ? slots(N).map((s) => {
        const file = join(dir, `live-${s.guest}`);
        writeFileSync(file, `addr add ${address(s)} dev eth1\nlink set eth1 up\n`);
        return file;
      })
    : undefined;
  const byOrder = async (order: Order): Promise<Rates> => {
    const runs: { attach: Phase; detach: Phase }[] = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await floorOnce(ovs, N, order, liveFiles));
    return rates(
      N,
      N,
      runs.map((r) => r.attach),
      runs.map((r) => r.detach),
    );
  };
  const kernelFirst = await byOrder('kernelFirst');
  const ovsFirst = await byOrder('ovsFirst');
  const best = {
    attachPerSec: Math.max(kernelFirst.attachPerSec, ovsFirst.attachPerSec),
    detachPerSec: Math.max(kernelFirst.detachPerSec, ovsFirst.detachPerSec),
  };
  return { kernelFirst, ovsFirst, best };
}

// ---------------------------------------------------------------- (a) the pipework sequence

/** A process in each of the first `n` guests: pipework finds a container's namespace by such a pid. */
async function holders(n: number): Promise<ChildProcess[]> {
  const ps = Array.from({ length: n }, (_, i) =>
    spawn('ip', ['netns', 'exec', guestName(i), 'sleep', '600'], { stdio: 'ignore' }),
  );
  await new Promise((r) => setTimeout(r, 300));
  return ps;
}

async function measurePipework(
  ovs: OvsInstance,
): Promise<{ containers: number; attachPerSec: number; detachPerSec: number }> {
  const script = join(ROOT, 'bench', 'baseline', 'pipework-ovs.sh');
  const sleepers = await holders(BASELINE_N);
  try {
    const attachMs = await timeIt(async () => {
      for (const [i, p] of sleepers.entries())
        sh([
          'ip',
          'netns',
          'exec',
          ovs.netns,
          'sh',
          script,
          BRIDGE,
          String(p.pid),
          address({ guest: i, ifname: 'eth1' }),
          String(VLAN),
          ovs.remote,
        ]);
    });
    const hostVeths = (
      JSON.parse(sh(['ip', '-json', '-n', ovs.netns, 'link', 'show', 'type', 'veth'])) as { ifname: string }[]
    ).map((l) => l.ifname);
    const detachMs = await timeIt(async () => {
      for (const name of hostVeths) {
        sh(['ovs-vsctl', `--db=${ovs.remote}`, 'del-port', BRIDGE, name]);
        sh(['ip', '-n', ovs.netns, 'link', 'del', name]);
      }
    });
    return {
      containers: BASELINE_N,
      attachPerSec: round((BASELINE_N * 1000) / attachMs, 2),
      detachPerSec: round((BASELINE_N * 1000) / detachMs, 2),
    };
  } finally {
    for (const p of sleepers) p.kill('SIGKILL');
    // pipework's own netns links (/var/run/netns/<NSPID>), should a failed run have left any.
    for (const p of sleepers) if (p.pid !== undefined) rmSync(`/var/run/netns/${p.pid}`, { force: true });
  }
}

// ---------------------------------------------------------------- report

interface Throughput {
  attachPerSec: number;
  detachPerSec: number;
}

/** A method's throughput against both floors (best order) and pipework. */
function ratios(r: Throughput, floor: FloorRates, floorLive: FloorRates, pipework: Throughput) {
  const x = (a: number, b: number, digits = 2) => round(a / b, digits);
  return {
    attachVsFloor: x(r.attachPerSec, floor.best.attachPerSec),
    detachVsFloor: x(r.detachPerSec, floor.best.detachPerSec),
    attachVsFloorLive: x(r.attachPerSec, floorLive.best.attachPerSec),
    detachVsFloorLive: x(r.detachPerSec, floorLive.best.detachPerSec),
    attachVsPipework: x(r.attachPerSec, pipework.attachPerSec, 1),
    detachVsPipework: x(r.detachPerSec, pipework.detachPerSec, 1),
  };
}
type Ratios = ReturnType<typeof ratios>;

/** The throughput targets: ≥ 0.5× the floor and ≥ 25× pipework, attach and detach separately. */
const throughputMet = (q: Ratios) => ({
  attachVsFloor: q.attachVsFloor >= 0.5,
  detachVsFloor: q.detachVsFloor >= 0.5,
  attachVsPipework: q.attachVsPipework >= 25,
  detachVsPipework: q.detachVsPipework >= 25,
});

function targets(lib: LibraryFigures, daemon: DaemonFigures, q: Record<'library' | 'daemonClient', Ratios>) {
  const c1 = lib.attachLatencyMs.c1 as Summary;
  const c64 = lib.attachLatencyMs.c64 as Summary;
  return {
    throughputLibrary: throughputMet(q.library),
    throughputDaemonClient: throughputMet(q.daemonClient),
    latencyC1: c1.p50 <= 3 && c1.p99 <= 10,
    latencyC64: c64.p99 <= 50,
    ports2000vs10: lib.portsScaling.p99Ratio <= 1.5,
    eventLoopLag: lib.eventLoopLag.p99Ms <= 5,
    daemonRss2000: daemon.at2000.vmRssMb <= 100,
    noChildProcesses: lib.childProcesses === 0 && daemon.childProcesses === 0,
  };
}

function printTables(f: {
  lib: LibraryFigures;
  daemon: DaemonFigures;
  floor: FloorRates;
  floorLive: FloorRates;
  pipework: Throughput & { containers: number };
  q: Record<string, Ratios>;
}): void {
  const row = (
    label: string,
    r: Throughput & {
      containers: number;
      concurrency?: number;
      vswitchdCpuMsPerAttach?: number;
      vswitchdCpuMsPerDetach?: number;
    },
    q?: Ratios,
  ): (string | number)[] => [
    label,
    r.containers,
    r.concurrency ?? 1,
    r.attachPerSec,
    r.detachPerSec,
    r.vswitchdCpuMsPerAttach !== undefined ? `${r.vswitchdCpuMsPerAttach} / ${r.vswitchdCpuMsPerDetach}` : '',
    q ? `${q.attachVsFloor} / ${q.detachVsFloor}` : '',
    q ? `${q.attachVsFloorLive} / ${q.detachVsFloorLive}` : '',
    q ? `${q.attachVsPipework} / ${q.detachVsPipework}` : '',
  ];
  printTable(
    [
      'method',
      'containers',
      'concurrency',
      'attach/s',
      'detach/s',
      'vswitchd CPU ms (a / d)',
      '× floor (a / d)',
      '× floor live (a / d)',
      '× pipework (a / d)',
    ],
    [
      row('netplumb library, direct', f.lib.library, f.q.library),
      row('netplumb library, direct', f.lib.libraryC64, f.q.libraryC64),
      row('netplumb library through the daemon', f.daemon.daemonClient, f.q.daemonClient),
      row('netplumb CLI through the daemon', f.daemon.cli, f.q.cli),
      row('floor: ip -batch + 1 ovs-vsctl (kernel first)', f.floor.kernelFirst),
      row('floor: 1 ovs-vsctl + ip -batch (ovs first)', f.floor.ovsFirst),
      row('floor live: guest ends addressed + up (kernel first)', f.floorLive.kernelFirst),
      row('floor live: guest ends addressed + up (ovs first)', f.floorLive.ovsFirst),
      row('pipework sequence per container', f.pipework),
    ],
  );
  process.stdout.write('\n');
  const lat = (label: string, s: Summary): (string | number)[] => [label, s.p50, s.p99, s.max];
  printTable(
    ['attach latency, library direct (ms)', 'p50', 'p99', 'max'],
    [
      ...CONCURRENCY.map((c) => lat(`concurrency ${c}`, f.lib.attachLatencyMs[`c${c}`] as Summary)),
      lat('10 ports on the bridge', f.lib.portsScaling.ports10),
      lat('2000 ports on the bridge', f.lib.portsScaling.ports2000),
      lat('floor: port applied by ovs-vswitchd, 10 ports', f.lib.ovsApplyFloorMs.ports10),
      lat('floor: port applied by ovs-vswitchd, 2000 ports', f.lib.ovsApplyFloorMs.ports2000),
    ],
  );
  const d = f.daemon.at2000;
  process.stdout.write(
    `\nguests: ${GUESTS}\n` +
      `event-loop lag during the library churn: p99 ${f.lib.eventLoopLag.p99Ms} ms, max ${f.lib.eventLoopLag.maxMs} ms; of ${f.lib.eventLoopLag.wallMs} ms, the main thread ran ${f.lib.eventLoopLag.runMs} ms, waited for a CPU ${f.lib.eventLoopLag.cpuWaitMs} ms, and paused for GC ${f.lib.eventLoopLag.gcPauseMs} ms (longest ${f.lib.eventLoopLag.gcMaxMs} ms)\n` +
      `child processes: ${f.lib.childProcesses} started by the library, ${f.daemon.childProcesses} by the daemon\n` +
      `RSS with ${N} attachments: library process ${f.lib.rssMbAtN} MB, daemon ${f.daemon.rssMbAtN} MB\n` +
      `a fresh daemon with ${d.attachments} attachments (${d.guests} guests × eth1, eth2): VmRSS ${d.vmRssMb} MB (peak ${d.vmHwmMb} MB), ${d.idleVmRssMb} MB after ${IDLE_PAUSE_MS / 1000} s idle; ${d.attachPerSec} attaches/s, ${d.detachPerSec} detaches/s\n`,
  );
}

function chart(f: {
  lib: LibraryFigures;
  daemon: DaemonFigures;
  floor: FloorRates;
  floorLive: FloorRates;
  pipework: Throughput;
}): string {
  const bars = (k: keyof Throughput) => [
    { label: 'library', value: f.lib.library[k] },
    { label: 'library c=64', value: f.lib.libraryC64[k] },
    { label: 'daemon', value: f.daemon.daemonClient[k] },
    { label: 'CLI', value: f.daemon.cli[k] },
    { label: 'floor', value: f.floor.best[k] },
    { label: 'floor live', value: f.floorLive.best[k] },
    { label: 'pipework', value: f.pipework[k] },
  ];
  const lat = (q: 'p50' | 'p99' | 'max') => ({
    name: q,
    values: CONCURRENCY.map((c) => (f.lib.attachLatencyMs[`c${c}`] as Summary)[q]),
  });
  return svgDocument([
    barChart(`attach throughput, ${N} containers`, 'attaches per second', bars('attachPerSec')),
    barChart(`detach throughput, ${N} containers`, 'detaches per second', bars('detachPerSec')),
    lineChart(
      'attach latency vs concurrency (library direct)',
      'ms',
      CONCURRENCY.map((c) => `c=${c}`),
      [lat('p50'), lat('p99'), lat('max')],
    ),
  ]);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const ovs = await startOvs({ withVswitchd: true });
  const dir = mkdtempSync(join(tmpdir(), 'np-churn-'));
  const guests = Math.max(N, CLI_N, RSS_GUESTS, BASELINE_N);
  let figures: Record<string, unknown>;
  try {
    await ovs.addBridge(BRIDGE);
    step(`creating ${guests} guests`);
    createGuests(guests);
    const lib = await measureLibrary(ovs);
    const daemon = await measureDaemon(ovs, dir);
    step('floor');
    const floor = await measureFloor(ovs, dir, false);
    step('floor (live)');
    const floorLive = await measureFloor(ovs, dir, true);
    step('pipework sequence');
    const pipework = await measurePipework(ovs);
    step('done');
    const q = {
      library: ratios(lib.library, floor, floorLive, pipework),
      libraryC64: ratios(lib.libraryC64, floor, floorLive, pipework),
      daemonClient: ratios(daemon.daemonClient, floor, floorLive, pipework),
      cli: ratios(daemon.cli, floor, floorLive, pipework),
    };
    const met = targets(lib, daemon, q);
    printTables({ lib, daemon, floor, floorLive, pipework, q });

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const files = { json: `bench/results/churn-${stamp}.json`, svg: `bench/results/churn-${stamp}.svg` };
    figures = {
      bench: 'churn',
      containers: N,
      rounds: ROUNDS,
      guests: GUESTS,
      methods: {
        library: lib.library,
        libraryC64: lib.libraryC64,
        daemonClient: daemon.daemonClient,
        cliViaDaemon: daemon.cli,
      },
      floor: { ...floor, note: 'veths (peer in its namespace, down, no address) + ports: a floor below the real work' },
      floorLive: {
        ...floorLive,
        note: 'the floor plus each guest end addressed and up (one ip -batch per guest, inside it): the same done-criterion as ours',
      },
      baselinePipework: pipework,
      ratios: q,
      attachLatencyMs: lib.attachLatencyMs,
      portsScaling: lib.portsScaling,
      ovsApplyFloorMs: lib.ovsApplyFloorMs,
      eventLoopLagMs: lib.eventLoopLag,
      childProcesses: { library: lib.childProcesses, daemon: daemon.childProcesses },
      rssMb: { libraryAtN: lib.rssMbAtN, daemonAtN: daemon.rssMbAtN, daemonAt2000: daemon.at2000 },
      targets: met,
      allTargetsMet: Object.values(met).every((v) => (typeof v === 'boolean' ? v : Object.values(v).every(Boolean))),
      files,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, files.json), `${JSON.stringify(figures, null, 2)}\n`);
    writeFileSync(join(ROOT, files.svg), chart({ lib, daemon, floor, floorLive, pipework }));
  } finally {
    deleteGuests(guests);
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench churn failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
