/**
 * A private Open vSwitch: ovsdb-server and (optionally) ovs-vswitchd with the userspace
 * datapath, in a temp dir, running inside a network namespace created for it. Nothing
 * touches /run/openvswitch or the root namespace; stop() kills by pidfile pid, waits for
 * the exit, removes the namespace and the dir.
 *
 * Used by the demo (src/demo) and the test beds (test/helpers/ovs.ts). Not the hot path:
 * the daemons and `ip netns` run as processes (argv arrays, never a shell).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must } from './exec.js';

export interface OvsInstance {
  dir: string;
  /** `unix:<dir>/db.sock` */
  remote: string;
  /** The network namespace the daemons run in. */
  netns: string;
  /** Run `ovs-vsctl --db=<remote> --timeout=10 ARGS…` and return its stdout. */
  vsctl(args: string[]): Promise<string>;
  /** `ovs-vsctl add-br NAME -- set Bridge NAME datapath_type=netdev` */
  addBridge(name: string): Promise<void>;
  dbPid(): number;
  /** Stop (SIGTERM, or the given signal) and wait for the exit. */
  stopDb(signal?: NodeJS.Signals): Promise<void>;
  startDb(): Promise<void>;
  restartDb(): Promise<void>;
  stopVswitchd(): Promise<void>;
  startVswitchd(): Promise<void>;
  /** Every daemon pid started so far that is still alive. */
  alivePids(): number[];
  stop(): Promise<void>;
}

export interface StartOvsOptions {
  /** Name of the namespace to create (default `np-ovs-<pid>-<n>`); it must not exist. */
  netnsName?: string;
  withVswitchd?: boolean;
  /**
   * `Open_vSwitch . other_config` keys set before ovs-vswitchd starts, e.g.
   * `{ 'userspace-tso-enable': 'true' }` (read once, at the daemon's start).
   */
  otherConfig?: Record<string, string>;
}

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const BINARIES = ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ip'];
const PATH_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
let counter = 0;

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return must([cmd, ...args], env ? { env } : {});
}

/** Throw a clear error when a binary (or the OVS schema) is missing. */
export function requireBinaries(names: string[] = BINARIES): void {
  for (const b of names) {
    if (!PATH_DIRS.some((d) => existsSync(join(d, b))))
      throw new Error(
        `required binary "${b}" is not installed (a private Open vSwitch needs Open vSwitch 3.x and iproute2: bash .ci/setup)`,
      );
  }
  if (!existsSync(SCHEMA)) throw new Error(`OVS schema ${SCHEMA} is missing`);
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until the process is gone; SIGKILL it after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > end) {
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 50));
      if (isAlive(pid)) throw new Error(`process ${pid} did not exit`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Equivalent to (D a fresh temp dir, N a fresh namespace):
 *   ip netns add N ; ip -n N link set lo up
 *   ovsdb-tool create D/conf.db vswitch.ovsschema
 *   ip netns exec N ovsdb-server --remote=punix:D/db.sock --pidfile=D/ovsdb.pid --detach …
 *   ovs-vsctl --db=unix:D/db.sock --no-wait init
 *   ovs-vsctl --db=unix:D/db.sock --no-wait set Open_vSwitch . other_config:K=V …   (otherConfig)
 *   ip netns exec N ovs-vswitchd unix:D/db.sock --pidfile=D/vswitchd.pid --detach …
 * On failure everything started so far is stopped and removed again.
 */
export async function startOvs(opts: StartOvsOptions = {}): Promise<OvsInstance> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'np-ovs-'));
  const netns = opts.netnsName ?? `np-ovs-${process.pid}-${++counter}`;
  const env = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVS_SYSCONFDIR: dir,
    OVS_PKGDATADIR: '/usr/share/openvswitch',
  };
  const remote = `unix:${join(dir, 'db.sock')}`;
  const started = new Set<number>();
  const pidOf = (name: string): number => Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim());
  const inNs = (args: string[]): Promise<string> => run('ip', ['netns', 'exec', netns, ...args], env);
  const vsctl = (args: string[]): Promise<string> => run('ovs-vsctl', [`--db=${remote}`, '--timeout=10', ...args], env);
  let vswitchd = false;
  let netnsCreated = false;

  const startDb = async (): Promise<void> => {
    await inNs([
      'ovsdb-server',
      `--remote=punix:${join(dir, 'db.sock')}`,
      `--pidfile=${join(dir, 'ovsdb.pid')}`,
      '--detach',
      `--log-file=${join(dir, 'ovsdb.log')}`,
      join(dir, 'conf.db'),
    ]);
    started.add(pidOf('ovsdb'));
  };
  const stopDb = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const pid = pidOf('ovsdb');
    if (!isAlive(pid)) return;
    process.kill(pid, signal);
    await waitForExit(pid);
  };
  const startVswitchd = async (): Promise<void> => {
    await inNs([
      'ovs-vswitchd',
      remote,
      `--pidfile=${join(dir, 'vswitchd.pid')}`,
      '--detach',
      `--log-file=${join(dir, 'vswitchd.log')}`,
    ]);
    started.add(pidOf('vswitchd'));
    vswitchd = true;
  };
  const stopVswitchd = async (): Promise<void> => {
    if (!vswitchd) return;
    vswitchd = false;
    const pid = pidOf('vswitchd');
    if (!isAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    await waitForExit(pid);
  };
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    // A daemon that detached but whose pid was not recorded yet (start interrupted) still has its pidfile.
    for (const name of ['ovsdb', 'vswitchd']) {
      try {
        const pid = pidOf(name);
        if (pid > 0 && isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) started.add(pid);
      } catch {
        /* no pidfile: never started */
      }
    }
    for (const pid of started) {
      try {
        if (isAlive(pid)) {
          process.kill(pid, 'SIGCONT');
          process.kill(pid, 'SIGTERM');
        }
        await waitForExit(pid);
      } catch (e) {
        errors.push(e);
      }
    }
    if (netnsCreated) {
      await run('ip', ['netns', 'del', netns]).then(
        () => {
          netnsCreated = false;
        },
        (e: unknown) => {
          errors.push(e);
        },
      );
    }
    rmSync(dir, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, `private Open vSwitch cleanup failed for ${dir}`);
  };

  try {
    await run('ip', ['netns', 'add', netns]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  netnsCreated = true;
  try {
    await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    await run('ovsdb-tool', ['create', join(dir, 'conf.db'), SCHEMA], env);
    await startDb();
    await vsctl(['--no-wait', 'init']);
    const other = Object.entries(opts.otherConfig ?? {});
    if (other.length > 0)
      await vsctl(['--no-wait', 'set', 'Open_vSwitch', '.', ...other.map(([k, v]) => `other_config:${k}=${v}`)]);
    if (opts.withVswitchd ?? true) await startVswitchd();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return {
    dir,
    remote,
    netns,
    vsctl,
    addBridge: async (name) => {
      await vsctl([
        ...(vswitchd ? [] : ['--no-wait']),
        'add-br',
        name,
        '--',
        'set',
        'Bridge',
        name,
        'datapath_type=netdev',
      ]);
    },
    dbPid: () => pidOf('ovsdb'),
    stopDb,
    startDb,
    restartDb: async () => {
      await stopDb();
      await startDb();
    },
    stopVswitchd,
    startVswitchd,
    alivePids: () => [...started].filter(isAlive),
    stop,
  };
}
