/**
 * Soak: attach/detach cycles against a real private Open vSwitch while faults are injected
 * at random (faults.md E5), through the library, the daemon and the CLI at once; then
 * everything is detached and collected, and the leak oracles must find nothing.
 *
 * Faults: ovsdb-server restarted; ovs-vswitchd stopped and started again; ovsdb-server
 * frozen (SIGSTOP) past the request deadline, then resumed; a container's namespace
 * destroyed while it is being attached (its holder killed), and a fresh one made under
 * the same name. Every failed operation must be a NetplumbError with a known code and a
 * message; a worker whose cycle failed detaches its guest again before going on.
 *
 * `npm run soak` runs 10,000 cycles (NETPLUMB_SOAK_CYCLES); the default test run has a
 * two-minute version (test/privileged/soak.test.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetplumbError } from '../../src/errors.js';
import { Plumber } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import type { Engine } from '../../src/engine/engine.js';
import { DirectEngine } from '../../src/engine/engine.js';
import { startOvs, type OvsInstance } from '../../sandbox/ovs.js';
import { rng } from '../helpers/rng.js';

export interface SoakOptions {
  /** Stop after this many attach+detach cycles … */
  cycles: number;
  /** … or after this long, whichever comes first. */
  maxDurationMs: number;
  /** Guests (namespaces), and workers cycling over them. */
  guests: number;
  workers: number;
  /** Mean time between two injected faults. */
  faultEveryMs: number;
  /** One cycle in this many goes through the CLI (a cold `bin/netplumb` process). */
  cliEvery: number;
  seed: number;
  progress?: (line: string) => void;
}

export interface SoakReport {
  cycles: number;
  durationMs: number;
  /** Failed operations by NetplumbError code (expected under faults). */
  errorsByCode: Record<string, number>;
  /** Failures that were not a NetplumbError with a code and a message: must stay empty. */
  untyped: string[];
  faults: Record<string, number>;
  byEngine: Record<string, number>;
  /** Open fds of this process, sampled during the run. */
  fds: { before: number; after: number; max: number };
  /** [seconds since start, RSS MB] samples. */
  rssMb: [number, number][];
  /** What the oracles found left after the final detach + gc: must all be empty. */
  leftovers: { hostLinks: string[]; ovsPorts: string[]; namespaces: string[]; processes: number[] };
}

