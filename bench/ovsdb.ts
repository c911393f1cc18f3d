/**
 * OVSDB client benchmark against private OVS instances (test bed helper), ovs-vsctl
 * measured side by side in the same run:
 *  (a) N port add+delete, one port per transaction — ours vs one ovs-vsctl process per
 *      add-port and per del-port (ovs-vsctl waits for ovs-vswitchd by default):
 *      - pipelined (headline): all N add transactions in flight at once (and with a bounded
 *        concurrency), each waiting for its own next_cfg to be reached by cur_cfg and for
 *        its interface's ofport; then all deletes likewise;
 *      - sequential, with and without the wait;
 *      - on internal ports and on veth-backed (system) ports; the veths are created with
 *        `ip -n <ns> -batch` outside the timed part, and the same veths serve both clients.
 *      The result is checked through ovs-vsctl (every ofport assigned, nothing left).
 *  (b) N ports added (then deleted) in one transaction — ours vs one ovs-vsctl call;
 *  (c) round trip of a cheap transaction (set one port's external_ids) on a bridge with 10
 *      and one with 2000 ports: two OVS instances measured in interleaved blocks (the
 *      machine's background load hits both alike), ≥ 1000 samples per series after a
 *      warm-up, at three layers — the verb, our client's transact with the same op, and a
 *      raw transact over a plain unix socket (no netplumb code) — with CPU time per
 *      transaction of our process, ovsdb-server and ovs-vswitchd, and the samples that
 *      overlapped a GC; without wait (ovs-vswitchd running, then stopped) and with wait;
 *  (d) client RSS with a 2000-port cache.
 * Prints a table, then the figures as one JSON object on the last line of stdout.
 * Run: node --expose-gc dist/bench/ovsdb.js [ports=500] [sections=abcd]
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { map, set, uuid } from '../src/ovsdb/notation.js';
import { eq, mutate, type Operation } from '../src/ovsdb/ops.js';
import { Vswitch } from '../src/ovsdb/vswitch.js';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Run `fn` over `items` with at most `concurrency` calls in flight. */
async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function ipBatch(netns: string, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['-n', netns, '-batch', '-'], (err, _out, stderr) =>
      err ? reject(new Error(`ip -batch: ${stderr || err.message}`)) : resolve(),
    );
    child.stdin!.end(`${lines.join('\n')}\n`);
  });
}

// ------------------------------------------------------------------ (a) one port per transaction

type PortKind = 'internal' | 'veth';
const WAIT_MS = 120_000;
const typeOf = (kind: PortKind): string => (kind === 'internal' ? 'internal' : '');
const vsctlAdd = (name: string, kind: PortKind): string[] => [
  'add-port',
  'ovs0',
  name,
  ...(kind === 'internal' ? ['--', 'set', 'Interface', name, 'type=internal'] : []),
];

/** Oracle (not timed): through ovs-vsctl, every port in `ports` has an ofport ≥ 1, or none is left. */
async function verify(ovs: OvsInstance, ports: string[], present: boolean): Promise<void> {
  const out = JSON.parse(await ovs.vsctl(['--format=json', '--columns=name,ofport', 'list', 'Interface'])) as {
    data: [string, unknown][];
  };
  const ofports = new Map(out.data.map(([name, ofport]) => [name, ofport]));
  const bad = ports.filter((p) =>
    present ? !(typeof ofports.get(p) === 'number' && (ofports.get(p) as number) >= 1) : ofports.has(p),
  );
  if (bad.length > 0)
    throw new Error(
      `bench check failed: ${bad.length} ports ${present ? 'without an ofport' : 'still present'} (${bad.slice(0, 5).join(', ')}…)`,
    );
}

