/**
 * The README's first command: netplumb doing the seed's job, end to end, on this machine.
 *
 *   node dist/demo/main.js [--json] [--guests auto|podman|netns] [--scenario seed|trunk|ovn] [--svg FILE]
 *
 * 1. the scenario's emulated hosts (./scenario-*.ts), each a network namespace of its own
 *    with a private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) in a temp
 *    dir — the root namespace is never changed: one host (seed), two joined by a trunk
 *    (trunk), or an OVN central and three chassis joined by an underlay (ovn);
 * 2. four guests con1..con4: podman containers (`--net none`, busybox root directory, a
 *    private podman storage and API service) when podman and runc are installed, plain
 *    network namespaces otherwise;
 * 3. netplumb prepares the hosts (uplinks, OVN networks), then attaches each guest through
 *    the library, one Plumber.attach per guest on its host, each attach timed;
 * 4. with --svg FILE, each host drawn as `netplumb show --svg` draws it (one host: FILE;
 *    several: one file per host, FILE with `-h1`, `-h2` … before its extension);
 * 5. the connectivity matrix (./matrix.ts): the same segment (VLAN, OVN network) must
 *    reach, another must not. `netplumb check` judges every pair of guests on one host:
 *    its library call on that host (checkConnectivity: an ICMP echo sent natively from
 *    inside the guests, no ping process, the expectation from the host's records), its
 *    report printed as `netplumb check` prints it — in the seed, that is the whole matrix.
 *    check is one host's: it reads that host's records and enters that host's guests, and
 *    no record says what a cable joins; so a pair across hosts (trunk, ovn) is judged by
 *    the scenario instead: expected from its segments, measured by a ping from inside the
 *    source guest (`podman exec … ping`, or `ip netns exec … ping`). Every cell says which
 *    judged it (`by`: check or ping), in the printed matrix and in --json;
 * 6. the throughput between two guests (across hosts when there are several) with iperf3
 *    (`-t 3`), client and server inside the guests' namespaces (the host's iperf3 through
 *    nsenter for containers: busybox has none);
 * 7. detach everything, then remove containers, namespaces, daemons and temp dirs — also
 *    on failure and on Ctrl-C / SIGTERM.
 *
 * Exit status: 0 when the matrix matches the expectation, the throughput was measured, the
 * detach removed every port and the cleanup left nothing; 1 otherwise; 2 for a usage error
 * or when not root; 130/143/129 when interrupted (SIGINT/SIGTERM/SIGHUP).
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Plumber } from '../src/plumb/plumber.js';
import { must, run } from '../sandbox/exec.js';
import { PodmanSandbox, missingPodmanCommands } from '../sandbox/podman.js';
import { measureMatrix, printMatrix, type Matrix } from './matrix.js';
import { drawHosts } from './picture.js';
import type { Bed, DemoGuest, Scenario, ScenarioName } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

export type { HostCheck, Matrix, MatrixCell } from './matrix.js';

export type GuestKind = 'podman' | 'netns';

export interface DemoOptions {
  json: boolean;
  guests: GuestKind | 'auto';
  scenario: ScenarioName;
  /** Draw each host, once attached, into this SVG file (several hosts: one file each). */
  svg?: string;
}

