/**
 * `npm run bench -- churn`: attach/detach throughput and latency under churn, side by side
 * in one run with
 *   (a) the `ip` + `ovs-vsctl` sequence pipework runs per container (bench/baseline/), and
 *   (b) the kernel/OVS floor: one `ip -batch` creating every veth with its peer in its
 *       namespace + one `ovs-vsctl` transaction adding every port (and the reverse).
 * Ours: the library, direct (and through the daemon when one is available in this build).
 * An attach counts as done when the guest's interface is up with its address and
 * ovs-vswitchd has assigned the port an ofport.
 *
 * Writes bench/results/<date>.json and an SVG chart; prints a table and, last, one JSON line.
 * Everything happens inside namespaces the benchmark creates (an emulated host running a
 * private Open vSwitch, and one namespace per container).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Plumber } from '../src/plumb/plumber.js';
import { Vswitch } from '../src/ovsdb/index.js';
import type { AttachSpec } from '../src/plumb/spec.js';
import { startOvs } from '../test/helpers/ovs.js';
import { countSpawns, nowMs, percentile, printTable, round, summary } from './lib/stats.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';

const N = Number(process.env.NETPLUMB_CHURN_N ?? 1000);
const ROUNDS = Number(process.env.NETPLUMB_CHURN_ROUNDS ?? 3);
const BASELINE_N = Number(process.env.NETPLUMB_CHURN_BASELINE_N ?? 60);
const CONCURRENCY = [1, 16, 64];
const ROOT = join(__dirname, '..', '..');

interface Engine {
  attach(spec: AttachSpec): Promise<unknown>;
  detach(req: { guest: AttachSpec['guest'] }): Promise<unknown>;
}

function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0] as string, argv.slice(1), { input, stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 }).toString();
}

/** Run `fn(i)` for i in [0, n) with at most `c` in flight; per-call latencies in ms. */
async function pool(n: number, c: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const lat: number[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(c, n) }, async () => {
    for (let i = next++; i < n; i = next++) {
      const t0 = nowMs();
      await fn(i);
      lat[i] = nowMs() - t0;
    }
  }));
  return lat;
}

const guestName = (i: number) => `np-ch${process.pid}-${i}`;
const spec = (i: number): AttachSpec => ({
  host: 'ovs0', guest: { netns: guestName(i) }, vlan: 100,
  ip: { kind: 'static', address: `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) || 1}/8` },
});

