/**
 * `npm run bench -- cni`: netplumb-cni against the reference CNI `bridge` plugin
 * (containernetworking-plugins, /usr/lib/cni/bridge), both with the same `host-local` IPAM,
 * each call a cold exec as a runtime makes it:
 *
 *   CNI_COMMAND=ADD|DEL CNI_CONTAINERID=… CNI_NETNS=/run/netns/G CNI_IFNAME=eth0 CNI_PATH=… \
 *     nsenter --net=/run/netns/HOST PLUGIN < network configuration
 *
 *   daemon     netplumb-cni as installed (the native front door) with `netplumb serve`
 *              running: the call runs in the daemon, no Node.js starts
 *   alone      the same with no daemon at NETPLUMB_SOCKET: the front door execs Node.js
 *   reference  the `bridge` plugin, on a Linux bridge of the same emulated host
 *
 * One guest namespace per call, made and removed outside the timing; the methods alternate
 * within each round in a shuffled order, so they share the machine's noise. Every ADD is
 * checked (exit 0, a result with the sandbox interface's mac, eth0 in the guest with the
 * result's address) and every DEL (exit 0, eth0 gone, the lease released).
 *
 * Then the cold `pipework`/`netplumb attach` through the daemon against the `ip` + `ovs-vsctl`
 * sequence, which bench/cli.ts measures: it is run here (fewer rounds) and its figures quoted.
 * Then podman 4.3 with its CNI backend starting N containers (default 200, 16 at a time) on
 * a netplumb-cni network and on a reference `bridge` network, wall time for the starts and
 * the removals. Targets: ADD p50 through the daemon ≤ 0.75× the reference's, DEL ≤ 0.5×,
 * acting alone ≤ 2×. The machine's load average is reported before and after.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { must, run } from '../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { PodmanSandbox } from '../sandbox/podman.js';
import {
  CniBed,
  execCni,
  inParallel,
  NETPLUMB_CNI,
  type NetworkSpec,
  pluginInput,
  REFERENCE_PLUGINS,
  type ServeDaemon,
} from '../test/helpers/cni.js';
import { rng } from '../test/helpers/rng.js';
import { nowMs, percentile, printTable, round, shuffled } from './lib/stats.js';

const RUNS = Number(process.env.NETPLUMB_BENCH_CNI_RUNS ?? 30);
const WARMUP = Number(process.env.NETPLUMB_BENCH_CNI_WARMUP ?? 2);
const PODMAN_N = Number(process.env.NETPLUMB_BENCH_CNI_PODMAN ?? 200);
const PODMAN_C = 16;
const CLI_RUNS = Number(process.env.NETPLUMB_BENCH_CNI_CLI_RUNS ?? 15);

const METHODS = ['daemon', 'alone', 'reference'] as const;
type Method = (typeof METHODS)[number];
const LABEL: Record<Method, string> = {
  daemon: 'netplumb-cni (front door) through netplumb serve',
  alone: 'netplumb-cni (front door), no daemon: Node.js acts alone',
  reference: 'reference bridge plugin (/usr/lib/cni/bridge)',
};

const OVS_NET: NetworkSpec = {
  name: 'np-bench-ovs',
  type: NETPLUMB_CNI,
  bridge: 'ovs0',
  vlan: 100,
  subnet: '10.0.0.0/24',
};
const REF_NET: NetworkSpec = { name: 'np-bench-ref', type: 'bridge', bridge: 'npbenchbr0', subnet: '10.1.0.0/24' };

interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string }[];
}

/** One method's ADD then DEL in a fresh guest namespace; returns the two times. */
async function cycle(
  bed: CniBed,
  m: Method,
  id: string,
  guest: string,
  confs: Record<'ovs' | 'ref', Record<string, unknown>>,
): Promise<{ add: number; del: number }> {
  const plugin = m === 'reference' ? join(REFERENCE_PLUGINS, 'bridge') : join(bed.pluginDir, NETPLUMB_CNI);
  const conf = m === 'reference' ? confs.ref : confs.ovs;
  const net = m === 'reference' ? REF_NET : OVS_NET;
  const env: Record<string, string> = m === 'alone' ? { NETPLUMB_SOCKET: `${bed.socket}.none` } : {};
  const call = { containerId: id, netns: `/run/netns/${guest}`, conf };
  await must(['ip', 'netns', 'add', guest]);
  try {
    let t0 = nowMs();
    const add = await execCni(bed, plugin, { command: 'ADD', ...call }, env);
    const addMs = nowMs() - t0;
    if (add.code !== 0) throw new Error(`${m} ADD exited ${add.code}: ${add.stderr}${add.stdout}`);
    const result = JSON.parse(add.stdout) as CniResult;
    const address = result.ips?.[0]?.address;
    const mac = result.interfaces?.find((i) => i.sandbox !== undefined && i.name === 'eth0')?.mac;
    if (address === undefined || mac === undefined)
      throw new Error(`${m} ADD result lacks an address or eth0's mac: ${add.stdout}`);
    const [eth0] = JSON.parse(await must(['ip', '-n', guest, '-json', 'addr', 'show', 'eth0'])) as {
      address: string;
      addr_info: { local: string; prefixlen: number }[];
    }[];
    if (!eth0?.addr_info.some((a) => `${a.local}/${a.prefixlen}` === address) || eth0.address !== mac)
      throw new Error(`${m} ADD answered ${address} ${mac} but eth0 in the guest is ${JSON.stringify(eth0)}`);
    t0 = nowMs();
    const del = await execCni(bed, plugin, { command: 'DEL', ...call }, env);
    const delMs = nowMs() - t0;
    if (del.code !== 0) throw new Error(`${m} DEL exited ${del.code}: ${del.stderr}${del.stdout}`);
    if ((await run(['ip', '-n', guest, 'link', 'show', 'eth0'])).code === 0) throw new Error(`${m} DEL left eth0`);
    if (bed.leases(net.name).length > 0) throw new Error(`${m} DEL left leases: ${bed.leases(net.name).join(' ')}`);
    return { add: addMs, del: delMs };
  } finally {
    await run(['ip', 'netns', 'del', guest]);
  }
}