export interface DemoReport {
  ok: boolean;
  scenario: ScenarioName;
  guests?: { kind: GuestKind; why: string; names: string[] };
  /** The emulated hosts, by name. */
  hosts: string[];
  attachments: {
    guest: string;
    host: string;
    ip: string;
    /** `@100` (a VLAN) or an OVN network's name. */
    segment: string;
    hostIfname: string;
    ofport?: number;
    ms: number;
  }[];
  /** The SVG files written (--svg), one per host. */
  svg?: string[];
  /** Every ordered pair of guests; `by` in each cell says whether netplumb check or a ping across hosts judged it. */
  matrix?: Matrix;
  throughput?:
    | { from: string; to: string; seconds: number; bitsPerSecond: number; retransmits?: number }
    | { error: string };
  /** `portsLeft`: OVS ports (and OVN logical ports) of netplumb's attachments still there. */
  detach?: { count: number; ms: number; portsLeft: number };
  cleanup: { ok: boolean; errors: string[] };
  /** What the demo created, so that a caller can check nothing of it is left. */
  sandbox: {
    /** The hosts' (and an OVN central's) temp dirs, namespaces and daemons. */
    hostDirs: string[];
    hostNetns: string[];
    hostPids: number[];
    podmanDir?: string;
    podmanPids: number[];
    guestNetns: string[];
  };
  durationMs: number;
  error?: string;
  interrupted?: NodeJS.Signals;
}

const IPERF_SECONDS = 3;
const IPERF_PORT = 5201;
/** The --json report's keys, in the order printed. */
const JSON_ORDER: (keyof DemoReport)[] = [
  'ok',
  'error',
  'interrupted',
  'scenario',
  'guests',
  'hosts',
  'attachments',
  'svg',
  'matrix',
  'throughput',
  'detach',
  'cleanup',
  'sandbox',
  'durationMs',
];

const USAGE = `usage: node dist/demo/main.js [--json] [--guests auto|podman|netns] [--scenario seed|trunk|ovn]
                               [--svg FILE]

The seed's scenarios with netplumb, on emulated hosts (a private Open vSwitch each,
userspace datapath): four guests con1..con4, the connectivity matrix and the throughput
between two of them (iperf3), then everything is removed again. The matrix: netplumb check
on each host judges the pairs of guests on that host (all of them in seed); a pair across
hosts is pinged, and expected to reach when the scenario puts both on one segment.

  --scenario NAME  seed (default): one host, con1..con4 on ovs0 with VLANs 100,100,200,200;
                   trunk: two hosts joined by a trunk (netplumb uplink add), con1, con2 on
                     h1 and con3, con4 on h2 with VLANs 100,200,100,200;
                   ovn: an OVN central and three hosts over an underlay, con1 (h1) and
                     con2 (h2) on OVN network vlan100, con3 (h1) and con4 (h3) on vlan200
  --json           print one JSON object instead of the report: ok, scenario, guests, hosts,
                   attachments, svg, matrix (cells {from, to, expected, reached, ok, by:
                   "check"|"ping", host}, checks: one per host check ran on), throughput,
                   detach, cleanup, sandbox, durationMs (and error, interrupted)
  --guests KIND    podman: podman containers; netns: plain network namespaces;
                   auto (default): podman when podman and runc are installed
  --svg FILE       also draw the attached hosts (= netplumb show --svg FILE on each): FILE for
                   one host; FILE with -h1, -h2 … before its extension for several
  -h, --help       this text
`;

class UsageError extends Error {}

