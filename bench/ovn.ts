/**
 * `npm run bench -- ovn`: attaches to OVN networks across three emulated chassis (central +
 * h1..h3, sandbox/ovn-bed.ts), each attach until ovn-controller bound it:
 *
 *   latency     one attach at a time through `netplumb serve` (one daemon per host, a
 *               process of its own): p50/p99 of the whole attach, of the time it only
 *               waited for other daemons (`waitedMs`: ovs-vswitchd applying the port beyond
 *               the guest's configuration, then ovn-controller binding it), and of the rest (ours)
 *   ours        200 attaches at once over the three daemons (static addresses)
 *   script      the sequence a script runs per container (bench/baseline/ovn-attach.sh:
 *               `ip` for the veth and the guest, `ovn-nbctl lsp-add …`, `ovs-vsctl add-port
 *               br-int … iface-id=…`, `ovs-vsctl wait-until … ovn-installed`), one after
 *               another (NETPLUMB_BENCH_OVN_SCRIPT containers, default 60), as a rate
 *   batched     the same for 200, with the northbound ports in one ovn-nbctl and each host's
 *               ports in one ovs-vsctl (the `ip` steps per container), then `ovn-nbctl
 *               --wait=hv sync` (every chassis caught up)
 *
 * Benchmarks are not tests: no assertion on times; every attach is checked bound (its
 * logical port up) and everything is removed between methods and at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../src/daemon/client.js';
import { Plumber } from '../src/plumb/plumber.js';
import { must } from '../sandbox/exec.js';
import { startOvnBed, type OvnBed } from '../sandbox/ovn-bed.js';
import type { OvnHost } from '../sandbox/ovn-host.js';
import { startDaemon, stopDaemon, type DaemonProcess } from './lib/daemon.js';
import { nowMs, printTable, round, summary } from './lib/stats.js';

const ROOT = join(__dirname, '..', '..');
const LAT_RUNS = Number(process.env.NETPLUMB_BENCH_OVN_RUNS ?? 40);
const WARMUP = 3;
const BULK = 200;
const SCRIPTED = Number(process.env.NETPLUMB_BENCH_OVN_SCRIPT ?? 60);
const NETWORK = 'bench';
const SUBNET = '10.3.0.0/16';

let guestSeq = 0;
/** Guest namespaces in one `ip -batch` (their making is not what is measured). */
async function makeGuests(n: number): Promise<string[]> {
  const names = Array.from({ length: n }, () => `npb-${process.pid}-${guestSeq++}`);
  await must(['ip', '-batch', '-'], { input: names.map((g) => `netns add ${g}\n`).join('') });
  return names;
}

async function deleteGuests(names: readonly string[]): Promise<void> {
  if (names.length > 0) await must(['ip', '-batch', '-'], { input: names.map((g) => `netns del ${g}\n`).join('') });
}

const ipOf = (i: number): string => `10.3.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const macOf = (i: number): string =>
  `02:b0:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/** Logical ports of the bench network still up or present (baseline ones are named npb-…). */
async function nbPortCount(bed: OvnBed, upOnly: boolean): Promise<number> {
  const out = await bed.central.nbctl([
    '--bare',
    '--columns=name',
    'find',
    'Logical_Switch_Port',
    ...(upOnly ? ['up=true'] : []),
  ]);
  return out.split('\n').filter((n) => n !== '').length;
}