/** N `podman run -d` on `net`, PODMAN_C at a time, then their removal: wall times. */
async function podmanWave(
  podman: PodmanSandbox,
  net: NetworkSpec,
  n: number,
  attached: () => Promise<number>,
): Promise<{ startMs: number; rmMs: number }> {
  const names = Array.from({ length: n }, (_, i) => `np-bench-${net.name}-${i}`);
  let t0 = nowMs();
  const runs = await inParallel(names, PODMAN_C, (name) =>
    podman.tryPodman(
      ['run', '-d', '--name', name, '--network', net.name, '--rootfs', podman.rootfs, '/bin/sleep', '100000'],
      {
        timeoutMs: 300_000,
      },
    ),
  );
  const startMs = nowMs() - t0;
  const failed = runs.filter((r) => r.code !== 0);
  if (failed.length > 0) throw new Error(`${failed.length} podman runs on ${net.name} failed: ${failed[0]?.stderr}`);
  const seen = await attached();
  if (seen !== n) throw new Error(`${n} containers started on ${net.name} but ${seen} are attached`);
  t0 = nowMs();
  await inParallel(names, PODMAN_C, (name) => podman.podman(['rm', '-f', '-t', '0', name], 300_000));
  const rmMs = nowMs() - t0;
  if ((await attached()) !== 0) throw new Error(`podman rm left attachments on ${net.name}`);
  return { startMs, rmMs };
}

