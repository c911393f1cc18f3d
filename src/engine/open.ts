/**
 * `openEngine`: the daemon when its socket is there and answers, the engine in this
 * process otherwise, behind one `Engine` interface with the same results and the same
 * NetplumbErrors either way.
 *
 *   const engine = await openEngine({ plumberOptions: { logger } });
 *   try { await engine.attach(spec); } finally { await engine.close(); }
 *
 * This module loads only node:fs: the client (node:net, jsonrpc-lite) is loaded when a
 * socket is there, the engine when there is no daemon to use, so a CLI command pays for
 * one or the other.
 */
import { lstatSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import { dockerSocketPath } from '../guest/docker-api.js';
import { resolveNbRemote, resolveRemote } from '../ovsdb/remote.js';
import { resolveStateDir } from '../persist/store.js';
import type { PlumberOptions } from '../plumb/plumber.js';
import type { DaemonClient, DaemonClientOptions } from '../daemon/client.js';
import { type DaemonIdentity, defaultDaemonSocket } from '../daemon/protocol.js';
import type { Engine } from './engine.js';

export interface OpenEngineOptions {
  /** The daemon's socket (default: $NETPLUMB_SOCKET or /run/netplumb/netplumb.sock). */
  socketPath?: string;
  /** The environment the defaults come from ($NETPLUMB_SOCKET, $OVS_DB, $OVS_RUNDIR, $DOCKER_HOST); default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * 'auto' (default): the daemon when its socket exists, answers, and acts on the same
   * OVSDB and container engine as this process would; else this process. true: the daemon or an error (UNAVAILABLE, PRIVILEGE). false: this process.
   */
  daemon?: boolean | 'auto';
  /** For the engine in this process (not used when the daemon serves). */
  plumberOptions?: PlumberOptions;
  client?: DaemonClientOptions;
  /** How long the identity request that decides may take (default 2 s). */
  probeTimeoutMs?: number;
  /** The calls touch no OVSDB (a Linux bridge or macvlan attachment): a daemon on any OVSDB serves them. */
  anyOvsdb?: boolean;
  /** The calls name no container (a guest given by its namespace): a daemon on any container engine serves them. */
  anyContainerEngine?: boolean;
}

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export async function openEngine(opts: OpenEngineOptions = {}): Promise<Engine> {
  const mode = opts.daemon ?? 'auto';
  if (mode !== false) {
    const path = opts.socketPath ?? defaultDaemonSocket(opts.env);
    const client = await daemonAt(path, opts, mode === true);
    if (client !== undefined) return client;
  }
  // Loaded only now: a command served by the daemon never loads the engine.
  const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
  const { DirectEngine } = require('./engine.js') as typeof import('./engine.js');
  return new DirectEngine(Plumber.open(opts.plumberOptions));
}

/** A connected client whose daemon serves this caller's OVSDB and container engine; otherwise undefined, or the error when `required`. */
async function daemonAt(path: string, opts: OpenEngineOptions, required: boolean): Promise<DaemonClient | undefined> {
  if (!required) {
    try {
      if (!lstatSync(path).isSocket()) return undefined;
    } catch {
      return undefined; // no socket: no daemon
    }
  }
  const { DaemonClient } = require('../daemon/client.js') as typeof import('../daemon/client.js');
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(path, opts.client);
  } catch (e) {
    if (required) throw e;
    return undefined; // stale socket (ECONNREFUSED) or no access: act directly
  }
  let mismatch: NetplumbError | undefined;
  try {
    mismatch = servesOther(
      path,
      await client.version(opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
      opts.plumberOptions ?? {},
      opts.env,
      opts,
    );
    if (mismatch === undefined) return client;
  } catch (e) {
    await client.close();
    if (required) throw e;
    return undefined; // shutting down, or this uid is not allowed: act directly
  }
  await client.close();
  if (required) throw mismatch;
  return undefined; // it acts on another OVSDB or container engine than this command: act directly
}

/**
 * Why the daemon cannot serve this caller: it talks to another OVSDB or container engine
 * than the caller would ($OVS_DB, $OVS_RUNDIR, $DOCKER_HOST of `env`, or explicit options).
 */
export function servesOther(
  path: string,
  daemon: DaemonIdentity,
  own: PlumberOptions,
  env: NodeJS.ProcessEnv = process.env,
  any: Pick<OpenEngineOptions, 'anyOvsdb' | 'anyContainerEngine'> = {},
): NetplumbError | undefined {
  const ovsdb = resolveRemote(own.ovsDb, env);
  const dockerSocket = dockerSocketPath(own.dockerHost ?? env.DOCKER_HOST);
  const ovnNb = resolveNbRemote(own.ovnNb, env);
  const stateDir = resolveStateDir(own.stateDir, env);
  if (
    (any.anyOvsdb === true || daemon.ovsdb === ovsdb) &&
    (any.anyContainerEngine === true || daemon.dockerSocket === dockerSocket) &&
    (daemon.ovnNb ?? ovnNb) === ovnNb &&
    // Declarations follow containers: calls that name none never read or write the state directory.
    (any.anyContainerEngine === true || (daemon.stateDir ?? stateDir) === stateDir)
  )
    return undefined;
  return new NetplumbError(
    ErrorCode.INVALID_ARGUMENT,
    `the daemon on ${path} uses OVSDB ${daemon.ovsdb}, container socket ${daemon.dockerSocket}, OVN northbound ${daemon.ovnNb ?? '?'} and state directory ${daemon.stateDir ?? '?'}, but this command asks for ${ovsdb}, ${dockerSocket}, ${ovnNb} and ${stateDir}: run it without the daemon, or start a daemon with those settings`,
    { field: 'daemon' },
  );
}
