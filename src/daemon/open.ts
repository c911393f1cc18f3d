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
import type { PlumberOptions } from '../plumb/plumber.js';
import type { DaemonClient, DaemonClientOptions } from './client.js';
import type { Engine } from './engine.js';
import { DEFAULT_SOCKET_PATH } from './protocol.js';

/** $NETPLUMB_SOCKET, else /run/netplumb/netplumb.sock. */
export function defaultDaemonSocket(): string {
  const env = process.env.NETPLUMB_SOCKET;
  return env !== undefined && env !== '' ? env : DEFAULT_SOCKET_PATH;
}

export interface OpenEngineOptions {
  /** The daemon's socket (default: $NETPLUMB_SOCKET or /run/netplumb/netplumb.sock). */
  socketPath?: string;
  /**
   * 'auto' (default): the daemon when its socket exists and answers a ping, else this
   * process. true: the daemon or an error (UNAVAILABLE, PRIVILEGE). false: this process.
   */
  daemon?: boolean | 'auto';
  /** For the engine in this process (not used when the daemon serves). */
  plumberOptions?: PlumberOptions;
  client?: DaemonClientOptions;
  /** How long the ping that decides may take (default 2 s). */
  probeTimeoutMs?: number;
}

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export async function openEngine(opts: OpenEngineOptions = {}): Promise<Engine> {
  const mode = opts.daemon ?? 'auto';
  if (mode !== false) {
    const path = opts.socketPath ?? defaultDaemonSocket();
    const client = await daemonAt(path, opts, mode === true);
    if (client !== undefined) return client;
  }
  // Loaded only now: a command served by the daemon never loads the engine.
  const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
  const { DirectEngine } = require('./engine.js') as typeof import('./engine.js');
  return new DirectEngine(Plumber.open(opts.plumberOptions));
}

/** A connected client that answered a ping; otherwise undefined, or the error when `required`. */
async function daemonAt(path: string, opts: OpenEngineOptions, required: boolean): Promise<DaemonClient | undefined> {
  if (!required) {
    try {
      if (!lstatSync(path).isSocket()) return undefined;
    } catch {
      return undefined; // no socket: no daemon
    }
  }
  const { DaemonClient } = require('./client.js') as typeof import('./client.js');
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(path, opts.client);
  } catch (e) {
    if (required) throw e;
    return undefined; // stale socket (ECONNREFUSED) or no access: act directly
  }
  try {
    await client.ping(opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
    return client;
  } catch (e) {
    await client.close();
    if (required) throw e;
    return undefined; // shutting down, or this uid is not allowed: act directly
  }
}