/** Ours, pipelined: every add in flight (bounded by `concurrency`), each with its own wait; then every delete. */
async function pipelined(ovs: OvsInstance, vs: Vswitch, ports: string[], kind: PortKind, concurrency: number) {
  const add = await timed(() =>
    pool(ports, concurrency, async (name) => {
      const r = await vs.addPort('ovs0', { name, type: typeOf(kind) }, { wait: WAIT_MS });
      if (!(r.ofport !== undefined && r.ofport >= 1)) throw new Error(`port ${name} has no ofport after the wait`);
    }),
  );
  await verify(ovs, ports, true);
  const del = await timed(() => pool(ports, concurrency, (name) => vs.delPort(name, { wait: WAIT_MS })));
  await verify(ovs, ports, false);
  return {
    kind,
    ports: ports.length,
    concurrency,
    addMsPerPort: round(add / ports.length),
    delMsPerPort: round(del / ports.length),
    msPerPort: round((add + del) / ports.length),
  };
}

/** Ours, one transaction after the other. */
async function sequential(ovs: OvsInstance, vs: Vswitch, ports: string[], kind: PortKind, wait: boolean) {
  const t = await timed(async () => {
    for (const name of ports) {
      await vs.addPort('ovs0', { name, type: typeOf(kind) }, { wait: wait ? WAIT_MS : false });
      await vs.delPort(name, { wait: wait ? WAIT_MS : false });
    }
  });
  await verify(ovs, ports, false);
  return { kind, ports: ports.length, wait, msPerPort: round(t / ports.length) };
}

/** One ovs-vsctl process per add-port and per del-port. */
async function vsctlOneByOne(ovs: OvsInstance, ports: string[], kind: PortKind, wait: boolean) {
  const noWait = wait ? [] : ['--no-wait'];
  const t = await timed(async () => {
    for (const name of ports) {
      await ovs.vsctl([...noWait, ...vsctlAdd(name, kind)]);
      await ovs.vsctl([...noWait, 'del-port', 'ovs0', name]);
    }
  });
  await verify(ovs, ports, false);
  return { kind, ports: ports.length, wait, msPerPort: round(t / ports.length) };
}

async function oneTransactionPerPort(ovs: OvsInstance, vs: Vswitch, n: number) {
  const internal = {
    pipelinedAll: await pipelined(ovs, vs, names('pa', n), 'internal', n),
    pipelined64: await pipelined(ovs, vs, names('pb', n), 'internal', 64),
    sequentialWait: await sequential(ovs, vs, names('a', n), 'internal', true),
    sequentialNoWait: await sequential(ovs, vs, names('an', n), 'internal', false),
    vsctlWait: await vsctlOneByOne(ovs, names('v', n), 'internal', true),
    vsctlNoWait: await vsctlOneByOne(ovs, names('vn', n), 'internal', false),
  };
  // veth-backed ports: n pairs live in the OVS namespace through all veth variants, so that
  // ours and ovs-vsctl run with the same devices around (ovs-vswitchd's pass grows with them).
  const veths = names('ve', n);
  await ipBatch(
    ovs.netns,
    veths.map((v) => `link add ${v} type veth peer name ${v}p`),
  );
  const seqSample = veths.slice(0, Math.min(n, 100));
  const veth = {
    pipelinedAll: await pipelined(ovs, vs, veths, 'veth', n),
    pipelined64: await pipelined(ovs, vs, veths, 'veth', 64),
    sequentialWait: await sequential(ovs, vs, seqSample, 'veth', true),
    sequentialNoWait: await sequential(ovs, vs, seqSample, 'veth', false),
    vsctlWait: await vsctlOneByOne(ovs, seqSample, 'veth', true),
  };
  await ipBatch(
    ovs.netns,
    veths.map((v) => `link del ${v}`),
  );
  return { internal, veth };
}

// ------------------------------------------------------------------ (b) N ports in one transaction

