/**
 * The OVSDB and the container engine a command acts on: its options, else the caller's
 * environment ($OVS_DB, $OVS_RUNDIR, $DOCKER_HOST, $OVN_NB_DB, $OVN_RUNDIR, $NETPLUMB_STATE_DIR), resolved here from its CommandIo so
 * that nothing below reads the environment of the process that runs it.
 */
import { resolveNbRemote, resolveRemote } from '../ovsdb/remote.js';
import { resolveStateDir } from '../persist/store.js';
import type { CommandIo } from './io.js';
import type { ConnectionOptions } from './netplumb-args.js';

export function connectionOf(
  io: CommandIo,
  conn: ConnectionOptions = {},
): { ovsDb: string; ovnNb: string; stateDir: string; dockerHost?: string } {
  const dockerHost = conn.dockerSocketPath !== undefined ? `unix://${conn.dockerSocketPath}` : io.env.DOCKER_HOST;
  return {
    ovsDb: resolveRemote(conn.ovsDb, io.env),
    ovnNb: resolveNbRemote(conn.ovnNb, io.env),
    stateDir: resolveStateDir(conn.stateDir, io.env),
    ...(dockerHost ? { dockerHost } : {}),
  };
}