/** bench/cli.ts in its own process, fewer rounds: its last line, the figures. */
function coldAttach(): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(__dirname, 'cli.js')], {
    env: { ...process.env, NETPLUMB_BENCH_CLI_RUNS: String(CLI_RUNS) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = r.stdout.toString().trim().split('\n');
  try {
    return JSON.parse(out[out.length - 1] ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`bench cli exited ${r.status ?? r.signal}: ${out.slice(-5).join('\n')}`);
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  let ovs: OvsInstance | undefined;
  let bed: CniBed | undefined;
  let daemon: ServeDaemon | undefined;
  let podman: PodmanSandbox | undefined;
  const add: Record<Method, number[]> = { daemon: [], alone: [], reference: [] };
  const del: Record<Method, number[]> = { daemon: [], alone: [], reference: [] };
  let waves: Record<'ovs' | 'ref', { startMs: number; rmMs: number }> | undefined;
  let loadCycles = loadBefore;
  try {
    ovs = await startOvs({ withVswitchd: true });
    await ovs.addBridge('ovs0');
    bed = CniBed.create(ovs);
    for (const net of [OVS_NET, REF_NET]) bed.writeConflist(net);
    daemon = await bed.startServe();
    const confs = { ovs: pluginInput(bed.conflist(OVS_NET)), ref: pluginInput(bed.conflist(REF_NET)) };
    const rand = rng(0xc41);
    for (let r = 0; r < RUNS + WARMUP; r++)
      for (const m of shuffled(METHODS, rand)) {
        const t = await cycle(bed, m, `np-bench-${process.pid}-${r}-${m}`, `np-cnib-${process.pid}-${m}`, confs);
        if (r >= WARMUP) {
          add[m].push(t.add);
          del[m].push(t.del);
        }
      }

    loadCycles = loadavg();
    if (PODMAN_N > 0) {
      const o = ovs;
      const b = bed;
      podman = await PodmanSandbox.create({
        netns: o.netns,
        cni: { pluginDirs: [b.pluginDir, REFERENCE_PLUGINS], configDir: b.confDir },
        env: { NETPLUMB_SOCKET: b.socket },
      });
      const ovsPorts = async () => (await o.vsctl(['list-ports', 'ovs0'])).split('\n').filter(Boolean).length;
      const bridgePorts = async () =>
        (JSON.parse(await must(['ip', '-n', o.netns, '-json', 'link', 'show', 'master', REF_NET.bridge])) as unknown[])
          .length;
      // The reference first, then netplumb-cni: a first wave pays podman's own warm-up (storage, locks).
      const ref = await podmanWave(podman, REF_NET, PODMAN_N, bridgePorts);
      const ours = await podmanWave(podman, OVS_NET, PODMAN_N, ovsPorts);
      waves = { ovs: ours, ref };
    }
  } finally {
    await podman?.destroy();
    await daemon?.stop();
    await ovs?.stop();
    bed?.remove();
  }
  const loadPodman = loadavg();
  const cli = coldAttach();
  const loadAfter = loadavg();

  const p = (xs: number[], q: number) => percentile(xs, q);
  printTable(
    [
      `${RUNS} ADD+DEL cycles each (after ${WARMUP} warm-up rounds), cold exec`,
      'ADD p50 ms',
      'ADD p99 ms',
      'DEL p50 ms',
      'DEL p99 ms',
    ],
    METHODS.map((m) => [LABEL[m], p(add[m], 50), p(add[m], 99), p(del[m], 50), p(del[m], 99)]),
  );
  const ratio = (xs: Record<Method, number[]>, m: Method, q: number) => p(xs[m], q) / p(xs.reference, q);
  const figures = {
    add_daemon_vs_reference_p50: ratio(add, 'daemon', 50),
    add_daemon_vs_reference_p99: ratio(add, 'daemon', 99),
    del_daemon_vs_reference_p50: ratio(del, 'daemon', 50),
    del_daemon_vs_reference_p99: ratio(del, 'daemon', 99),
    add_alone_vs_reference_p50: ratio(add, 'alone', 50),
    del_alone_vs_reference_p50: ratio(del, 'alone', 50),
  };
  const cliRatio = Number(cli.baseline_vs_front_daemon_p50);
  const cliAlone = Number(cli.baseline_vs_alone_p50);
  process.stdout.write('\n');
  printTable(
    ['figure', 'value', 'target'],
    [
      ['ADD: through the daemon / reference (p50)', `${round(figures.add_daemon_vs_reference_p50, 2)}×`, '≤ 0.75×'],
      ['ADD: through the daemon / reference (p99)', `${round(figures.add_daemon_vs_reference_p99, 2)}×`, ''],
      ['DEL: through the daemon / reference (p50)', `${round(figures.del_daemon_vs_reference_p50, 2)}×`, '≤ 0.5×'],
      ['DEL: through the daemon / reference (p99)', `${round(figures.del_daemon_vs_reference_p99, 2)}×`, ''],
      ['ADD: acting alone / reference (p50)', `${round(figures.add_alone_vs_reference_p50, 2)}×`, '≤ 2×'],
      ['DEL: acting alone / reference (p50)', `${round(figures.del_alone_vs_reference_p50, 2)}×`, '≤ 2×'],
      [
        `cold attach (bench cli, ${CLI_RUNS} runs): ip + ovs-vsctl sequence / through the daemon (p50)`,
        `${round(cliRatio, 2)}×`,
        '≥ 4×',
      ],
      ['cold attach: ip + ovs-vsctl sequence / acting alone (p50)', `${round(cliAlone, 2)}×`, '≥ 1.0×'],
      ...(waves === undefined
        ? []
        : [
            [
              `podman: ${PODMAN_N} started (${PODMAN_C} at a time), netplumb-cni / reference`,
              `${round(waves.ovs.startMs / 1000, 1)} s / ${round(waves.ref.startMs / 1000, 1)} s = ${round(waves.ovs.startMs / waves.ref.startMs, 2)}×`,
              '',
            ],
            [
              `podman: the ${PODMAN_N} removed, netplumb-cni / reference`,
              `${round(waves.ovs.rmMs / 1000, 1)} s / ${round(waves.ref.rmMs / 1000, 1)} s = ${round(waves.ovs.rmMs / waves.ref.rmMs, 2)}×`,
              '',
            ],
          ]),
      [
        'load average (1 min) before / after the ADD+DEL rounds / after podman / after bench cli',
        [loadBefore, loadCycles, loadPodman, loadAfter].map((l) => l[0]?.toFixed(2)).join(' / '),
        '',
      ],
    ],
  );

  const fig: Record<string, unknown> = { bench: 'cni', runs: RUNS, warmup: WARMUP };
  for (const m of METHODS) {
    fig[`add_${m}_p50_ms`] = round(p(add[m], 50), 2);
    fig[`add_${m}_p99_ms`] = round(p(add[m], 99), 2);
    fig[`del_${m}_p50_ms`] = round(p(del[m], 50), 2);
    fig[`del_${m}_p99_ms`] = round(p(del[m], 99), 2);
  }
  for (const [k, v] of Object.entries(figures)) fig[k] = round(v, 3);
  Object.assign(fig, {
    cold_attach: {
      runs: CLI_RUNS,
      front_daemon_p50_ms: cli.front_daemon_p50_ms,
      front_alone_p50_ms: cli.front_alone_p50_ms,
      baseline_p50_ms: cli.baseline_p50_ms,
      baseline_vs_front_daemon_p50: cli.baseline_vs_front_daemon_p50,
      baseline_vs_alone_p50: cli.baseline_vs_alone_p50,
    },
    ...(waves === undefined
      ? {}
      : {
          podman: {
            containers: PODMAN_N,
            concurrency: PODMAN_C,
            start_netplumb_ms: round(waves.ovs.startMs, 0),
            start_reference_ms: round(waves.ref.startMs, 0),
            start_ratio: round(waves.ovs.startMs / waves.ref.startMs, 3),
            rm_netplumb_ms: round(waves.ovs.rmMs, 0),
            rm_reference_ms: round(waves.ref.rmMs, 0),
            rm_ratio: round(waves.ovs.rmMs / waves.ref.rmMs, 3),
          },
        }),
    loadavg_1m: {
      before: loadBefore[0],
      after_cycles: loadCycles[0],
      after_podman: loadPodman[0],
      after_cli: loadAfter[0],
    },
    targets_met: {
      add_daemon_0_75x: figures.add_daemon_vs_reference_p50 <= 0.75,
      del_daemon_0_5x: figures.del_daemon_vs_reference_p50 <= 0.5,
      add_alone_2x: figures.add_alone_vs_reference_p50 <= 2,
      del_alone_2x: figures.del_alone_vs_reference_p50 <= 2,
      cold_attach_daemon_4x: cliRatio >= 4,
      cold_attach_alone_1x: cliAlone >= 1,
    },
  });
  process.stdout.write(`${JSON.stringify(fig)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench cni failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