async function batched(ovs: OvsInstance, vs: Vswitch, n: number) {
  const ourNames = names('b', n);
  const oursAdd = await timed(() =>
    vs.addPorts(
      'ovs0',
      ourNames.map((name) => ({ name, type: 'internal' })),
      { wait: WAIT_MS },
    ),
  );
  const oursDel = await timed(() => vs.delPort(ourNames, { wait: WAIT_MS }));
  const theirNames = names('w', n);
  const vsctlAdd = await timed(() =>
    ovs.vsctl([
      '--timeout=120',
      ...theirNames.flatMap((name) => [
        '--',
        'add-port',
        'ovs0',
        name,
        '--',
        'set',
        'Interface',
        name,
        'type=internal',
      ]),
    ]),
  );
  const vsctlDel = await timed(() =>
    ovs.vsctl(['--timeout=120', ...theirNames.flatMap((name) => ['--', 'del-port', 'ovs0', name])]),
  );
  return {
    ports: n,
    oursAddMsPerPort: round(oursAdd / n),
    vsctlAddMsPerPort: round(vsctlAdd / n),
    oursDelMsPerPort: round(oursDel / n),
    vsctlDelMsPerPort: round(vsctlDel / n),
  };
}

// ------------------------------------------------------------------ (c) round trips

/** A plain unix-socket OVSDB session, no netplumb code: write the request, wait for a whole reply. */
class RawSession {
  private buf = '';
  private waiting: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private nextId = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.onData(text));
  }

  static open(remote: string): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ path: remote.replace(/^unix:/, '') });
      s.once('error', reject);
      s.once('connect', () => resolve(new RawSession(s)));
    });
  }

  /** Send `transact` with these ops (serialised like our client does) and wait for its reply. */
  transact(database: string, ops: readonly Operation[]): Promise<void> {
    const text = JSON.stringify({ id: this.nextId++, method: 'transact', params: [database, ...ops] });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(text);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(text: string): void {
    this.buf += text;
    let msg: {
      id: unknown;
      method?: string;
      params?: unknown;
      result?: { count?: number; error?: string }[];
      error?: unknown;
    };
    try {
      msg = JSON.parse(this.buf);
    } catch {
      return; // incomplete: only one request is ever outstanding
    }
    this.buf = '';
    if (msg.method === 'echo') {
      this.socket.write(JSON.stringify({ id: msg.id, result: msg.params, error: null }));
      return;
    }
    const w = this.waiting;
    this.waiting = null;
    if (msg.error !== null || msg.result?.[0]?.count !== 1)
      w?.reject(new Error(`raw transact failed: ${JSON.stringify(msg).slice(0, 200)}`));
    else w?.resolve();
  }
}

/**
 * CPU time (ms) of each thread of a process, at ns resolution (/proc/PID/task/TID/schedstat;
 * /proc/PID/stat only counts 10 ms ticks). A thread that ends between two readings is left
 * out of the difference (cpuDelta), so short-lived threads are under-counted, never negative.
 */
function threadCpuMs(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

function cpuDelta(before: Map<string, number>, after: Map<string, number>): number {
  let ms = 0;
  for (const [tid, t] of after) {
    const t0 = before.get(tid);
    if (t0 !== undefined) ms += t - t0;
  }
  return ms;
}

const clientCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Target {
  label: string;
  ovs: OvsInstance;
  vs: Vswitch;
  raw: RawSession;
  /** The exact ops setPortExternalIds('rt0', …) sends. */
  ops: (i: number) => Operation[];
  vswitchdPid: () => number | undefined;
}

async function target(label: string, ovs: OvsInstance, vs: Vswitch): Promise<Target> {
  const port = await vs.getPort('rt0');
  if (!port) throw new Error(`bench: port rt0 missing on ${label}`);
  const ops = (i: number): Operation[] => [
    mutate(
      'Port',
      [eq('_uuid', uuid(port.uuid)), eq('name', 'rt0')],
      [
        ['external_ids', 'delete', set(['bench.seq'])],
        ['external_ids', 'insert', map({ 'bench.seq': String(i) })],
      ],
    ),
  ];
  const vswitchdPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(ovs.dir, 'vswitchd.pid'), 'utf8').trim());
      return ovs.alivePids().includes(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  return { label, ovs, vs, raw: await RawSession.open(ovs.remote), ops, vswitchdPid };
}

