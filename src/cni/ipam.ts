/**
 * IPAM delegation (CNI spec, "Delegated plugins"): the `ipam.type` plugin found on CNI_PATH
 * is run with the call's CNI_* variables and the same network configuration on stdin; its
 * stdout is its result, or its error. This is the one process netplumb-cni starts, as the
 * spec requires. Run by the daemon for a caller, it runs with the caller's uid and gid
 * (SO_PEERCRED of the front door's connection): never with the daemon's root.
 *
 * Equivalent to: CNI_COMMAND=ADD CNI_CONTAINERID=… $CNI_PATH/host-local < conf.json
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../cli/io.js';
import { CniCode, CniError, NETPLUMB_CODE_BASE } from './errors.js';

export interface IpamCall {
  /** The plugin's name (`ipam.type`). */
  type: string;
  /** CNI_PATH's directories. */
  path: readonly string[];
  /** The caller's environment (CNI_COMMAND is set per call). */
  env: Env;
  /** The network configuration as the runtime sent it. */
  config: Buffer;
  /** Run as this user and group (a call the daemon runs for a caller); absent: as this process. */
  as?: { uid: number; gid: number };
}

/** The PATH an IPAM plugin gets when the caller's was not relayed. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** A plugin that neither answers nor exits in this long is killed (a runtime waits no longer). */
const IPAM_TIMEOUT_MS = 120_000;

/** The plugin's executable on CNI_PATH; code 7 naming ipam.type when it is not there. */
export function findPlugin(type: string, path: readonly string[]): string {
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(
    CniCode.INVALID_CONFIG,
    `ipam.type: no executable "${type}" in CNI_PATH (${path.length > 0 ? path.join(':') : 'not set'})`,
    'ipam.type',
  );
}

/** The options the plugin is spawned with: its environment, and its user when run for a caller. */
export function spawnOptions(call: IpamCall, command: string): { env: NodeJS.ProcessEnv; uid?: number; gid?: number } {
  const env: NodeJS.ProcessEnv = { PATH: DEFAULT_PATH };
  for (const [k, v] of Object.entries(call.env)) if (v !== undefined) env[k] = v;
  env.CNI_COMMAND = command;
  return { env, ...(call.as !== undefined ? { uid: call.as.uid, gid: call.as.gid } : {}) };
}

/** Run the IPAM plugin for `command`; its stdout, or its error as a CniError. */
export function execIpam(
  call: IpamCall,
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION',
): Promise<Buffer> {
  const file = findPlugin(call.type, call.path);
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], {
      ...spawnOptions(call, command),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: IPAM_TIMEOUT_MS,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) =>
      reject(new CniError(CniCode.IO_FAILURE, `the IPAM plugin ${file} could not be run: ${e.message}`, 'ipam.type')),
    );
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      if (code === 0) resolve(stdout);
      else reject(pluginError(file, stdout, Buffer.concat(err), signal ?? `exit status ${code}`));
    });
    child.stdin.on('error', () => undefined); // a plugin that exits without reading its input
    child.stdin.end(call.config);
  });
}

/** The plugin's own error (`{code, msg, details}` on stdout), else what it said on stderr. */
function pluginError(file: string, stdout: Buffer, stderr: Buffer, how: string): CniError {
  try {
    const e = JSON.parse(stdout.toString()) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.code === 'number' && typeof e.msg === 'string')
      return new CniError(
        e.code,
        `the IPAM plugin ${file} failed: ${e.msg}`,
        typeof e.details === 'string' && e.details !== '' ? e.details : 'ipam',
      );
  } catch {
    // not a CNI error
  }
  const said = stderr.toString().trim().slice(0, 2000) || stdout.toString().trim().slice(0, 2000);
  return new CniError(NETPLUMB_CODE_BASE, `the IPAM plugin ${file} failed (${how})${said ? `: ${said}` : ''}`, 'ipam');
}
