/**
 * OVSDB client benchmark against one private OVS (test bed helper), ovs-vsctl measured
 * side by side in the same run:
 *  (a) N port add+delete, one port per transaction, waiting for ovs-vswitchd — ours vs
 *      one ovs-vsctl process per add-port and per del-port;
 *  (b) N ports added (then deleted) in one transaction — ours vs one ovs-vsctl call;
 *  (c) round-trip p50/p99 of a cheap transaction (set one port's external_ids) on a bridge
 *      with 10 and with 2000 ports, with and without the datapath wait;
 *  (d) client RSS with a 2000-port cache.
 * Prints a table, then the figures as one JSON object on the last line of stdout.
 * Run: node dist/bench/ovsdb.js [ports=500]
 */
import { performance } from 'node:perf_hooks';
import { Vswitch } from '../src/ovsdb/vswitch.js';
import { startOvs, type OvsInstance } from '../test/helpers/ovs.js';

const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function latencies(iterations: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) samples.push(await timed(() => fn(i)));
  samples.sort((a, b) => a - b);
  return ms({ p50: percentile(samples, 50), p99: percentile(samples, 99) });
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
const ms = (l: { p50: number; p99: number }) => ({ p50: round(l.p50), p99: round(l.p99) });

async function addDeleteOneByOne(ovs: OvsInstance, vs: Vswitch, n: number, wait: boolean) {
  const noWait = wait ? [] : ['--no-wait'];
  const ours = await timed(async () => {
    for (const name of names(wait ? 'a' : 'an', n)) {
      await vs.addPort('ovs0', { name, type: 'internal' }, { wait });
      await vs.delPort(name, { wait });
    }
  });
  const vsctl = await timed(async () => {
    for (const name of names(wait ? 'v' : 'vn', n)) {
      await ovs.vsctl([...noWait, 'add-port', 'ovs0', name, '--', 'set', 'Interface', name, 'type=internal']);
      await ovs.vsctl([...noWait, 'del-port', 'ovs0', name]);
    }
  });
  return { ports: n, wait, oursMsPerPort: round(ours / n), vsctlMsPerPort: round(vsctl / n), throughputRatio: round(vsctl / ours, 1) };
}

async function batched(ovs: OvsInstance, vs: Vswitch, n: number) {
  const ourNames = names('b', n);
  const oursAdd = await timed(() => vs.addPorts('ovs0', ourNames.map((name) => ({ name, type: 'internal' })), { wait: 120_000 }));
  const oursDel = await timed(() => vs.delPort(ourNames, { wait: 120_000 }));
  const theirNames = names('w', n);
  const vsctlAdd = await timed(() => ovs.vsctl(['--timeout=120', ...theirNames.flatMap((name) => ['--', 'add-port', 'ovs0', name, '--', 'set', 'Interface', name, 'type=internal'])]));
  const vsctlDel = await timed(() => ovs.vsctl(['--timeout=120', ...theirNames.flatMap((name) => ['--', 'del-port', 'ovs0', name])]));
  return {
    ports: n,
    oursAddMsPerPort: round(oursAdd / n), vsctlAddMsPerPort: round(vsctlAdd / n),
    oursDelMsPerPort: round(oursDel / n), vsctlDelMsPerPort: round(vsctlDel / n),
  };
}