type Layer = 'verb' | 'transact' | 'raw';
const LAYERS: Layer[] = ['verb', 'transact', 'raw'];

function call(t: Target, layer: Layer, i: number, wait = false): Promise<unknown> {
  switch (layer) {
    case 'verb':
      return t.vs.setPortExternalIds('rt0', { 'bench.seq': String(i) }, { wait });
    case 'transact':
      return t.vs.client.transact(t.ops(i));
    case 'raw':
      return t.raw.transact('Open_vSwitch', t.ops(i));
  }
}

/** Samples ([start, duration] ms) and CPU ms spent by our process, ovsdb-server and ovs-vswitchd while they were taken. */
class Series {
  readonly samples: [number, number][] = [];
  cpu = { client: 0, db: 0, vswitchd: 0 };

  async run(t: Target, n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
    const vsd = t.vswitchdPid();
    const c0 = [clientCpuMs(), threadCpuMs(t.ovs.dbPid()), threadCpuMs(vsd)] as const;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn(i);
      this.samples.push([t0, performance.now() - t0]);
    }
    this.cpu.client += clientCpuMs() - c0[0];
    this.cpu.db += cpuDelta(c0[1], threadCpuMs(t.ovs.dbPid()));
    this.cpu.vswitchd += cpuDelta(c0[2], threadCpuMs(vsd));
  }

  summary(gcs: [number, number][]) {
    const d = this.samples.map((s) => s[1]).sort((a, b) => a - b);
    const overlapsGc = (s: [number, number]): boolean => gcs.some(([g0, g1]) => g0 < s[0] + s[1] && g1 > s[0]);
    const noGc = this.samples
      .filter((s) => !overlapsGc(s))
      .map((s) => s[1])
      .sort((a, b) => a - b);
    const perTxn = (ms: number): number => round((ms * 1000) / d.length, 1);
    return {
      n: d.length,
      p50: round(percentile(d, 50)),
      p90: round(percentile(d, 90)),
      p99: round(percentile(d, 99)),
      p999: round(percentile(d, 99.9)),
      max: round(d.at(-1)!),
      gcOverlapped: d.length - noGc.length,
      p99WithoutGc: round(percentile(noGc, 99)),
      cpuUsPerTxn: {
        client: perTxn(this.cpu.client),
        ovsdbServer: perTxn(this.cpu.db),
        ovsVswitchd: perTxn(this.cpu.vswitchd),
      },
    };
  }
}

/**
 * Every (target × layer) series, in interleaved blocks of `block` calls after a warm-up;
 * the order of the blocks rotates from one round to the next, so that no series always
 * runs right after the same other one.
 */
async function interleaved(targets: Target[], layers: Layer[], blocks: number, block: number, warmup: number) {
  const series = new Map<string, Series>();
  const pairs: [Target, Layer][] = targets.flatMap((t) => layers.map((l): [Target, Layer] => [t, l]));
  for (const [t, l] of pairs) {
    for (let i = 0; i < warmup; i++) await call(t, l, i);
    series.set(`${t.label}/${l}`, new Series());
  }
  let seq = 0;
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? pairs : [...pairs].reverse();
    const k = Math.floor(b / 2) % order.length;
    for (const [t, l] of [...order.slice(k), ...order.slice(0, k)])
      await series.get(`${t.label}/${l}`)!.run(t, block, () => call(t, l, seq++));
  }
  return series;
}

function collectGcs(): { stop: () => Promise<[number, number][]> } {
  const gcs: [number, number][] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: async () => {
      await new Promise((r) => setImmediate(r));
      for (const e of obs.takeRecords()) gcs.push([e.startTime, e.startTime + e.duration]);
      obs.disconnect();
      return gcs;
    },
  };
}

