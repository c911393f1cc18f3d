/**
 * Waiting for a `netplumb serve` that a test started: until its socket answers a ping. The
 * socket file alone says too little: it exists from bind(2) on, a moment before listen(2)
 * (a connection then is refused), and a stale one left by a killed predecessor may still
 * be there. And starting one: `spawnDaemonInNetns`, `serveInNetns`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitForExit } from '../../sandbox/process.js';
import { DaemonClient } from '../../src/daemon/client.js';

/** True once the daemon at `sock` answers; false if `child` exits or `timeoutMs` passes first. */
export async function daemonAnswers(sock: string, child: ChildProcess, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    try {
      const client = await DaemonClient.connect(sock, { connectTimeoutMs: 1000 });
      try {
        await client.ping(1000);
        return true;
      } finally {
        await client.close();
      }
    } catch {
      // not there yet, or not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** A daemon child process a test started (`netplumb serve`, or a test program serving the same socket). */
export interface ServedDaemon {
  sock: string;
  child: ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** Its pino log lines so far (--foreground, or $NETPLUMB_LOG). */
  log(): Record<string, unknown>[];
  /** SIGTERM (or `signal`; SIGKILL after 10 s), and wait until it is gone; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The installed-layout launcher of the CLI, from dist/test/helpers. */
export const NETPLUMB_BIN = join(__dirname, '..', '..', '..', 'bin', 'netplumb');

/**
 * `ip netns exec NETNS node SCRIPT ARGS…` with `env` over this process's environment, once
 * its socket `sock` answers (else it is killed and this throws with its stderr).
 */
export async function spawnDaemonInNetns(
  netns: string,
  sock: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServedDaemon> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const served: ServedDaemon = {
    sock,
    child,
    stderr: () => stderr,
    log: () => jsonLines(stderr),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      await waitForExit(child.pid as number);
      return code;
    },
  };
  if (await daemonAnswers(sock, child)) return served;
  await served.stop('SIGKILL');
  throw new Error(`the daemon on ${sock} did not come up: ${stderr.slice(-3000)}`);
}

/** The JSON lines (pino's) of a log, parsed. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * `ip netns exec NETNS node bin/netplumb serve --socket SOCK [--ovs-db REMOTE] --foreground ARGS…`
 * (logging at debug level unless `env` says otherwise), once its socket answers.
 */
export function serveInNetns(
  netns: string,
  ovsDb: string | undefined,
  sock: string,
  opts: { args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<ServedDaemon> {
  const remote = ovsDb === undefined ? [] : ['--ovs-db', ovsDb];
  return spawnDaemonInNetns(
    netns,
    sock,
    NETPLUMB_BIN,
    ['serve', '--socket', sock, ...remote, '--foreground', ...(opts.args ?? [])],
    { NETPLUMB_LOG: 'debug', ...opts.env },
  );
}
