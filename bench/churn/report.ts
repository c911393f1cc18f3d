/**
 * The churn's report: every method against the floors and pipework, the targets, the
 * tables on stdout, the figures as one JSON object, and the SVG chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printTable, round } from '../lib/stats.js';
import { barChart, lineChart, svgDocument } from '../lib/svg.js';
import { CONCURRENCY, GUESTS, N, ROOT, ROUNDS, type Summary } from './bed.js';
import type { FloorRates } from './floors.js';
import { IDLE_PAUSE_MS, type DaemonFigures } from './ours-daemon.js';
import type { LibraryFigures } from './ours-library.js';

/** Where a run's JSON and SVG go, relative to the repository. */
const RESULTS = 'bench/results';

/** Every figure the churn measured, by whom. */
export interface Measured {
  lib: LibraryFigures;
  daemon: DaemonFigures;
  floor: FloorRates;
  floorLive: FloorRates;
  pipework: Throughput & { containers: number };
}

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

/**
 * The report of a run: the tables on stdout, the figures (with the ratios and the target
 * checks) written to RESULTS/churn-<date>.json beside the chart RESULTS/churn-<date>.svg;
 * returns the figures, for the last line of the output.
 */
export function report(m: Measured): Record<string, unknown> {
  const { lib, daemon, floor, floorLive, pipework } = m;
  const q = {
    library: ratios(lib.library, floor, floorLive, pipework),
    libraryC64: ratios(lib.libraryC64, floor, floorLive, pipework),
    daemonClient: ratios(daemon.daemonClient, floor, floorLive, pipework),
    cli: ratios(daemon.cli, floor, floorLive, pipework),
  };
  const met = targets(lib, daemon, q);
  printTables({ ...m, q });

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const files = { json: `${RESULTS}/churn-${stamp}.json`, svg: `${RESULTS}/churn-${stamp}.svg` };
  const figures = {
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
  mkdirSync(join(ROOT, RESULTS), { recursive: true });
  writeFileSync(join(ROOT, files.json), `${JSON.stringify(figures, null, 2)}\n`);
  writeFileSync(join(ROOT, files.svg), chart(m));
  return figures;
}