/**
 * Wait until the monitor has been quiet for `quietMs` (ovs-vswitchd writes link states,
 * ofports… for a while after ports were added), at most `maxMs`.
 */
async function settle(vs: Vswitch, quietMs = 1000, maxMs = 30_000): Promise<void> {
  const end = performance.now() + maxMs;
  let last = performance.now();
  const onApplied = (): void => {
    last = performance.now();
  };
  vs.client.cache.on('applied', onApplied);
  try {
    while (performance.now() - last < quietMs && performance.now() < end) await new Promise((r) => setTimeout(r, 100));
  } finally {
    vs.client.cache.off('applied', onApplied);
  }
}

/** The same change through one ovs-vsctl process each time (reference: it reads the tables it needs on every run). */
async function vsctlSet(t: Target, iterations: number, wait: boolean) {
  const d: number[] = [];
  for (let i = 0; i < iterations; i++)
    d.push(
      await timed(() =>
        t.ovs.vsctl([...(wait ? [] : ['--no-wait']), 'set', 'Port', 'rt0', `external_ids:bench.seq=vsctl${i}`]),
      ),
    );
  d.sort((x, y) => x - y);
  return { n: d.length, p50: round(percentile(d, 50)), max: round(d.at(-1)!) };
}

async function roundTrips(
  small: Target,
  big: Target,
  opts: { blocks: number; block: number; warmup: number; waitIterations: [number, number]; vsctlIterations: number },
) {
  await settle(small.vs);
  await settle(big.vs);
  const gc = collectGcs();
  const targets = [small, big];
  const noWait = await interleaved(targets, LAYERS, opts.blocks, opts.block, opts.warmup);
  const wait = new Map<string, Series>();
  for (const [t, n] of [
    [small, opts.waitIterations[0]],
    [big, opts.waitIterations[1]],
  ] as const) {
    for (let i = 0; i < 20; i++) await call(t, 'verb', i, true);
    const s = new Series();
    await s.run(t, n, (i) => call(t, 'verb', i, true));
    wait.set(`${t.label}/verb`, s);
  }
  const vsctl: Record<string, unknown> = {};
  for (const t of targets) {
    vsctl[`${t.label}/noWait`] = await vsctlSet(t, opts.vsctlIterations, false);
    vsctl[`${t.label}/wait`] = await vsctlSet(t, opts.vsctlIterations, true);
  }
  await small.ovs.stopVswitchd();
  await big.ovs.stopVswitchd();
  const isolated = await interleaved(targets, LAYERS, opts.blocks, opts.block, opts.warmup);
  const gcs = await gc.stop();
  const sum = (m: Map<string, Series>) => Object.fromEntries([...m].map(([k, s]) => [k, s.summary(gcs)]));
  return {
    noWait: sum(noWait),
    wait: sum(wait),
    noWaitVswitchdStopped: sum(isolated),
    vsctlSet: vsctl as Record<string, Awaited<ReturnType<typeof vsctlSet>>>,
    gcCount: gcs.length,
    gcMs: round(
      gcs.reduce((a, [s, e]) => a + e - s, 0),
      1,
    ),
  };
}

// ------------------------------------------------------------------ main

