/**
 * One Open vSwitch-style daemon (ovsdb-server, ovs-vswitchd; ovn-northd and ovn-controller
 * take the same options) run the way every sandbox runs them: inside a namespace, detached,
 * with its pidfile, log and run files in the sandbox's dir:
 *   ip netns exec NETNS PROGRAM --pidfile=DIR/NAME.pid --detach --log-file=DIR/NAME.log ARGS…
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './exec.js';
import type { SandboxNetns } from './netns.js';
import { commandLine, isAlive, signalIfAlive, waitForExit } from './process.js';

/** The environment that keeps the OVS tools' run, log, database and config files in `dir`. */
export function ovsEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVS_SYSCONFDIR: dir,
    OVS_PKGDATADIR: '/usr/share/openvswitch',
  };
}

export interface OvsDaemonOptions {
  /** Names the pidfile and the log: `DIR/NAME.pid`, `DIR/NAME.log`. */
  name: string;
  program: string;
  /** Arguments after the common ones (options, then the positional ones). */
  args: string[];
  dir: string;
  /** The namespace it runs in (only `exec` is used: the namespace is the caller's to remove). */
  netns: Pick<SandboxNetns, 'exec'>;
  /** Default: ovsEnv(dir). */
  env?: NodeJS.ProcessEnv;
}

export interface OvsDaemon {
  readonly name: string;
  /** The pid in the pidfile (throws when the daemon never started). */
  pid(): number;
  /** Start it (again) and wait until it has detached and written its pidfile. */
  start(): Promise<void>;
  /** Send `signal` (default SIGTERM) and wait for the exit; nothing when it is not running. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Every pid this daemon had so far that is still alive. */
  alivePids(): number[];
  /**
   * Stop every process it had (SIGCONT, then SIGTERM; SIGKILL after 5 s) — also one that
   * detached but whose start was interrupted before its pid was recorded.
   */
  reap(): Promise<void>;
}

export function ovsDaemon(o: OvsDaemonOptions): OvsDaemon {
  const pidfile = join(o.dir, `${o.name}.pid`);
  const env = o.env ?? ovsEnv(o.dir);
  const started = new Set<number>();
  const pid = (): number => Number(readFileSync(pidfile, 'utf8').trim());
  return {
    name: o.name,
    pid,
    start: async () => {
      await must(
        o.netns.exec([
          o.program,
          `--pidfile=${pidfile}`,
          '--detach',
          `--log-file=${join(o.dir, `${o.name}.log`)}`,
          ...o.args,
        ]),
        { env },
      );
      started.add(pid());
    },
    stop: async (signal = 'SIGTERM') => {
      let p: number;
      try {
        p = pid();
      } catch {
        return; // never started
      }
      if (!isAlive(p)) return;
      process.kill(p, signal);
      await waitForExit(p);
    },
    alivePids: () => [...started].filter(isAlive),
    reap: async () => {
      try {
        const p = pid();
        if (p > 0 && isAlive(p) && commandLine(p).includes(o.dir)) started.add(p);
      } catch {
        /* no pidfile: never started */
      }
      const errors: unknown[] = [];
      for (const p of started) {
        signalIfAlive(p, 'SIGCONT');
        signalIfAlive(p, 'SIGTERM');
        await waitForExit(p).catch((e: unknown) => errors.push(e));
      }
      if (errors.length > 0) throw new AggregateError(errors, `${o.program} (${o.dir}) did not exit`);
    },
  };
}
