/**
 * The README's first command: netplumb doing the seed's job, end to end, on this machine.
 *
 *   node dist/demo/main.js [--json] [--guests auto|podman|netns]
 *
 * 1. a private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath) in a temp
 *    dir, inside a network namespace of its own (the emulated host: the root namespace is
 *    never changed);
 * 2. four guests con1..con4: podman containers (`--net none`, busybox root directory, a
 *    private podman storage and API service) when podman and runc are installed, plain
 *    network namespaces otherwise;
 * 3. the seed's scenario 1 through the library, one Plumber.attach per guest:
 *      pipework ovs0 con1 10.0.0.1/24 @100   …   pipework ovs0 con4 10.0.0.4/24 @200
 *    (ovs0 is created by the first attach, datapath_type=netdev), each attach timed;
 * 4. the connectivity matrix through `netplumb check` (its library call): an ICMP echo from
 *    inside each guest to every other, natively: same VLAN must reach, cross VLAN must not;
 * 5. the throughput con1 → con2 with iperf3 (`-t 3`), client and server inside the guests'
 *    namespaces (the host's iperf3 through nsenter for containers: busybox has none);
 * 6. detach everything, then remove containers, namespaces, daemons and temp dirs — also
 *    on failure and on Ctrl-C / SIGTERM.
 *
 * Exit status: 0 when the matrix matches the expectation, the throughput was measured, the
 * detach removed every port and the cleanup left nothing; 1 otherwise; 2 for a usage error
 * or when not root; 130/143/129 when interrupted (SIGINT/SIGTERM/SIGHUP).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkText } from '../src/check/report.js';
import { checkConnectivity } from '../src/check/run.js';
import { Plumber } from '../src/plumb/plumber.js';
import { renderSvg } from '../src/render/svg.js';
import { HostView } from '../src/topology/read.js';
import type { GuestRef } from '../src/plumb/spec.js';
import { must, run } from '../sandbox/exec.js';
import { startOvs, type OvsInstance } from '../sandbox/ovs.js';
import { PodmanSandbox, missingPodmanCommands } from '../sandbox/podman.js';

export type GuestKind = 'podman' | 'netns';

export interface DemoOptions {
  json: boolean;
  guests: GuestKind | 'auto';
  /** Draw the host, once attached, into this SVG file. */
  svg?: string;
}

export interface MatrixCell {
  from: string;
  to: string;
  /** Same VLAN: the echo should get a reply. */
  expected: boolean;
  reached: boolean;
  ok: boolean;
}

export interface DemoReport {
  ok: boolean;
  guests?: { kind: GuestKind; why: string; names: string[] };
  bridge: { name: string; datapathType: string };
  attachments: { guest: string; ip: string; vlan: number; hostIfname: string; ofport?: number; ms: number }[];
  matrix?: { ok: boolean; mismatches: number; cells: MatrixCell[] };
  throughput?:
    | { from: string; to: string; seconds: number; bitsPerSecond: number; retransmits?: number }
    | { error: string };
  detach?: { count: number; ms: number; portsLeft: number };
  cleanup: { ok: boolean; errors: string[] };
  /** What the demo created, so that a caller can check nothing of it is left. */
  sandbox: {
    ovsDir?: string;
    ovsNetns?: string;
    ovsPids: number[];
    podmanDir?: string;
    podmanPids: number[];
    guestNetns: string[];
  };
  durationMs: number;
  error?: string;
  interrupted?: NodeJS.Signals;
}

const BRIDGE = 'ovs0';
const GUESTS = ['con1', 'con2', 'con3', 'con4'];
const VLANS = [100, 100, 200, 200];
const ipOf = (i: number): string => `10.0.0.${i + 1}`;
const IPERF_SECONDS = 3;
const IPERF_PORT = 5201;
/** The --json report's keys, in the order printed. */
const JSON_ORDER: (keyof DemoReport)[] = [
  'ok',
  'error',
  'interrupted',
  'guests',
  'bridge',
  'attachments',
  'matrix',
  'throughput',
  'detach',
  'cleanup',
  'sandbox',
  'durationMs',
];