export async function main(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const n = Number(argv[0] ?? 500);
  const sections = argv[1] ?? 'abcd';
  const started = performance.now();
  const ovs = await startOvs({ withVswitchd: true });
  let small: OvsInstance | undefined;
  const clients: Vswitch[] = [];
  const raws: RawSession[] = [];
  try {
    await ovs.addBridge('ovs0');
    const vs = await Vswitch.connect({ remote: ovs.remote, requestTimeoutMs: 180_000 });
    clients.push(vs);
    const a = sections.includes('a') ? await oneTransactionPerPort(ovs, vs, n) : undefined;
    const b = sections.includes('b') ? await batched(ovs, vs, n) : undefined;

    // (c) the same OVS grown to 2000 ports, and a second private OVS with 10.
    await vs.addPorts(
      'ovs0',
      names('rt', 2000).map((name) => ({ name, type: 'internal' })),
      { wait: 300_000 },
    );
    small = await startOvs({ withVswitchd: true });
    await small.addBridge('ovs0');
    const vsSmall = await Vswitch.connect({ remote: small.remote, requestTimeoutMs: 60_000 });
    clients.push(vsSmall);
    await vsSmall.addPorts(
      'ovs0',
      names('rt', 10).map((name) => ({ name, type: 'internal' })),
      { wait: 60_000 },
    );
    const t10 = await target('10', small, vsSmall);
    const t2000 = await target('2000', ovs, vs);
    raws.push(t10.raw, t2000.raw);
    const c = await roundTrips(t10, t2000, {
      blocks: 50,
      block: 100,
      warmup: 300,
      waitIterations: [300, 60],
      vsctlIterations: 20,
    });
    for (const r of raws.splice(0)) r.close();
    for (const cl of clients.splice(0)) await cl.close();

    // (d) a fresh client whose cache holds the 2000-port bridge.
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const vsMem = await Vswitch.connect({ remote: ovs.remote, requestTimeoutMs: 60_000 });
    clients.push(vsMem);
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const d = {
      ports: vsMem.client.cache.size('Port'),
      rssMB: round(mem.rss / 2 ** 20, 1),
      rssDeltaMB: round((mem.rss - rssBefore) / 2 ** 20, 1),
      heapUsedMB: round(mem.heapUsed / 2 ** 20, 1),
    };

    report(n, a, b, c, d, round((performance.now() - started) / 1000, 1));
    const figures = {
      bench: 'ovsdb',
      oneTransactionPerPort: a,
      batched: b,
      roundTrip: c,
      memory: d,
      seconds: round((performance.now() - started) / 1000, 1),
    };
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    for (const r of raws) r.close();
    for (const cl of clients) await cl.close();
    await small?.stop();
    await ovs.stop();
  }
}

type A = Awaited<ReturnType<typeof oneTransactionPerPort>>;
type B = Awaited<ReturnType<typeof batched>>;
type C = Awaited<ReturnType<typeof roundTrips>>;