export function parseArgs(argv: string[]): DemoOptions | 'help' {
  const opts: DemoOptions = { json: false, guests: 'auto', scenario: 'seed' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--json') opts.json = true;
    else if (a === '--guests' || a.startsWith('--guests=')) {
      const v = a === '--guests' ? argv[++i] : a.slice('--guests='.length);
      if (v !== 'auto' && v !== 'podman' && v !== 'netns')
        throw new UsageError(
          `--guests takes auto, podman or netns, not ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
        );
      opts.guests = v;
    } else if (a === '--scenario' || a.startsWith('--scenario=')) {
      const v = a === '--scenario' ? argv[++i] : a.slice('--scenario='.length);
      if (v === undefined || !Object.hasOwn(SCENARIOS, v))
        throw new UsageError(
          `--scenario takes ${Object.keys(SCENARIOS).join(', ')}, not ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
        );
      opts.scenario = v as ScenarioName;
    } else if (a === '--svg' || a.startsWith('--svg=')) {
      const v = a === '--svg' ? argv[++i] : a.slice('--svg='.length);
      if (v === undefined || v === '') throw new UsageError('--svg takes a file name');
      const dir = dirname(v);
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new UsageError(`--svg ${v}: no directory ${dir} to write it in`);
      opts.svg = v;
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

/** Progress lines for the human report; silent with --json. */
class Progress {
  #open = false;
  constructor(private readonly quiet: boolean) {}
  line(text = ''): void {
    if (this.quiet) return;
    this.end();
    process.stdout.write(`${text}\n`);
  }
  /** `▸ label … ` now, `ok (1.2 s)` on the same line when done (on a line of its own if others came between). */
  async step<T>(label: string, fn: () => Promise<T>, done?: (v: T) => string): Promise<T> {
    if (!this.quiet) {
      this.end();
      process.stdout.write(`▸ ${label} … `);
      this.#open = true;
    }
    const t0 = performance.now();
    try {
      const v = await fn();
      this.finish(`${done ? done(v) : 'ok'} (${seconds(performance.now() - t0)})`);
      return v;
    } catch (e) {
      this.finish('failed');
      throw e;
    }
  }
  private finish(text: string): void {
    if (this.quiet) return;
    process.stdout.write(this.#open ? `${text}\n` : `  … ${text}\n`);
    this.#open = false;
  }
  private end(): void {
    if (this.#open) process.stdout.write('\n');
    this.#open = false;
  }
}

/** What was created, undone last-in first-out; each undo runs once, errors are collected. */
class Cleanup {
  readonly #undo: { what: string; run: () => Promise<void> }[] = [];
  #done: Promise<string[]> | undefined;
  push(what: string, run: () => Promise<void>): void {
    this.#undo.push({ what, run });
  }
  run(): Promise<string[]> {
    this.#done ??= (async () => {
      const errors: string[] = [];
      while (this.#undo.length > 0) {
        const u = this.#undo.pop() as { what: string; run: () => Promise<void> };
        try {
          await u.run();
        } catch (e) {
          errors.push(`${u.what}: ${message(e)}`);
        }
      }
      return errors;
    })();
    return this.#done;
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let opts: DemoOptions;
  try {
    const parsed = parseArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (e) {
    process.stderr.write(`netplumb demo: ${message(e)}\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'netplumb demo: run it as root (it creates network namespaces, an Open vSwitch and containers; the root namespace is never changed)\n',
    );
    return 2;
  }

  const t0 = performance.now();
  const scenario = SCENARIOS[opts.scenario];
  const out = new Progress(opts.json);
  const cleanup = new Cleanup();
  const abort = new AbortController();
  // One listener per concurrent ping: more than the default 10.
  setMaxListeners(64, abort.signal);
  const report: DemoReport = {
    ok: false,
    scenario: scenario.name,
    hosts: [],
    attachments: [],
    cleanup: { ok: false, errors: [] },
    sandbox: { hostDirs: [], hostNetns: [], hostPids: [], podmanPids: [], guestNetns: [] },
    durationMs: 0,
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (report.interrupted === undefined) {
      report.interrupted = sig;
      out.line(`${sig}: stopping, then cleaning up …`);
      abort.abort(new Error(`interrupted by ${sig}`));
    } else {
      out.line(`${sig}: still cleaning up, please wait …`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const checkpoint = (): void => {
    if (abort.signal.aborted) throw abort.signal.reason;
  };

  try {
    out.line(`netplumb demo — ${scenario.title}`);
    out.line();
    const bed: Bed = await out.step(
      scenario.setupLabel,
      async () => {
        const b = await scenario.setup(`np-demo-${process.pid}`);
        cleanup.push('stop the emulated hosts', () => b.stop());
        report.hosts = b.hosts.map((h) => h.name);
        report.sandbox.hostDirs = b.dirs();
        report.sandbox.hostNetns = b.netns();
        report.sandbox.hostPids = b.pids();
        return b;
      },
      (b) => scenario.describeBed(b),
    );
    checkpoint();

    const guests = await createGuests(opts, scenario, out, cleanup, report, abort.signal);
    checkpoint();

    const plumbers = bed.hosts.map((h) =>
      Plumber.open({
        ovsDb: h.ovsDb,
        hostNetns: { name: h.netns },
        datapathType: 'netdev',
        ...(h.ovnNb !== undefined ? { ovnNb: h.ovnNb } : {}),
        ...(guests.dockerHost ? { dockerHost: guests.dockerHost } : {}),
      }),
    );
    const plumberOf = (i: number): Plumber => plumbers[scenario.guests[i]?.host ?? 0] as Plumber;
    let attached = false;
    let prepared = false;
    cleanup.push('close the engines', async () => {
      if (attached) await detachAll(plumberOf, guests.list).catch(() => undefined);
      if (prepared) await scenario.unprepare?.(plumbers).catch(() => undefined);
      for (const p of plumbers) await p.close();
    });
    if (scenario.prepare !== undefined) {
      prepared = true;
      await scenario.prepare(plumbers, out);
      checkpoint();
    }

    const attachmentIds: string[] = [];
    out.line("▸ attach, one Plumber.attach each, on the guest's host");
    for (const [i, g] of guests.list.entries()) {
      checkpoint();
      const sg = scenario.guests[i] as Scenario['guests'][number];
      const host = bed.hosts[sg.host]?.name ?? '?';
      const t = performance.now();
      attached = true;
      const r = await plumberOf(i).attach(scenario.spec(i, g.ref));
      const ms = performance.now() - t;
      attachmentIds.push(r.record.id);
      report.attachments.push({
        guest: g.name,
        host,
        ip: `${sg.ip}/24`,
        segment: sg.segment,
        hostIfname: r.record.hostIfname,
        ...(r.ofport !== undefined ? { ofport: r.ofport } : {}),
        ms: round(ms),
      });
      out.line(
        `    = ${scenario.command(i).padEnd(50)} port ${r.record.hostIfname.padEnd(15)} ofport ${String(r.ofport ?? '?').padEnd(3)} ${ms.toFixed(1).padStart(6)} ms${i === 0 ? '  (includes the first OVSDB connection)' : ''}`,
      );
    }
    const later = report.attachments
      .slice(1)
      .map((a) => a.ms)
      .sort((a, b) => a - b);
    if (later.length > 0)
      out.line(`    median of the later attaches: ${(later[Math.floor(later.length / 2)] as number).toFixed(1)} ms`);
    checkpoint();

    if (opts.svg !== undefined) {
      const file = opts.svg;
      report.svg = await out.step(
        `picture: netplumb show --svg on ${bed.hosts.length > 1 ? 'each host' : 'the host'}`,
        () => drawHosts(bed.hosts, guests.dockerHost, file),
        (files) => `wrote ${files.join(' ')}`,
      );
      checkpoint();
    }

    report.matrix = await measureMatrix({
      scenario,
      hosts: bed.hosts,
      guests: guests.list,
      attachmentIds,
      dockerHost: guests.dockerHost,
      pingHow: guests.kind === 'podman' ? 'podman exec … ping' : 'ip netns exec … ping',
      out,
      signal: abort.signal,
    });
    printMatrix(out, scenario, report.matrix);
    checkpoint();

    const [from, to] = scenario.throughput;
    const across = scenario.guests[from]?.host !== scenario.guests[to]?.host;
    report.throughput = await out.step(
      `throughput ${guests.list[from]?.name} → ${guests.list[to]?.name} (iperf3 -t ${IPERF_SECONDS}, TCP, ${scenario.guests[from]?.segment}${across ? ', across hosts' : ''})`,
      () =>
        measureThroughput(
          guests.list[from] as DemoGuest,
          guests.list[to] as DemoGuest,
          scenario.guests[to]?.ip as string,
          cleanup,
          abort.signal,
        ).catch((e: unknown) => {
          if (abort.signal.aborted) throw e;
          return { error: message(e) };
        }),
      (r) =>
        'error' in r
          ? `not measured: ${r.error}`
          : `${formatRate(r.bitsPerSecond)}${r.retransmits !== undefined ? `, ${r.retransmits} retransmits` : ''}`,
    );
    checkpoint();

    report.detach = await out.step(
      'detach everything',
      async () => {
        const t = performance.now();
        const count = await detachAll(plumberOf, guests.list);
        const ms = performance.now() - t;
        attached = false;
        return { count, ms: round(ms), portsLeft: await bed.leftovers() };
      },
      (d) => `${d.count} attachments removed in ${d.ms.toFixed(1)} ms; ${d.portsLeft} of their ports left`,
    );
  } catch (e) {
    report.error = abort.signal.aborted ? `interrupted by ${report.interrupted}` : message(e);
    if (!opts.json) out.line(`error: ${report.error}`);
  }

  // Cleanup is never aborted: a second Ctrl-C only prints a note.
  const made =
    report.guests?.kind === 'podman'
      ? 'containers, podman sandbox'
      : report.guests?.kind === 'netns'
        ? 'namespaces'
        : 'what was made';
  const errors = await out.step(
    `clean up: ${made}, ${scenario.prepare !== undefined ? 'what netplumb prepared, ' : ''}Open vSwitch, temp dirs`,
    () => cleanup.run(),
    (errs) => (errs.length === 0 ? 'nothing left' : `${errs.length} problem(s)`),
  );
  report.cleanup = { ok: errors.length === 0, errors };
  for (const e of errors) out.line(`    ${e}`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);

  report.durationMs = round(performance.now() - t0);
  const measured =
    report.throughput !== undefined && !('error' in report.throughput) && report.throughput.bitsPerSecond > 0;
  const detached =
    report.detach !== undefined && report.detach.count === scenario.guests.length && report.detach.portsLeft === 0;
  report.ok = report.error === undefined && report.matrix?.ok === true && measured && detached && report.cleanup.ok;
  if (opts.json) {
    // The verdict first, then what was done in order (JSON.stringify leaves out what is undefined).
    const ordered = Object.fromEntries(JSON_ORDER.map((k) => [k, report[k]]));
    process.stdout.write(`${JSON.stringify(ordered)}\n`);
  } else {
    out.line();
    out.line(verdict(report, scenario, measured, detached));
  }
  if (report.interrupted) return report.interrupted === 'SIGINT' ? 130 : report.interrupted === 'SIGTERM' ? 143 : 129;
  return report.ok ? 0 : 1;
}

function verdict(r: DemoReport, s: Scenario, measured: boolean, detached: boolean): string {
  const what = s.segmentKind;
  if (r.ok) {
    const t = r.throughput as { from: string; to: string; bitsPerSecond: number };
    return `PASS: same-${what} guests reach each other, cross-${what} guests are isolated; ${t.from} → ${t.to} ${formatRate(t.bitsPerSecond)}; everything removed (${seconds(r.durationMs)})`;
  }
  const why = [
    ...(r.error !== undefined ? [r.error] : []),
    ...(r.matrix && !r.matrix.ok ? [`${r.matrix.mismatches} cell(s) of the matrix differ from the expectation`] : []),
    ...(r.error === undefined && !measured ? ['the throughput was not measured'] : []),
    ...(r.error === undefined && !detached
      ? [
          `detach removed ${r.detach?.count ?? 0} of ${s.guests.length} attachments, ${r.detach?.portsLeft ?? '?'} ports left`,
        ]
      : []),
    ...(!r.cleanup.ok ? ['the cleanup left something behind'] : []),
  ];
  return `FAIL: ${why.join('; ')}`;
}

interface Guests {
  kind: GuestKind;
  list: DemoGuest[];
  dockerHost?: string;
}

async function createGuests(
  opts: DemoOptions,
  scenario: Scenario,
  out: Progress,
  cleanup: Cleanup,
  report: DemoReport,
  signal: AbortSignal,
): Promise<Guests> {
  const names = scenario.guests.map((g) => g.name);
  let kind: GuestKind;
  let why: string;
  if (opts.guests === 'auto') {
    const missing = missingPodmanCommands();
    kind = missing.length === 0 ? 'podman' : 'netns';
    why =
      missing.length === 0
        ? 'podman and runc are installed'
        : `${missing.join(', ')} not installed (bash .ci/setup installs them)`;
  } else {
    kind = opts.guests;
    why = `--guests ${opts.guests}`;
  }
  if (kind === 'podman') {
    try {
      return await podmanGuests(names, out, cleanup, report, why, signal);
    } catch (e) {
      if (opts.guests !== 'auto' || signal.aborted) throw e;
      why = `podman failed (${message(e).split('\n')[0]}), falling back`;
      out.line(`    ${why}`);
    }
  }
  return netnsGuests(names, out, cleanup, report, why);
}

async function podmanGuests(
  guestNames: readonly string[],
  out: Progress,
  cleanup: Cleanup,
  report: DemoReport,
  why: string,
  signal: AbortSignal,
): Promise<Guests> {
  out.line(`▸ guests: podman containers, --net none, busybox root directory (${why})`);
  // The sandbox and its containers are one undo: destroy() removes whatever exists.
  const undo = new Cleanup();
  const sandbox = await out
    .step('private podman (own containers.conf and storage) and its Docker-compatible API', async () => {
      const sb = await PodmanSandbox.create();
      undo.push('remove the podman sandbox', () => sb.destroy());
      report.sandbox.podmanDir = sb.dir;
      await sb.startService();
      report.sandbox.podmanPids = sb.trackedPids();
      return sb;
    })
    .catch(async (e: unknown) => {
      await undo.run();
      throw e;
    });
  const pids = new Map<string, number>();
  try {
    await out.step(
      `containers ${guestNames.join(' ')}`,
      async () => {
        for (const name of guestNames) {
          if (signal.aborted) throw signal.reason;
          // Equivalent to: podman run -d --name conN --net none --rootfs ROOTFS /bin/sleep 100000
          pids.set(name, (await sandbox.runContainer(name)).pid);
          report.sandbox.podmanPids = sandbox.trackedPids();
        }
      },
      () => `ok, pids ${[...pids.values()].join(' ')}`,
    );
  } catch (e) {
    const errs = await undo.run();
    if (errs.length > 0) throw new Error(`${message(e)}; and its cleanup: ${errs.join('; ')}`);
    throw e;
  }
  cleanup.push('remove the containers and the podman sandbox', async () => {
    const errs = await undo.run();
    if (errs.length > 0) throw new Error(errs.join('; '));
  });
  report.guests = { kind: 'podman', why, names: [...guestNames] };
  return {
    kind: 'podman',
    dockerHost: sandbox.dockerHost,
    list: guestNames.map((name) => ({
      name,
      ref: { container: name },
      exec: (argv, timeoutMs, sig) => sandbox.tryPodman(['exec', name, ...argv], { timeoutMs, signal: sig }),
      netnsPrefix: () => ['nsenter', `--net=/proc/${pids.get(name) as number}/ns/net`],
    })),
  };
}

async function netnsGuests(
  guestNames: readonly string[],
  out: Progress,
  cleanup: Cleanup,
  report: DemoReport,
  why: string,
): Promise<Guests> {
  out.line(`▸ guests: plain network namespaces (${why})`);
  const names = guestNames.map((g) => `np-demo-${process.pid}-${g}`);
  await out.step(`namespaces ${names.join(' ')}`, async () => {
    for (const ns of names) {
      // Equivalent to: ip netns add NS ; ip -n NS link set lo up
      await must(['ip', 'netns', 'add', ns]);
      report.sandbox.guestNetns.push(ns);
      cleanup.push(`delete namespace ${ns}`, async () => void (await must(['ip', 'netns', 'del', ns])));
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });
  report.guests = { kind: 'netns', why, names: [...guestNames] };
  return {
    kind: 'netns',
    list: guestNames.map((name, i) => {
      const ns = names[i] as string;
      return {
        name,
        ref: { netns: ns },
        exec: (argv, timeoutMs, sig) => run(['ip', 'netns', 'exec', ns, ...argv], { timeoutMs, signal: sig }),
        netnsPrefix: () => ['ip', 'netns', 'exec', ns],
      };
    }),
  };
}

async function detachAll(plumberOf: (i: number) => Plumber, guests: DemoGuest[]): Promise<number> {
  let count = 0;
  for (const [i, g] of guests.entries()) count += (await plumberOf(i).detach({ guest: g.ref })).detached.length;
  return count;
}

/**
 * iperf3 server in `to` (one test, then it exits), client in `from`, both the host's
 * binary run in the guest's network namespace. Equivalent to:
 *   nsenter --net=/proc/PID2/ns/net iperf3 -s -1 -B 10.0.0.2 &
 *   nsenter --net=/proc/PID1/ns/net iperf3 -c 10.0.0.2 -t 3 -J
 */
async function measureThroughput(
  from: DemoGuest,
  to: DemoGuest,
  toIp: string,
  cleanup: Cleanup,
  signal: AbortSignal,
): Promise<{ from: string; to: string; seconds: number; bitsPerSecond: number; retransmits?: number }> {
  const [cmd, ...args] = [
    ...to.netnsPrefix(),
    'iperf3',
    '-s',
    '-1',
    '-B',
    toIp,
    '-p',
    String(IPERF_PORT),
    '--forceflush',
  ];
  const server = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => server.once('close', () => r()));
  let serverOut = '';
  const stopServer = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  cleanup.push('stop the iperf3 server', stopServer);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the iperf3 server did not start listening within 5 s: ${serverOut.trim()}`)),
        5000,
      );
      const onData = (d: Buffer): void => {
        serverOut += String(d);
        if (serverOut.includes('Server listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      server.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`the iperf3 server exited: ${serverOut.trim()}`));
      });
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
    const r = await run(
      [
        ...from.netnsPrefix(),
        'iperf3',
        '-c',
        toIp,
        '-p',
        String(IPERF_PORT),
        '-t',
        String(IPERF_SECONDS),
        '-J',
        '--connect-timeout',
        '3000',
      ],
      { timeoutMs: (IPERF_SECONDS + 12) * 1000, signal },
    );
    let result: {
      error?: string;
      end?: { sum_received?: { bits_per_second?: number; seconds?: number }; sum_sent?: { retransmits?: number } };
    };
    try {
      result = JSON.parse(r.stdout) as typeof result;
    } catch {
      throw new Error(`iperf3 client exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
    if (result.error !== undefined) throw new Error(`iperf3: ${result.error}`);
    const bps = result.end?.sum_received?.bits_per_second;
    if (r.code !== 0 || bps === undefined) throw new Error(`iperf3 client exited ${r.code} without a result`);
    return {
      from: from.name,
      to: to.name,
      seconds: round(result.end?.sum_received?.seconds ?? IPERF_SECONDS),
      bitsPerSecond: Math.round(bps),
      ...(result.end?.sum_sent?.retransmits !== undefined ? { retransmits: result.end.sum_sent.retransmits } : {}),
    };
  } finally {
    await stopServer();
  }
}

function formatRate(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${(bps / 1e3).toFixed(1)} kbit/s`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function message(e: unknown): string {
  if (e instanceof AggregateError) return `${e.message}: ${e.errors.map(message).join('; ')}`;
  return e instanceof Error ? e.message : String(e);
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
      // Everything is closed by now; should a handle linger anyway, do not hang the user's terminal.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`netplumb demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
