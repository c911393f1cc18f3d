/**
 * Waiting for a `netplumb serve` that a test started: until its socket answers a ping. The
 * socket file alone says too little: it exists from bind(2) on, a moment before listen(2)
 * (a connection then is refused), and a stale one left by a killed predecessor may still
 * be there. And starting one: `serveInNetns`.
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

/** A `netplumb serve` child process a test started. */
export interface ServedDaemon {
  sock: string;
  child: ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** Its pino log lines so far (--foreground, or $NETPLUMB_LOG). */
  log(): Record<string, unknown>[];
  /** SIGTERM (or `signal`), and wait until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `ip netns exec NETNS node bin/netplumb serve --socket SOCK --ovs-db REMOTE --foreground ARGS…`,
 * once its socket answers (else it is killed and this throws with its stderr).
 */
export async function serveInNetns(
  netns: string,
  ovsDb: string,
  sock: string,
  opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<ServedDaemon> {
  const cli = join(__dirname, '..', '..', '..', 'bin', 'netplumb');
  const argv = ['netns', 'exec', netns, process.execPath, cli, 'serve', '--socket', sock, '--ovs-db', ovsDb];
  const child = spawn('ip', [...argv, '--foreground', ...(opts.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NETPLUMB_LOG: 'debug', ...opts.env },
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const served: ServedDaemon = {
    sock,
    child,
    stderr: () => stderr,
    log: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      await waitForExit(child.pid as number);
    },
  };
  if (await daemonAnswers(sock, child)) return served;
  await served.stop('SIGKILL');
  throw new Error(`netplumb serve did not come up: ${stderr}`);
}