async function main(): Promise<void> {
  const bed = await startOvnBed({ tag: `npb-${process.pid}`, hosts: 3 });
  const home = mkdtempSync(join(tmpdir(), 'np-bench-ovn-'));
  const daemons: DaemonProcess[] = [];
  const clients: DaemonClient[] = [];
  const admin = Plumber.open({
    ovsDb: bed.hosts[0]?.ovs.remote,
    hostNetns: { name: bed.hosts[0]?.ovs.netns as string },
    ovnNb: bed.central.nbRemote,
  });
  try {
    await admin.networks.create({ name: NETWORK, subnet: SUBNET });
    for (const [i, h] of bed.hosts.entries()) {
      const socket = join(home, `h${i + 1}.sock`);
      daemons.push(
        await startDaemon(
          [
            'ip',
            'netns',
            'exec',
            h.ovs.netns,
            process.execPath,
            join(ROOT, 'bin', 'netplumb'),
            'serve',
            '--socket',
            socket,
            '--ovs-db',
            h.ovs.remote,
            '--ovn-nb',
            bed.central.nbRemote,
          ],
          { ...process.env, NETPLUMB_LOG: 'warn' },
          socket,
        ),
      );
    }
    const connect = async () => {
      for (const c of clients.splice(0)) await c.close();
      for (let i = 0; i < bed.hosts.length; i++) clients.push(await DaemonClient.connect(join(home, `h${i + 1}.sock`)));
    };
    const attach = (i: number, guest: string) =>
      (clients[i % clients.length] as DaemonClient).attach({
        host: 'br-int',
        network: NETWORK,
        guest: { netns: guest },
        ip: { kind: 'static', address: `${ipOf(i)}/16` },
      });
    const detachAll = (guests: readonly string[]) =>
      Promise.all(guests.map((g, i) => (clients[i % clients.length] as DaemonClient).detach({ guest: { netns: g } })));

    // 1. Latency, one at a time.
    const lat = await makeGuests(LAT_RUNS + WARMUP);
    await connect();
    const total: number[] = [];
    const waited: number[] = [];
    for (const [i, g] of lat.entries()) {
      const t0 = nowMs();
      const r = await attach(i, g);
      const ms = nowMs() - t0;
      if (i >= WARMUP) {
        total.push(ms);
        waited.push(r.waitedMs ?? 0);
      }
      await (clients[i % clients.length] as DaemonClient).detach({ guest: { netns: g } });
    }
    await deleteGuests(lat);
    const ours = total.map((t, i) => t - (waited[i] ?? 0));

    // 2. 200 at once through the three daemons.
    const bulk = await makeGuests(BULK);
    await connect();
    const t0 = nowMs();
    await Promise.all(bulk.map((g, i) => attach(i, g)));
    const bulkMs = nowMs() - t0;
    const boundOurs = await nbPortCount(bed, true);
    const t1 = nowMs();
    await detachAll(bulk);
    const detachMs = nowMs() - t1;
    await deleteGuests(bulk);

    // 3. The scripted sequence, one container after another.
    const sw = await bed.central.nbctl(['--bare', '--columns=_uuid', 'find', 'Logical_Switch', `name=${NETWORK}`]);
    const scripted = await makeGuests(SCRIPTED);
    const script = join(ROOT, 'bench', 'baseline', 'ovn-attach.sh');
    const t2 = nowMs();
    for (const [i, g] of scripted.entries()) {
      const h = hostOf(bed, i);
      await must(
        [
          script,
          h.ovs.netns,
          h.ovs.remote,
          bed.central.nbRemote,
          sw.trim(),
          g,
          `npbh${i}`,
          `npb-${i}`,
          macOf(i),
          `${ipOf(i)}/16`,
        ],
        { timeoutMs: 60_000 },
      );
    }
    const scriptMs = nowMs() - t2;
    const boundScript = await nbPortCount(bed, true);
    await removeBaseline(bed, scripted.length);
    await deleteGuests(scripted);

    // 4. Batched: the ip steps per container, one ovn-nbctl, one ovs-vsctl per host, then every chassis caught up.
    const batched = await makeGuests(BULK);
    const t3 = nowMs();
    for (const [i, g] of batched.entries()) {
      const h = hostOf(bed, i);
      const ns = h.ovs.netns;
      await must(['ip', '-n', ns, 'link', 'add', `npbh${i}`, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', g]);
      await must(['ip', '-n', ns, 'link', 'set', `npbh${i}`, 'up']);
      await must(['ip', '-n', g, 'link', 'set', 'eth1', 'address', macOf(i)]);
      await must(['ip', '-n', g, 'addr', 'add', `${ipOf(i)}/16`, 'dev', 'eth1']);
      await must(['ip', '-n', g, 'link', 'set', 'eth1', 'up']);
    }
    await bed.central.nbctl(
      batched.flatMap((_, i) => [
        '--',
        'lsp-add',
        NETWORK,
        `npb-${i}`,
        '--',
        'lsp-set-addresses',
        `npb-${i}`,
        `${macOf(i)} ${ipOf(i)}`,
        '--',
        'lsp-set-port-security',
        `npb-${i}`,
        `${macOf(i)} ${ipOf(i)}`,
      ]),
    );
    for (const [k, h] of bed.hosts.entries())
      await h.vsctl(
        batched.flatMap((_, i) =>
          i % bed.hosts.length === k
            ? [
                '--',
                'add-port',
                'br-int',
                `npbh${i}`,
                '--',
                'set',
                'Interface',
                `npbh${i}`,
                `external_ids:iface-id=npb-${i}`,
              ]
            : [],
        ),
      );
    await bed.central.nbctl(['--wait=hv', '--timeout=120', 'sync']);
    const batchedMs = nowMs() - t3;
    const boundBatched = await nbPortCount(bed, true);
    await removeBaseline(bed, batched.length);
    await deleteGuests(batched);

    const rate = (n: number, ms: number) => round((n * 1000) / ms, 1);
    const lt = summary(total);
    const lw = summary(waited);
    const lo = summary(ours);
    printTable(
      ['method', 'attaches', 'bound', 'total ms', 'attach/s', 'vs script'],
      [
        [
          'ours: 200 through 3 daemons, at once',
          BULK,
          boundOurs,
          round(bulkMs, 1),
          rate(BULK, bulkMs),
          `${round(rate(BULK, bulkMs) / rate(SCRIPTED, scriptMs), 1)}×`,
        ],
        [
          'script: ip + ovn-nbctl + ovs-vsctl, each',
          SCRIPTED,
          boundScript,
          round(scriptMs, 1),
          rate(SCRIPTED, scriptMs),
          '1×',
        ],
        [
          'batched: one ovn-nbctl, one ovs-vsctl per host',
          BULK,
          boundBatched,
          round(batchedMs, 1),
          rate(BULK, batchedMs),
          `${round(rate(BULK, batchedMs) / rate(SCRIPTED, scriptMs), 1)}×`,
        ],
      ],
    );
    process.stdout.write('\n');
    printTable(
      ['attach until bound, c=1, through the daemon', 'p50 ms', 'p99 ms', 'max ms', 'n'],
      [
        ['whole attach', lt.p50, lt.p99, lt.max, lt.n],
        ['  only waiting: ovs-vswitchd apply, ovn-controller bind', lw.p50, lw.p99, lw.max, lw.n],
        ['  ours (the rest)', lo.p50, lo.p99, lo.max, lo.n],
      ],
    );
    process.stdout.write(
      `${JSON.stringify({
        latencyC1: { total: lt, waitedForDaemons: lw, ours: lo },
        bulk: {
          attaches: BULK,
          ms: round(bulkMs, 1),
          perSecond: rate(BULK, bulkMs),
          bound: boundOurs,
          detachMs: round(detachMs, 1),
        },
        script: { attaches: SCRIPTED, ms: round(scriptMs, 1), perSecond: rate(SCRIPTED, scriptMs), bound: boundScript },
        batched: { attaches: BULK, ms: round(batchedMs, 1), perSecond: rate(BULK, batchedMs), bound: boundBatched },
        speedup: {
          vsScript: round(rate(BULK, bulkMs) / rate(SCRIPTED, scriptMs), 1),
          vsBatched: round(rate(BULK, bulkMs) / rate(BULK, batchedMs), 2),
        },
      })}\n`,
    );
  } finally {
    for (const c of clients) await c.close();
    for (const d of daemons) await stopDaemon(d);
    await admin.networks.delete(NETWORK, { force: true }).catch(() => undefined);
    await admin.close();
    rmSync(home, { recursive: true, force: true });
    await bed.stop();
  }
}

/** The baseline's ports: its logical ports in one ovn-nbctl, each host's OVS ports in one ovs-vsctl. */
async function removeBaseline(bed: OvnBed, n: number): Promise<void> {
  await bed.central.nbctl(Array.from({ length: n }, (_, i) => ['--', '--if-exists', 'lsp-del', `npb-${i}`]).flat());
  for (const [k, h] of bed.hosts.entries())
    await h.vsctl(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % bed.hosts.length === k)
        .flatMap((i) => ['--', '--if-exists', 'del-port', `npbh${i}`]),
    );
}

/** The host of the i-th container: round robin. */
function hostOf(bed: OvnBed, i: number): OvnHost {
  const h = bed.hosts[i % bed.hosts.length];
  if (h === undefined) throw new Error('the bed has no hosts');
  return h;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench ovn: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
