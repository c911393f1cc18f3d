/**
 * The CNI_* variables of a call (CNI spec, "Parameters"), read once: the command, the
 * container id, its namespace (a path), the interface name, the plugin path, and CNI_ARGS
 * (`K=V;K=V`: `MAC=`, `IP=`, `IgnoreUnknown=1`, Kubernetes' `K8S_POD_*`). A missing or
 * wrong variable is code 4 naming it; an unknown CNI_ARGS key is one too, unless
 * `IgnoreUnknown` is set.
 */
import { NetplumbError } from '../errors.js';
import type { Env } from '../cli/io.js';
import { cniContainerId, type CniContainerId } from '../plumb/cni-owner.js';
import type { MacPlan } from '../plumb/plan.js';
import { ifName, ipAddress, macAddress, type IfName } from '../validate.js';
import { invalidEnv } from './errors.js';

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** The keys of CNI_ARGS netplumb reads, or knows to leave to others (Kubernetes' pod identity). */
const KNOWN_ARGS = [
  'IgnoreUnknown',
  'MAC',
  'IP',
  'K8S_POD_NAMESPACE',
  'K8S_POD_NAME',
  'K8S_POD_INFRA_CONTAINER_ID',
  'K8S_POD_UID',
];

export interface CniArgs {
  /** `MAC=`: the container interface's MAC. */
  mac?: MacPlan;
  /** `IP=`: addresses asked of the IPAM plugin (it reads them itself; checked here). */
  ips?: string[];
}

/** The variables of an attachment's call (ADD, DEL, CHECK). */
export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: CniContainerId;
  /** The container's network namespace (a path); absent for a DEL whose namespace is gone. */
  netns?: string;
  ifname: IfName;
  /** Directories the IPAM plugin is looked for in. */
  path: string[];
  args: CniArgs;
}

/** CNI_COMMAND; code 4 when it is missing or unknown. */
export function cniCommand(env: Env): CniCommand {
  const c = env.CNI_COMMAND;
  const found = CNI_COMMANDS.find((k) => k === c);
  if (found === undefined)
    throw invalidEnv('CNI_COMMAND', `${JSON.stringify(c ?? null)} is not one of ${CNI_COMMANDS.join(', ')}`);
  return found;
}

/** CNI_PATH's directories (code 4 when a command needs it and it is not set). */
export function cniPath(env: Env): string[] {
  return (env.CNI_PATH ?? '').split(':').filter((d) => d !== '');
}

/** The variables of an ADD, DEL or CHECK. */
export function cniCall(command: CniCall['command'], env: Env): CniCall {
  const containerId = asEnv('CNI_CONTAINERID', () =>
    cniContainerId('CNI_CONTAINERID', required(env, 'CNI_CONTAINERID')),
  );
  const ifname = asEnv('CNI_IFNAME', () => ifName('CNI_IFNAME', required(env, 'CNI_IFNAME')));
  const netnsText = env.CNI_NETNS ?? '';
  if (netnsText === '' && command !== 'DEL')
    throw invalidEnv('CNI_NETNS', "not set (the container's network namespace)");
  if (netnsText !== '' && !netnsText.startsWith('/'))
    throw invalidEnv('CNI_NETNS', `"${netnsText}" is not an absolute path`);
  return {
    command,
    containerId,
    ...(netnsText !== '' ? { netns: netnsText } : {}),
    ifname,
    path: cniPath(env),
    args: parseCniArgs(env.CNI_ARGS ?? ''),
  };
}

/** CNI_ARGS: `K=V` pairs separated by `;`. */
export function parseCniArgs(text: string): CniArgs {
  const pairs = text
    .split(';')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq <= 0) throw invalidEnv('CNI_ARGS', `"${p.slice(0, 64)}" is not KEY=VALUE`);
      return [p.slice(0, eq), p.slice(eq + 1)] as const;
    });
  const ignoreUnknown = pairs.some(([k, v]) => k === 'IgnoreUnknown' && /^(1|true)$/i.test(v));
  const out: CniArgs = {};
  for (const [k, v] of pairs) {
    if (k === 'MAC') out.mac = asEnv('CNI_ARGS', () => ({ address: macAddress('CNI_ARGS MAC', v) }));
    else if (k === 'IP')
      out.ips = v.split(',').map((ip) => asEnv('CNI_ARGS', () => ipAddress('CNI_ARGS IP', ip.trim()).address));
    else if (!KNOWN_ARGS.includes(k) && !ignoreUnknown)
      throw invalidEnv('CNI_ARGS', `unknown key ${JSON.stringify(k.slice(0, 64))} (pass IgnoreUnknown=1 to ignore it)`);
  }
  return out;
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw invalidEnv(name, 'not set');
  return v;
}

/** A value check of netplumb's, reported as a CNI_* variable's error (code 4). */
function asEnv<T>(variable: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof NetplumbError) throw invalidEnv(variable, e.message);
    throw e;
  }
}