async function main(): Promise<void> {
  const ovs = await startOvs({ withVswitchd: true });
  const dir = mkdtempSync(join(tmpdir(), 'np-churn-'));
  const sleepers: ChildProcess[] = [];
  const figures: Record<string, unknown> = { bench: 'churn', containers: N, rounds: ROUNDS };
  try {
    await ovs.addBridge('ovs0');
    const batch = (lines: string[]) => { writeFileSync(join(dir, 'b'), lines.join('\n') + '\n'); sh(['ip', '-batch', join(dir, 'b')]); };
    batch(Array.from({ length: N }, (_, i) => `netns add ${guestName(i)}`));
    const hostIp = (lines: string[]) => { writeFileSync(join(dir, 'h'), lines.join('\n') + '\n'); sh(['ip', '-n', ovs.netns, '-batch', join(dir, 'h')]); };
    // Asynchronous, so the check does not stall the event loop whose lag is being measured.
    const ports = async () => (await ovs.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).length;

    // ---- ours: the library, direct.
    const plumber = Plumber.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns } });
    const lag = monitorEventLoopDelay({ resolution: 1 });
    let spawns = 0;
    /** Only the engine's calls are watched for child processes (the checks below use ovs-vsctl). */
    const watched = async (fn: () => Promise<unknown>) => { spawns += (await countSpawns(fn)).spawns; };
    const churn = async (engine: Engine) => {
      const attach: number[] = [];
      const detach: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let t0 = nowMs();
        await watched(() => pool(N, 64, (i) => engine.attach(spec(i))));
        attach.push(nowMs() - t0);
        if ((await ports()) !== N) throw new Error(`expected ${N} ports after attach`);
        t0 = nowMs();
        await watched(() => pool(N, 64, (i) => engine.detach({ guest: spec(i).guest })));
        detach.push(nowMs() - t0);
        if ((await ports()) !== 0) throw new Error('ports left after detach');
      }
      return { attachPerSec: round((N * 1000) / percentile(attach, 50), 1), detachPerSec: round((N * 1000) / percentile(detach, 50), 1), attachMs: attach.map((x) => round(x, 1)), detachMs: detach.map((x) => round(x, 1)) };
    };
    lag.enable();
    const lib = { result: await churn(plumber) };
    lag.disable();
    figures.library = { ...lib.result, childProcesses: spawns, eventLoopLagP99Ms: round(lag.percentile(99) / 1e6), eventLoopLagMaxMs: round(lag.max / 1e6) };

    // ---- latency at concurrency 1, 16, 64 (attach; detach between, untimed).
    const latency: Record<string, ReturnType<typeof summary>> = {};
    for (const c of CONCURRENCY) {
      const n = Math.min(N, c === 1 ? 200 : c * 10);
      latency[`c${c}`] = summary(await pool(n, c, (i) => plumber.attach(spec(i))));
      await pool(n, 64, (i) => plumber.detach({ guest: spec(i).guest }));
    }
    figures.attachLatencyMs = latency;

    // ---- attach latency with 10 vs 2000 ports already on the bridge (concurrency 1).
    const fill = (k: number) => sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=300', ...Array.from({ length: k }, (_, i) => ['--', 'add-port', 'ovs0', `fill${i}`, '--', 'set', 'interface', `fill${i}`, 'type=internal']).flat()]);
    const scaled: Record<string, ReturnType<typeof summary>> = {};
    // Where the time goes: the same "port applied" wait with no netplumb engine around it —
    // one OVSDB transaction adding a ready-made veth, waiting for ovs-vswitchd's ofport.
    const vs = await Vswitch.connect({ remote: ovs.remote });
    const applyFloor = async () => {
      const k = 50;
      hostIp(Array.from({ length: k }, (_, i) => `link add af${i} up type veth peer name ag${i}`));
      const lat = await pool(k, 1, (i) => vs.addPort('ovs0', { name: `af${i}`, tag: 100 }, { wait: 60_000 }));
      await vs.delPort(Array.from({ length: k }, (_, i) => `af${i}`));
      hostIp([...Array.from({ length: k }, (_, i) => `link set af${i} group 4243`), 'link del group 4243']);
      return summary(lat);
    };
    const floorLatency: Record<string, ReturnType<typeof summary>> = {};
    for (const [label, k] of [['ports10', 10], ['ports2000', 2000]] as const) {
      fill(k);
      floorLatency[label] = await applyFloor();
      scaled[label] = summary(await pool(Math.min(N, 200), 1, (i) => plumber.attach(spec(i))));
      await pool(Math.min(N, 200), 64, (i) => plumber.detach({ guest: spec(i).guest }));
      sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=300', ...Array.from({ length: k }, (_, i) => ['--', 'del-port', 'ovs0', `fill${i}`]).flat()]);
    }
    await vs.close();
    figures.portsScaling = { ...scaled, p99Ratio: round(scaled.ports2000!.p99 / scaled.ports10!.p99, 2) };
    figures.ovsApplyFloorMs = { ...floorLatency, note: 'one add-port transaction of a ready veth + wait for ofport, sequential: the part of every attach that ovs-vswitchd owns' };

    // ---- RSS with N attachments held.
    await pool(N, 64, (i) => plumber.attach(spec(i)));
    (globalThis as { gc?: () => void }).gc?.();
    figures.libraryRssMbAtN = round(process.memoryUsage().rss / 2 ** 20, 1);
    await pool(N, 64, (i) => plumber.detach({ guest: spec(i).guest }));
    await plumber.close();

    // ---- (b) the floor: one ip -batch + one ovs-vsctl transaction, both orders measured.
    const floor = (order: 'kernel-first' | 'ovs-first') => {
      const veths = () => hostIp(Array.from({ length: N }, (_, i) => `link add f${i} up type veth peer name eth1 netns ${guestName(i)}`));
      const addPorts = () => sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=600', ...Array.from({ length: N }, (_, i) => ['--', 'add-port', 'ovs0', `f${i}`, 'tag=100']).flat()]);
      let t0 = nowMs();
      if (order === 'kernel-first') { veths(); addPorts(); } else { addPorts(); veths(); }
      // Done when every port has an ofport (ovs-vswitchd opened it).
      for (;;) {
        const ofports = sh(['ovs-vsctl', `--db=${ovs.remote}`, '--bare', '--columns=ofport', 'find', 'interface', 'type=""']).split('\n').filter(Boolean).map(Number);
        if (ofports.length >= N && ofports.every((o) => o > 0)) break;
      }
      const attach = nowMs() - t0;
      t0 = nowMs();
      sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=600', ...Array.from({ length: N }, (_, i) => ['--', 'del-port', 'ovs0', `f${i}`]).flat()]);
      hostIp([...Array.from({ length: N }, (_, i) => `link set f${i} group 4242`), 'link del group 4242']);
      const detach = nowMs() - t0;
      return { attachPerSec: round((N * 1000) / attach, 1), detachPerSec: round((N * 1000) / detach, 1) };
    };
    const floors = { kernelFirst: floor('kernel-first'), ovsFirst: floor('ovs-first') };
    const bestFloor = {
      attachPerSec: Math.max(floors.kernelFirst.attachPerSec, floors.ovsFirst.attachPerSec),
      detachPerSec: Math.max(floors.kernelFirst.detachPerSec, floors.ovsFirst.detachPerSec),
    };
    figures.floor = { ...floors, best: bestFloor, note: 'veths (peer in its namespace) + ports, without guest addresses: a floor below the real work' };

    // ---- (a) the pipework sequence, per container (a process in each namespace gives NSPID).
    const baseline = join(ROOT, 'bench', 'baseline', 'pipework-ovs.sh');
    const pids: number[] = [];
    // (sleepers is declared outside the try so the finally block can reap them)
    for (let i = 0; i < BASELINE_N; i++) {
      const p = spawn('ip', ['netns', 'exec', guestName(i), 'sleep', '600'], { stdio: 'ignore' });
      sleepers.push(p);
      pids.push(p.pid as number);
    }
    await new Promise((r) => setTimeout(r, 300));
    let t0 = nowMs();
    for (let i = 0; i < BASELINE_N; i++) {
      sh(['ip', 'netns', 'exec', ovs.netns, 'sh', baseline, 'ovs0', String(pids[i]), `10.1.0.${i + 1}/16`, '100', ovs.remote]);
    }
    const aAttach = nowMs() - t0;
    const hostVeths = () => (JSON.parse(sh(['ip', '-json', '-n', ovs.netns, 'link', 'show', 'type', 'veth'])) as { ifname: string }[]).map((l) => l.ifname);
    const names = hostVeths();
    t0 = nowMs();
    for (const n of names) {
      sh(['ovs-vsctl', `--db=${ovs.remote}`, 'del-port', 'ovs0', n]);
      sh(['ip', '-n', ovs.netns, 'link', 'del', n]);
    }
    const aDetach = nowMs() - t0;
    figures.baselinePipework = { containers: BASELINE_N, attachPerSec: round((BASELINE_N * 1000) / aAttach, 2), detachPerSec: round((BASELINE_N * 1000) / aDetach, 2) };

    const libR = figures.library as { attachPerSec: number; detachPerSec: number };
    const base = figures.baselinePipework as { attachPerSec: number; detachPerSec: number };
    figures.ratios = {
      attachVsFloor: round(libR.attachPerSec / bestFloor.attachPerSec, 2),
      detachVsFloor: round(libR.detachPerSec / bestFloor.detachPerSec, 2),
      attachVsPipework: round(libR.attachPerSec / base.attachPerSec, 1),
      detachVsPipework: round(libR.detachPerSec / base.detachPerSec, 1),
    };

    printTable(['method', 'attach/s', 'detach/s'], [
      ['netplumb library (c=64)', libR.attachPerSec, libR.detachPerSec],
      ['floor: ip -batch + 1 ovs-vsctl (kernel first)', floors.kernelFirst.attachPerSec, floors.kernelFirst.detachPerSec],
      ['floor: 1 ovs-vsctl + ip -batch (ovs first)', floors.ovsFirst.attachPerSec, floors.ovsFirst.detachPerSec],
      ['pipework sequence per container', base.attachPerSec, base.detachPerSec],
    ]);
    process.stdout.write('\n');
    printTable(['attach latency (ms)', 'p50', 'p99', 'max'], [
      ...CONCURRENCY.map((c) => [`concurrency ${c}`, latency[`c${c}`]!.p50, latency[`c${c}`]!.p99, latency[`c${c}`]!.max]),
      ['10 ports on the bridge', scaled.ports10!.p50, scaled.ports10!.p99, scaled.ports10!.max],
      ['2000 ports on the bridge', scaled.ports2000!.p50, scaled.ports2000!.p99, scaled.ports2000!.max],
      ['floor: port applied by ovs-vswitchd, 10 ports', floorLatency.ports10!.p50, floorLatency.ports10!.p99, floorLatency.ports10!.max],
      ['floor: port applied by ovs-vswitchd, 2000 ports', floorLatency.ports2000!.p50, floorLatency.ports2000!.p99, floorLatency.ports2000!.max],
    ]);
    const lib2 = figures.library as { eventLoopLagP99Ms: number; childProcesses: number };
    process.stdout.write(`\nevent-loop lag p99 during churn: ${lib2.eventLoopLagP99Ms} ms; child processes spawned by the library: ${lib2.childProcesses}; RSS with ${N} attachments: ${String(figures.libraryRssMbAtN)} MB\n`);

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `churn-${stamp}.json`), `${JSON.stringify(figures, null, 2)}\n`);
    writeFileSync(join(out, `churn-${stamp}.svg`), svgDocument([
      barChart(`attach throughput, ${N} containers`, 'attaches per second', [
        { label: 'netplumb', value: libR.attachPerSec }, { label: 'floor', value: bestFloor.attachPerSec }, { label: 'pipework', value: base.attachPerSec },
      ]),
      lineChart('attach latency vs concurrency', 'ms', CONCURRENCY.map((c) => `c=${c}`), [
        { name: 'p50', values: CONCURRENCY.map((c) => latency[`c${c}`]!.p50) },
        { name: 'p99', values: CONCURRENCY.map((c) => latency[`c${c}`]!.p99) },
        { name: 'max', values: CONCURRENCY.map((c) => latency[`c${c}`]!.max) },
      ]),
    ]));
    figures.files = { json: `bench/results/churn-${stamp}.json`, svg: `bench/results/churn-${stamp}.svg` };
  } finally {
    for (const p of sleepers) p.kill('SIGKILL');
    try {
      const lines = Array.from({ length: N }, (_, i) => `netns del ${guestName(i)}`);
      writeFileSync(join(dir, 'd'), lines.join('\n') + '\n');
      execFileSync('ip', ['-force', '-batch', join(dir, 'd')], { stdio: 'ignore' });
    } catch {
      /* reported by the leak check of whoever runs next */
    }
    // pipework's own netns symlinks (/var/run/netns/<NSPID>), should a run have left any.
    for (const p of sleepers) if (p.pid !== undefined) rmSync(`/var/run/netns/${p.pid}`, { force: true });
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench churn failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