const USAGE = `usage: node dist/demo/main.js [--json] [--guests auto|podman|netns] [--svg FILE]

The seed's scenario 1 with netplumb: a private Open vSwitch (userspace datapath), four
guests con1..con4 attached to ovs0 with VLANs 100,100,200,200, the connectivity matrix
(netplumb check) and the throughput con1 → con2 (iperf3), then everything is removed again.

  --json           print one JSON object instead of the report
  --guests KIND    podman: podman containers; netns: plain network namespaces;
                   auto (default): podman when podman and runc are installed
  --svg FILE       also draw the attached host into FILE (= netplumb show --svg FILE)
  -h, --help       this text
`;

class UsageError extends Error {}

export function parseArgs(argv: string[]): DemoOptions | 'help' {
  const opts: DemoOptions = { json: false, guests: 'auto' };
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
    } else if (a === '--svg') {
      const v = argv[++i];
      if (v === undefined || v === '') throw new UsageError('--svg takes a file name');
      opts.svg = v;
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

/** How a guest is reached from the host: for the engine and for iperf3. */
interface DemoGuest {
  name: string;
  ref: GuestRef;
  /** argv prefix that runs a host binary in the guest's network namespace (iperf3). */
  netnsPrefix(): string[];
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
  const out = new Progress(opts.json);
  const cleanup = new Cleanup();
  const abort = new AbortController();
  const report: DemoReport = {
    ok: false,
    bridge: { name: BRIDGE, datapathType: 'netdev' },
    attachments: [],
    cleanup: { ok: false, errors: [] },
    sandbox: { ovsPids: [], podmanPids: [], guestNetns: [] },
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
    out.line("netplumb demo — the seed's scenario 1: four guests on one Open vSwitch bridge, VLANs 100 and 200");
    out.line();
    const ovs = await out.step(
      'private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace datapath)',
      async () => {
        // A stock configuration: netplumb itself makes TCP work over the userspace datapath
        // (it turns off TX checksum offload on each guest's veth).
        const o = await startOvs({ netnsName: `np-demo-${process.pid}-host` });
        cleanup.push('stop the private Open vSwitch', () => o.stop());
        report.sandbox.ovsDir = o.dir;
        report.sandbox.ovsNetns = o.netns;
        report.sandbox.ovsPids = o.alivePids();
        return o;
      },
      (o) => `ok, in namespace ${o.netns}, pids ${o.alivePids().join(' ')}`,
    );
    checkpoint();

    const guests = await createGuests(opts, out, cleanup, report, abort.signal);
    checkpoint();

    const plumber = Plumber.open({
      ovsDb: ovs.remote,
      hostNetns: { name: ovs.netns },
      datapathType: 'netdev',
      ...(guests.dockerHost ? { dockerHost: guests.dockerHost } : {}),
    });
    let attached = false;
    cleanup.push('close the engine', async () => {
      if (attached) await detachAll(plumber, guests.list).catch(() => undefined);
      await plumber.close();
    });

    out.line(`▸ attach, one Plumber.attach each (= pipework ${BRIDGE} conN 10.0.0.N/24 @VLAN)`);
    for (const [i, g] of guests.list.entries()) {
      checkpoint();
      const vlan = VLANS[i] as number;
      const t = performance.now();
      attached = true;
      const r = await plumber.attach({
        host: BRIDGE,
        createBridge: true,
        guest: g.ref,
        ip: { kind: 'static', address: `${ipOf(i)}/24` },
        vlan,
      });
      const ms = performance.now() - t;
      report.attachments.push({
        guest: g.name,
        ip: `${ipOf(i)}/24`,
        vlan,
        hostIfname: r.record.hostIfname,
        ...(r.ofport !== undefined ? { ofport: r.ofport } : {}),
        ms: round(ms),
      });
      out.line(
        `    ${g.name}  ${ipOf(i)}/24  VLAN ${vlan}  → ${BRIDGE} port ${r.record.hostIfname.padEnd(15)} ofport ${String(r.ofport ?? '?').padEnd(3)} ${ms.toFixed(1).padStart(6)} ms${i === 0 ? `  (includes creating ${BRIDGE}, datapath netdev, and the OVSDB connection)` : ''}`,
      );
    }
    const later = report.attachments
      .slice(1)
      .map((a) => a.ms)
      .sort((a, b) => a - b);
    if (later.length > 0)
      out.line(
        `    median of the attaches to the existing bridge: ${(later[Math.floor(later.length / 2)] as number).toFixed(1)} ms`,
      );
    checkpoint();

    const checked = await out.step(
      'connectivity: netplumb check (an ICMP echo from inside each guest to every other, no ping process)',
      () => checkMatrix(ovs, guests.dockerHost, opts.svg),
      (m) => `${m.matrix.cells.length - m.matrix.mismatches}/${m.matrix.cells.length} as expected`,
    );
    report.matrix = checked.matrix;
    out.line();
    for (const l of checked.text.trimEnd().split('\n')) out.line(l === '' ? '' : `  ${l}`);
    out.line();
    checkpoint();

    report.throughput = await out.step(
      `throughput con1 → con2 (iperf3 -t ${IPERF_SECONDS}, TCP, VLAN 100, through ovs0)`,
      () =>
        measureThroughput(guests.list[0] as DemoGuest, guests.list[1] as DemoGuest, cleanup, abort.signal).catch(
          (e: unknown) => {
            if (abort.signal.aborted) throw e;
            return { error: message(e) };
          },
        ),
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
        const count = await detachAll(plumber, guests.list);
        const ms = performance.now() - t;
        attached = false;
        const portsLeft = (await ovs.vsctl(['list-ports', BRIDGE])).split('\n').filter(Boolean).length;
        return { count, ms: round(ms), portsLeft };
      },
      (d) => `${d.count} attachments removed in ${d.ms.toFixed(1)} ms; ${BRIDGE} has ${d.portsLeft} ports left`,
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
    `clean up: ${made}, Open vSwitch, temp dirs`,
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
    report.detach !== undefined && report.detach.count === GUESTS.length && report.detach.portsLeft === 0;
  report.ok = report.error === undefined && report.matrix?.ok === true && measured && detached && report.cleanup.ok;
  if (opts.json) {
    // The verdict first, then what was done in order (JSON.stringify leaves out what is undefined).
    const ordered = Object.fromEntries(JSON_ORDER.map((k) => [k, report[k]]));
    process.stdout.write(`${JSON.stringify(ordered)}\n`);
  } else {
    out.line();
    out.line(verdict(report, measured, detached));
  }
  if (report.interrupted) return report.interrupted === 'SIGINT' ? 130 : report.interrupted === 'SIGTERM' ? 143 : 129;
  return report.ok ? 0 : 1;
}

function verdict(r: DemoReport, measured: boolean, detached: boolean): string {
  if (r.ok) {
    const t = r.throughput as { bitsPerSecond: number };
    return `PASS: same-VLAN guests reach each other, cross-VLAN guests are isolated; con1 → con2 ${formatRate(t.bitsPerSecond)}; everything removed (${seconds(r.durationMs)})`;
  }
  const why = [
    ...(r.error !== undefined ? [r.error] : []),
    ...(r.matrix && !r.matrix.ok ? [`${r.matrix.mismatches} cell(s) of the matrix differ from the expectation`] : []),
    ...(r.error === undefined && !measured ? ['the throughput was not measured'] : []),
    ...(r.error === undefined && !detached
      ? [
          `detach removed ${r.detach?.count ?? 0} of ${GUESTS.length} attachments, ${r.detach?.portsLeft ?? '?'} ports left`,
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
  out: Progress,
  cleanup: Cleanup,
  report: DemoReport,
  signal: AbortSignal,
): Promise<Guests> {
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
      return await podmanGuests(out, cleanup, report, why, signal);
    } catch (e) {
      if (opts.guests !== 'auto' || signal.aborted) throw e;
      why = `podman failed (${message(e).split('\n')[0]}), falling back`;
      out.line(`    ${why}`);
    }
  }
  return netnsGuests(out, cleanup, report, why);
}

async function podmanGuests(
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
      `containers ${GUESTS.join(' ')}`,
      async () => {
        for (const name of GUESTS) {
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
  report.guests = { kind: 'podman', why, names: GUESTS };
  return {
    kind: 'podman',
    dockerHost: sandbox.dockerHost,
    list: GUESTS.map((name) => ({
      name,
      ref: { container: name },
      netnsPrefix: () => ['nsenter', `--net=/proc/${pids.get(name) as number}/ns/net`],
    })),
  };
}

async function netnsGuests(out: Progress, cleanup: Cleanup, report: DemoReport, why: string): Promise<Guests> {
  out.line(`▸ guests: plain network namespaces (${why})`);
  const names = GUESTS.map((g) => `np-demo-${process.pid}-${g}`);
  await out.step(`namespaces ${names.join(' ')}`, async () => {
    for (const ns of names) {
      // Equivalent to: ip netns add NS ; ip -n NS link set lo up
      await must(['ip', 'netns', 'add', ns]);
      report.sandbox.guestNetns.push(ns);
      cleanup.push(`delete namespace ${ns}`, async () => void (await must(['ip', 'netns', 'del', ns])));
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });
  report.guests = { kind: 'netns', why, names: GUESTS };
  return {
    kind: 'netns',
    list: GUESTS.map((name, i) => {
      const ns = names[i] as string;
      return {
        name,
        ref: { netns: ns },
        netnsPrefix: () => ['ip', 'netns', 'exec', ns],
      };
    }),
  };
}

async function detachAll(plumber: Plumber, guests: DemoGuest[]): Promise<number> {
  let count = 0;
  for (const g of guests) count += (await plumber.detach({ guest: g.ref })).detached.length;
  return count;
}

/** The guest a check names (`con1`, or the namespace `np-demo-PID-con1`), as the demo names it. */
function demoName(guest: string): string {
  return GUESTS.find((g) => guest === g || guest.endsWith(`-${g}`)) ?? guest;
}

/**
 * The matrix through netplumb check's library call, on the emulated host: what
 * `ip netns exec HOST netplumb check` prints. Equivalent to: netplumb check --json
 */
async function checkMatrix(
  ovs: OvsInstance,
  dockerHost: string | undefined,
  svg: string | undefined,
): Promise<{ matrix: NonNullable<DemoReport['matrix']>; text: string }> {
  const view = HostView.open({
    ovsDb: ovs.remote,
    hostNetns: { name: ovs.netns },
    ...(dockerHost !== undefined ? { dockerHost } : {}),
  });
  try {
    // Equivalent to: netplumb show --svg FILE
    if (svg !== undefined) writeFileSync(svg, renderSvg(await view.topology()));
    const rep = await checkConnectivity(view);
    const guest = new Map(rep.attachments.map((a) => [a.id, demoName(a.guest)]));
    const cells = rep.pairs.map(
      (p): MatrixCell => ({
        from: guest.get(p.from) ?? p.from,
        to: guest.get(p.to) ?? p.to,
        expected: p.expected,
        reached: p.reached === true,
        ok: p.verdict === 'ok',
      }),
    );
    const mismatches = cells.filter((c) => !c.ok).length;
    const whole = cells.length === GUESTS.length * (GUESTS.length - 1);
    return { matrix: { ok: rep.verdict === 'match' && whole, mismatches, cells }, text: checkText(rep) };
  } finally {
    await view.close();
  }
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
  cleanup: Cleanup,
  signal: AbortSignal,
): Promise<{ from: string; to: string; seconds: number; bitsPerSecond: number; retransmits?: number }> {
  const toIp = ipOf(GUESTS.indexOf(to.name));
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
