/**
 * OVSDB remotes as ovs-vsctl spells them: `unix:/path` or `tcp:host:port`
 * (`tcp:[::1]:6640` for IPv6). Resolution order, like ovs-vsctl: explicit option,
 * then `$OVS_DB`, then `unix:$OVS_RUNDIR/db.sock`, then `unix:/run/openvswitch/db.sock`.
 */
import { invalidArgument } from '../errors.js';

export type Remote =
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'tcp'; host: string; port: number; text: string };

export const DEFAULT_REMOTE = 'unix:/run/openvswitch/db.sock';

export function resolveRemote(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.OVS_DB) return env.OVS_DB;
  if (env.OVS_RUNDIR) return `unix:${env.OVS_RUNDIR.replace(/\/+$/, '')}/db.sock`;
  return DEFAULT_REMOTE;
}

export const DEFAULT_NB_REMOTE = 'unix:/run/ovn/ovnnb_db.sock';

/**
 * The OVN northbound database, as ovn-nbctl finds it: explicit option, then `$OVN_NB_DB`,
 * then `unix:$OVN_RUNDIR/ovnnb_db.sock`, then `unix:/run/ovn/ovnnb_db.sock`.
 */
export function resolveNbRemote(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.OVN_NB_DB) return env.OVN_NB_DB;
  if (env.OVN_RUNDIR) return `unix:${env.OVN_RUNDIR.replace(/\/+$/, '')}/ovnnb_db.sock`;
  return DEFAULT_NB_REMOTE;
}

export function parseRemote(text: string): Remote {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path.startsWith('/') && !path.startsWith('.'))
      throw invalidArgument('remote', `"${text}": unix socket path must be absolute or relative (./)`);
    if (Buffer.byteLength(path) > 107)
      throw invalidArgument('remote', `"${text}": unix socket path longer than 107 bytes`);
    return { kind: 'unix', path, text };
  }
  if (text.startsWith('tcp:')) {
    const m = /^tcp:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
    const host = m?.[1] ?? m?.[2];
    const port = m ? Number(m[3]) : NaN;
    if (host === undefined || port < 1 || port > 65535)
      throw invalidArgument('remote', `"${text}": expected tcp:HOST:PORT`);
    return { kind: 'tcp', host, port, text };
  }
  throw invalidArgument('remote', `"${text}": expected unix:/path or tcp:host:port (ssl: is not supported)`);
}