const ERROR_CODES = new Set([
  'UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'DATAPLANE_APPLY_FAILED',
  'NAMESPACE_GONE',
  'PARTIAL_CLEANUP_FAILED',
  'NOT_FOUND',
  'CONFLICT',
  'ALREADY_EXISTS',
  'IDENTITY_MISMATCH',
  'PROTOCOL',
]);
const ROOT = join(__dirname, '..', '..', '..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fdCount = () => readdirSync('/proc/self/fd').length;
const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Equivalent to: ip -batch with one `netns add|del NAME` line per guest. */
function netnsBatch(verb: 'add' | 'del', names: string[], dir: string): void {
  if (names.length === 0) return;
  writeFileSync(join(dir, 'netns'), names.map((n) => `netns ${verb} ${n}\n`).join(''));
  execFileSync('ip', ['-force', '-batch', join(dir, 'netns')], { stdio: 'ignore' });
}

/** A cold CLI process as the engine: `bin/netplumb attach|detach --json` through the daemon. */
function cliEngine(socket: string, ovs: OvsInstance): Pick<Engine, 'attach' | 'detach'> {
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      // Inside the emulated host, so that even a command acting without the daemon stays there.
      const child = spawn('ip', ['netns', 'exec', ovs.netns, join(ROOT, 'bin', 'netplumb'), ...args, '--json'], {
        env: { ...process.env, NETPLUMB_SOCKET: socket, OVS_RUNDIR: ovs.dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) return resolve();
        // --json errors carry the taxonomy code on stdout: rebuild the typed error from them.
        const line =
          out
            .trim()
            .split('\n')
            .find((l) => l.startsWith('{"ok":false')) ?? '';
        try {
          const j = JSON.parse(line) as { error?: { code?: string; message?: string } };
          if (j.error?.code !== undefined && j.error.message !== undefined)
            return reject(new NetplumbError(j.error.code as NetplumbError['code'], j.error.message));
        } catch {
          /* not JSON: untyped */
        }
        reject(new Error(`netplumb ${args[0]} exited ${code}: ${out}`));
      });
    });
  return {
    attach: async (s: AttachSpec) => {
      const g = s.guest as { netns: string };
      const ipArg = s.ip.kind === 'static' ? ['--ip', s.ip.address] : [];
      await run([
        'attach',
        '--bridge',
        s.host,
        '--container',
        `netns:${g.netns}`,
        ...ipArg,
        ...(s.vlan !== undefined ? ['--vlan', String(s.vlan)] : []),
      ]);
      return undefined as never;
    },
    detach: async (req) => {
      await run(['detach', '--container', `netns:${(req.guest as { netns: string }).netns}`, '--all']);
      return undefined as never;
    },
  };
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const rand = rng(opts.seed);
  const dir = mkdtempSync(join(tmpdir(), 'np-soak-'));
  const names = Array.from({ length: opts.guests }, (_, i) => `np-soak-${process.pid}-${i}`);
  const report: SoakReport = {
    cycles: 0,
    durationMs: 0,
    errorsByCode: {},
    untyped: [],
    faults: {},
    byEngine: {},
    fds: { before: fdCount(), after: 0, max: 0 },
    rssMb: [],
    leftovers: { hostLinks: [], ovsPorts: [], namespaces: [], processes: [] },
  };
  const ovs = await startOvs({ withVswitchd: true });
  let daemon: Daemon | undefined;
  let client: DaemonClient | undefined;
  const plumberOptions = { ovsDb: ovs.remote, hostNetns: { name: ovs.netns }, applyTimeoutMs: 5000 };
  const direct = new DirectEngine(Plumber.open(plumberOptions));
  const t0 = Date.now();
  try {
    await ovs.addBridge('ovs0');
    netnsBatch('add', names, dir);
    const socket = join(dir, 'run', 'netplumb.sock');
    daemon = await startDaemon({ socketPath: socket, plumberOptions });
    client = await DaemonClient.connect(socket, { requestTimeoutMs: 30_000 });
    const cli = cliEngine(socket, ovs);
    const engines: [string, Pick<Engine, 'attach' | 'detach'>][] = [
      ['library', direct],
      ['daemon', client],
    ];
    const pick = (): [string, Pick<Engine, 'attach' | 'detach'>] =>
      rand() * opts.cliEvery < 1 ? ['cli', cli] : (engines[rand() < 0.5 ? 0 : 1] as [string, Engine]);

    const busy = new Set<number>();
    let stop = false;
    const deadline = t0 + opts.maxDurationMs;
    const note = (e: unknown) => {
      if (e instanceof NetplumbError && ERROR_CODES.has(e.code) && e.message.length > 0)
        report.errorsByCode[e.code] = (report.errorsByCode[e.code] ?? 0) + 1;
      else report.untyped.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    };
    const spec = (i: number): AttachSpec => ({
      host: 'ovs0',
      guest: { netns: names[i] as string },
      vlan: 100 + (i % 4),
      ip: { kind: 'static', address: `10.77.${i >> 8}.${i & 255 || 1}/16` },
    });

    const worker = async () => {
      while (!stop && report.cycles < opts.cycles && Date.now() < deadline) {
        const free = names.map((_, i) => i).filter((i) => !busy.has(i));
        const i = free[Math.floor(rand() * free.length)];
        if (i === undefined) {
          await sleep(5);
          continue;
        }
        busy.add(i);
        const [label, engine] = pick();
        report.byEngine[label] = (report.byEngine[label] ?? 0) + 1;
        try {
          await engine.attach(spec(i));
          await engine.detach({ guest: spec(i).guest });
        } catch (e) {
          note(e);
          // Back to "nothing attached" before this guest is used again.
          for (let k = 0; k < 20; k++) {
            try {
              await direct.detach({ guest: spec(i).guest });
              break;
            } catch (e2) {
              note(e2);
              await sleep(250);
            }
          }
        } finally {
          busy.delete(i);
        }
        report.cycles++;
      }
    };

    const faults = async () => {
      const kinds = ['restart-ovsdb', 'restart-vswitchd', 'freeze-ovsdb', 'kill-guest'] as const;
      while (!stop) {
        await sleep(opts.faultEveryMs * (0.5 + rand()));
        if (stop) break;
        const kind = kinds[Math.floor(rand() * kinds.length)] as (typeof kinds)[number];
        report.faults[kind] = (report.faults[kind] ?? 0) + 1;
        switch (kind) {
          case 'restart-ovsdb':
            await ovs.restartDb();
            break;
          case 'restart-vswitchd':
            await ovs.stopVswitchd();
            await sleep(500);
            await ovs.startVswitchd();
            break;
          case 'freeze-ovsdb': {
            const pid = ovs.dbPid();
            process.kill(pid, 'SIGSTOP');
            await sleep(1500);
            process.kill(pid, 'SIGCONT');
            break;
          }
          case 'kill-guest': {
            // The namespace goes away under whatever is using it; a new one takes its name.
            const name = names[Math.floor(rand() * names.length)] as string;
            netnsBatch('del', [name], dir);
            netnsBatch('add', [name], dir);
            break;
          }
        }
      }
    };

    const sampler = setInterval(() => {
      const fds = fdCount();
      report.fds.max = Math.max(report.fds.max, fds);
      report.rssMb.push([Math.round((Date.now() - t0) / 1000), Math.round(process.memoryUsage().rss / 2 ** 20)]);
      opts.progress?.(
        `${report.cycles} cycles, ${Math.round((Date.now() - t0) / 1000)} s, fds ${fds}, errors ${JSON.stringify(report.errorsByCode)}`,
      );
    }, 5000);
    const faulting = faults();
    try {
      await Promise.all(Array.from({ length: opts.workers }, worker));
    } finally {
      stop = true;
      clearInterval(sampler);
      await faulting;
    }
    report.durationMs = Date.now() - t0;

    // Settle: every guest detached, then what dead guests left is collected.
    for (let i = 0; i < names.length; i++) {
      try {
        await direct.detach({ guest: spec(i).guest });
      } catch (e) {
        note(e);
      }
    }
    await direct.gc({ graceSeconds: 0 }); // no attach is running any more
  } finally {
    await client?.close();
    await daemon?.close();
    await direct.close();
    report.leftovers.hostLinks = (
      JSON.parse(ip(['-json', '-n', ovs.netns, 'link', 'show', 'type', 'veth'])) as { ifname: string }[]
    ).map((l) => l.ifname);
    report.leftovers.ovsPorts = (await ovs.vsctl(['list-ports', 'ovs0']).catch(() => '')).split('\n').filter(Boolean);
    netnsBatch('del', names, dir);
    report.leftovers.namespaces = readdirSync('/run/netns').filter((n) => n.startsWith(`np-soak-${process.pid}-`));
    await ovs.stop();
    report.leftovers.processes = ovs.alivePids();
    rmSync(dir, { recursive: true, force: true });
    report.fds.after = fdCount();
  }
  return report;
}