/** set one port's external_ids: with the datapath wait, without, and without (ovs-vswitchd stopped: client + ovsdb-server only). */
async function roundTrips(ovs: OvsInstance, vs: Vswitch, iterations: number) {
  const set = (wait: boolean) => (i: number) => vs.setPortExternalIds('rt0', { 'bench.seq': String(i) }, { wait });
  const wait = await latencies(iterations, set(true));
  const noWait = await latencies(iterations, set(false));
  await ovs.stopVswitchd();
  const noWaitIsolated = await latencies(iterations, set(false));
  return { wait, noWait, noWaitIsolated };
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const n = Number(argv[0] ?? 500);
  const ovs = await startOvs({ withVswitchd: true });
  let vs: Vswitch | undefined;
  try {
    await ovs.addBridge('ovs0');
    vs = await Vswitch.connect({ remote: ovs.remote, requestTimeoutMs: 180_000 });
    const a = await addDeleteOneByOne(ovs, vs, n, true);
    const aNoWait = await addDeleteOneByOne(ovs, vs, n, false);
    const b = await batched(ovs, vs, n);

    await vs.addPorts('ovs0', names('rt', 10).map((name) => ({ name, type: 'internal' })), { wait: 60_000 });
    const c10 = await roundTrips(ovs, vs, 300);
    await ovs.startVswitchd();
    await vs.addPorts('ovs0', names('rt', 2000).slice(10).map((name) => ({ name, type: 'internal' })), { wait: 300_000 });
    const c2000 = await roundTrips(ovs, vs, 300);
    await vs.close();

    // (d) a fresh client whose cache holds the 2000-port bridge.
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    vs = await Vswitch.connect({ remote: ovs.remote, requestTimeoutMs: 60_000 });
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const d = { ports: vs.client.cache.size('Port'), rssMB: round(mem.rss / 2 ** 20, 1), rssDeltaMB: round((mem.rss - rssBefore) / 2 ** 20, 1), heapUsedMB: round(mem.heapUsed / 2 ** 20, 1) };

    const ratio = (k: keyof typeof c10): number => round(c2000[k].p99 / c10[k].p99, 2);
    const c = { ports10: c10, ports2000: c2000, p99Ratio2000over10: { noWaitIsolated: ratio('noWaitIsolated'), noWait: ratio('noWait'), wait: ratio('wait') } };
    const rows: [string, string, string][] = [
      [`(a) ${n}× add+del, 1 port/txn, wait`, `${a.oursMsPerPort} ms/port`, `${a.vsctlMsPerPort} ms/port (ratio ${a.throughputRatio}×)`],
      [`(a) ${n}× add+del, 1 port/txn, no wait`, `${aNoWait.oursMsPerPort} ms/port`, `${aNoWait.vsctlMsPerPort} ms/port (ratio ${aNoWait.throughputRatio}×)`],
      [`(b) ${n} ports in 1 txn: add`, `${b.oursAddMsPerPort} ms/port`, `${b.vsctlAddMsPerPort} ms/port`],
      [`(b) ${n} ports in 1 txn: del`, `${b.oursDelMsPerPort} ms/port`, `${b.vsctlDelMsPerPort} ms/port`],
      ['(c) set external_ids, 10 ports, no wait', `p50 ${round(c10.noWait.p50)} / p99 ${round(c10.noWait.p99)} ms`, ''],
      ['(c) set external_ids, 2000 ports, no wait', `p50 ${round(c2000.noWait.p50)} / p99 ${round(c2000.noWait.p99)} ms`, `p99 ratio ${c.p99Ratio2000over10.noWait}`],
      ['(c) same, ovs-vswitchd stopped, 10 ports', `p50 ${round(c10.noWaitIsolated.p50)} / p99 ${round(c10.noWaitIsolated.p99)} ms`, ''],
      ['(c) same, ovs-vswitchd stopped, 2000 ports', `p50 ${round(c2000.noWaitIsolated.p50)} / p99 ${round(c2000.noWaitIsolated.p99)} ms`, `p99 ratio ${c.p99Ratio2000over10.noWaitIsolated}`],
      ['(c) set external_ids, 10 ports, wait', `p50 ${round(c10.wait.p50)} / p99 ${round(c10.wait.p99)} ms`, ''],
      ['(c) set external_ids, 2000 ports, wait', `p50 ${round(c2000.wait.p50)} / p99 ${round(c2000.wait.p99)} ms`, `p99 ratio ${c.p99Ratio2000over10.wait}`],
      ['(d) client RSS, 2000-port cache', `${d.rssMB} MB (client +${d.rssDeltaMB} MB)`, ''],
    ];
    console.log(['benchmark'.padEnd(44), 'netplumb'.padEnd(36), 'ovs-vsctl / note'].join(' | '));
    for (const r of rows) console.log([r[0].padEnd(44), r[1].padEnd(36), r[2]].join(' | '));
    const figures = { bench: 'ovsdb', addDeleteOneByOne: a, addDeleteOneByOneNoWait: aNoWait, batched: b, roundTrip: c, memory: d };
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await vs?.close();
    await ovs.stop();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
