/**
 * A private Open vSwitch: an emulated host — a network namespace created for it, running
 * ovsdb-server and (optionally) ovs-vswitchd with the userspace datapath, their files in a
 * temp dir. Nothing touches /run/openvswitch or the root namespace; stop() stops the
 * daemons, waits for their exit, removes the namespace and the dir.
 *
 * Used by the demo, the tests and the benchmarks. Not the hot path: the daemons and `ip`
 * run as processes (argv arrays, never a shell).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from './commands.js';
import { must } from './exec.js';
import { createNetns, type SandboxNetns } from './netns.js';
import { ovsEnv } from './ovs-daemon.js';
import { createOvsdbServer } from './ovsdb-server.js';
import { ovsVswitchd } from './ovs-vswitchd.js';

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

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const SETUP_HINT = 'a private Open vSwitch needs Open vSwitch 3.x and iproute2: bash .ci/setup';
let counter = 0;

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
  requireCommands(
    ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ip'],
    'a private Open vSwitch',
    SETUP_HINT,
  );
  if (!existsSync(VSWITCH_SCHEMA)) throw new Error(`the OVS schema ${VSWITCH_SCHEMA} is missing: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'np-ovs-'));
  let netns: SandboxNetns;
  try {
    netns = await createNetns(opts.netnsName ?? `np-ovs-${process.pid}-${++counter}`);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const daemons: { reap(): Promise<void>; alivePids(): number[] }[] = [];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const d of daemons) await d.reap().catch((e: unknown) => errors.push(e));
    await netns.remove().catch((e: unknown) => errors.push(e));
    rmSync(dir, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, `private Open vSwitch cleanup failed for ${dir}`);
  };
  try {
    const db = await createOvsdbServer({ dir, netns, schema: VSWITCH_SCHEMA });
    daemons.push(db);
    const vswitchd = ovsVswitchd({ dir, netns, remote: db.remote });
    daemons.push(vswitchd);
    let vswitchdRunning = false;
    const vsctl = (args: string[]): Promise<string> =>
      must(['ovs-vsctl', `--db=${db.remote}`, '--timeout=10', ...args], { env: ovsEnv(dir) });

    await db.start();
    await vsctl(['--no-wait', 'init']);
    const other = Object.entries(opts.otherConfig ?? {});
    if (other.length > 0)
      await vsctl(['--no-wait', 'set', 'Open_vSwitch', '.', ...other.map(([k, v]) => `other_config:${k}=${v}`)]);
    const startVswitchd = async (): Promise<void> => {
      await vswitchd.start();
      vswitchdRunning = true;
    };
    if (opts.withVswitchd ?? true) await startVswitchd();
    return {
      dir,
      remote: db.remote,
      netns: netns.name,
      vsctl,
      addBridge: async (name) => {
        await vsctl([
          ...(vswitchdRunning ? [] : ['--no-wait']),
          'add-br',
          name,
          '--',
          'set',
          'Bridge',
          name,
          'datapath_type=netdev',
        ]);
      },
      dbPid: db.pid,
      stopDb: db.stop,
      startDb: db.start,
      restartDb: async () => {
        await db.stop();
        await db.start();
      },
      stopVswitchd: async () => {
        if (!vswitchdRunning) return;
        vswitchdRunning = false;
        await vswitchd.stop();
      },
      startVswitchd,
      alivePids: () => daemons.flatMap((d) => d.alivePids()),
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
