/**
 * `netplumb serve`: start the daemon, log with pino to stderr, stop gracefully on SIGTERM
 * or SIGINT (a second signal ends the process at once). Resolves once the daemon stopped.
 *
 * Log level: $NETPLUMB_LOG when set, else info with --foreground, else warn.
 */
import type { ProgramTable } from '../cli/io.js';
import type { KillHooks } from '../plumb/kill-hook.js';
import type { PlumberOptions } from '../plumb/plumber.js';
import { DAEMON_V8_FLAGS, reexecWithDaemonFlags } from './memory.js';
import { startDaemon } from './server.js';
import { resolveStateDir } from '../persist/store.js';

export interface ServeCommand {
  socketPath?: string;
  group?: string;
  foreground?: true;
  /** `--gc-interval`, `--gc-grace` */
  gcIntervalSeconds?: number;
  gcGraceSeconds?: number;
  /** `--max-concurrent` */
  maxConcurrent?: number;
  connection: { ovsDb?: string; dockerSocketPath?: string; ovnNb?: string; stateDir?: string };
}

/** The crash tests' hooks (src/plumb/kill-hook.ts): nothing is loaded unless one is set. */
function testHooks(): KillHooks {
  return process.env.NETPLUMB_TEST_KILL_AT || process.env.NETPLUMB_TEST_HOLD_AT
    ? (require('../plumb/kill-hook.js') as typeof import('../plumb/kill-hook.js')).killHooksFromEnv()
    : {};
}

/**
 * `programs`: what the native front door may call. `env`: the command's environment
 * ($NETPLUMB_LOG, $NETPLUMB_SERVE_REEXEC), process.env when it runs as itself.
 */
export async function runServe(
  cmd: ServeCommand,
  programs: ProgramTable,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  // Returns only when the process did not replace itself with the daemon's heap settings.
  const notTuned = reexecWithDaemonFlags(env);
  const pino = require('pino') as typeof import('pino');
  const asked = env.NETPLUMB_LOG;
  const level = asked !== undefined && asked !== '' ? asked : cmd.foreground === true ? 'info' : 'warn';
  const logger = pino.default({ name: 'netplumb', level }, pino.destination({ fd: 2, sync: true }));
  if (notTuned !== undefined)
    logger.info({ reason: notTuned, flags: DAEMON_V8_FLAGS }, 'serving without the daemon heap settings');
  const plumberOptions: PlumberOptions = {
    logger,
    ...testHooks(),
    ...(cmd.connection.ovsDb ? { ovsDb: cmd.connection.ovsDb } : {}),
    ...(cmd.connection.ovnNb ? { ovnNb: cmd.connection.ovnNb } : {}),
    ...(cmd.connection.dockerSocketPath ? { dockerHost: `unix://${cmd.connection.dockerSocketPath}` } : {}),
    stateDir: resolveStateDir(cmd.connection.stateDir, env),
  };
  const daemon = await startDaemon({
    ...(cmd.socketPath !== undefined ? { socketPath: cmd.socketPath } : {}),
    ...(cmd.group !== undefined ? { group: cmd.group } : {}),
    ...(cmd.gcIntervalSeconds !== undefined ? { gcIntervalSeconds: cmd.gcIntervalSeconds } : {}),
    ...(cmd.gcGraceSeconds !== undefined ? { gcGraceSeconds: cmd.gcGraceSeconds } : {}),
    ...(cmd.maxConcurrent !== undefined ? { maxConcurrent: cmd.maxConcurrent } : {}),
    plumberOptions,
    programs,
    logger,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      logger.info({ signal, inFlight: daemon.inFlight }, 'stopping');
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await daemon.close();
}