function report(n: number, a: A | undefined, b: B | undefined, c: C, d: Record<string, number>, seconds: number): void {
  const rows: [string, string, string][] = [];
  const x = (theirs: number, ours: number): string => `${round(theirs / ours, 1)}×`;
  for (const kind of a ? (['internal', 'veth'] as const) : []) {
    if (!a) break;
    const r = a[kind];
    const base = r.vsctlWait.msPerPort;
    const vs = `ovs-vsctl/port ${base} ms${r.vsctlWait.ports !== n ? ` (${r.vsctlWait.ports} ports)` : ''}`;
    rows.push([
      `(a) ${kind}: ${n} pipelined, all in flight, wait`,
      `${r.pipelinedAll.msPerPort} ms/port (add ${r.pipelinedAll.addMsPerPort} + del ${r.pipelinedAll.delMsPerPort})`,
      `${x(base, r.pipelinedAll.msPerPort)} vs ${vs}`,
    ]);
    rows.push([
      `(a) ${kind}: ${n} pipelined, 64 in flight, wait`,
      `${r.pipelined64.msPerPort} ms/port (add ${r.pipelined64.addMsPerPort} + del ${r.pipelined64.delMsPerPort})`,
      `${x(base, r.pipelined64.msPerPort)} vs ${vs}`,
    ]);
    rows.push([
      `(a) ${kind}: ${r.sequentialWait.ports} sequential, wait`,
      `${r.sequentialWait.msPerPort} ms/port`,
      `${x(base, r.sequentialWait.msPerPort)} vs ${vs}`,
    ]);
    rows.push([
      `(a) ${kind}: ${r.sequentialNoWait.ports} sequential, no wait`,
      `${r.sequentialNoWait.msPerPort} ms/port`,
      `${x(base, r.sequentialNoWait.msPerPort)} vs ${vs}`,
    ]);
  }
  if (a)
    rows.push([
      `(a) internal: ovs-vsctl --no-wait, ${a.internal.vsctlNoWait.ports}`,
      `—`,
      `${a.internal.vsctlNoWait.msPerPort} ms/port; ours no wait ${x(a.internal.vsctlNoWait.msPerPort, a.internal.sequentialNoWait.msPerPort)} faster`,
    ]);
  if (b)
    rows.push([
      `(b) ${n} ports in 1 txn: add`,
      `${b.oursAddMsPerPort} ms/port`,
      `ovs-vsctl ${b.vsctlAddMsPerPort} ms/port`,
    ]);
  if (b)
    rows.push([
      `(b) ${n} ports in 1 txn: del`,
      `${b.oursDelMsPerPort} ms/port`,
      `ovs-vsctl ${b.vsctlDelMsPerPort} ms/port`,
    ]);
  const lat = (s: C['noWait'][string] | undefined): string =>
    s ? `p50 ${s.p50} / p99 ${s.p99} ms (n=${s.n}, gc ${s.gcOverlapped})` : '';
  const cpu = (s: C['noWait'][string] | undefined): string =>
    s
      ? `cpu µs/txn: us ${s.cpuUsPerTxn.client}, db ${s.cpuUsPerTxn.ovsdbServer}, vswitchd ${s.cpuUsPerTxn.ovsVswitchd}`
      : '';
  for (const [mode, m] of [
    ['no wait', c.noWait],
    ['no wait, vswitchd stopped', c.noWaitVswitchdStopped],
  ] as const) {
    for (const layer of LAYERS) {
      const s10 = m[`10/${layer}`];
      const s2000 = m[`2000/${layer}`];
      rows.push([`(c) ${layer}, ${mode}, 10 ports`, lat(s10), cpu(s10)]);
      rows.push([
        `(c) ${layer}, ${mode}, 2000 ports`,
        lat(s2000),
        `p99 ratio ${round(s2000!.p99 / s10!.p99, 2)}; p50 ratio ${round(s2000!.p50 / s10!.p50, 2)}; ${cpu(s2000)}`,
      ]);
    }
  }
  rows.push(['(c) verb, wait, 10 ports', lat(c.wait['10/verb']), cpu(c.wait['10/verb'])]);
  rows.push(['(c) verb, wait, 2000 ports', lat(c.wait['2000/verb']), cpu(c.wait['2000/verb'])]);
  for (const mode of ['noWait', 'wait'] as const) {
    const v10 = c.vsctlSet[`10/${mode}`]!;
    const v2000 = c.vsctlSet[`2000/${mode}`]!;
    rows.push([
      `(c) ovs-vsctl ${mode === 'wait' ? '' : '--no-wait '}set Port, 10 → 2000 ports`,
      '—',
      `p50 ${v10.p50} → ${v2000.p50} ms (n=${v10.n}; one process each)`,
    ]);
  }
  rows.push([
    '(d) client RSS, 2000-port cache',
    `${d.rssMB} MB (client +${d.rssDeltaMB} MB)`,
    `heap ${d.heapUsedMB} MB`,
  ]);
  rows.push(['run', `${seconds} s`, `${c.gcCount} GCs during (c), ${c.gcMs} ms`]);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(['benchmark'.padEnd(w[0]!), 'netplumb'.padEnd(w[1]!), 'ovs-vsctl / note'].join(' | '));
  for (const r of rows) console.log([r[0].padEnd(w[0]!), r[1].padEnd(w[1]!), r[2]].join(' | '));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
