/**
 * `netplumb serve` as the benchmarks run it: started in the background, stopped gracefully,
 * and watched from outside through /proc (its resident memory, the child processes it starts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A daemon started by startDaemon: its process and what it wrote to stderr so far. */
export interface DaemonProcess {
  child: ChildProcess;
  stderr(): string;
}

/** `netplumb serve` in the background (`argv` is the whole command line); resolves once its socket is there. */
export async function startDaemon(argv: string[], env: NodeJS.ProcessEnv, socket: string): Promise<DaemonProcess> {
  let err = '';
  const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`netplumb serve exited ${child.exitCode}: ${err}`);
    if (existsSync(socket)) return { child, stderr: () => err };
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  throw new Error(`netplumb serve did not listen on ${socket} within 4 s: ${err}`);
}

/** SIGTERM (the daemon finishes in-flight work and exits), SIGKILL after 5 s. */
export async function stopDaemon(daemon: DaemonProcess | undefined): Promise<void> {
  const child = daemon?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** A field of /proc/<pid>/status given in kB (VmRSS, VmHWM…), in MiB. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** The pids of the live children of process `pid`, from every thread's /proc/<pid>/task/<tid>/children (none once it is gone). */
export function childPids(pid: number): number[] {
  const pids: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return pids; // the process ended: whoever uses it finds out
  }
  for (const tid of tids) {
    try {
      pids.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return pids;
}

/**
 * Every child process of `pid` seen while watching: /proc is sampled every `intervalMs`
 * and once more on stop, so a child that lives at least that long is counted (any
 * `ip` or `ovs-vsctl` run does).
 */
export function watchChildren(pid: number, intervalMs = 10): { stop(): number[] } {
  const seen = new Set<number>(childPids(pid));
  const sample = () => {
    for (const c of childPids(pid)) seen.add(c);
  };
  const timer = setInterval(sample, intervalMs).unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return [...seen];
    },
  };
}
