/**
 * An ovsdb-server for one database in a sandbox's dir: the Open_vSwitch database of an
 * emulated host, and equally an OVN northbound or southbound database (another schema).
 */
import { join } from 'node:path';
import { must } from './exec.js';
import type { SandboxNetns } from './netns.js';
import { ovsDaemon, ovsEnv, type OvsDaemon } from './ovs-daemon.js';

export interface OvsdbServerOptions {
  dir: string;
  netns: Pick<SandboxNetns, 'exec'>;
  /** The .ovsschema file the database is created from. */
  schema: string;
  /** Names the pidfile and log (default `ovsdb`). */
  name?: string;
  /** The database file in `dir` (default `conf.db`). */
  dbFile?: string;
  /** The unix socket in `dir` clients connect to (default `db.sock`). */
  socketFile?: string;
  /** More `--remote=` listeners, e.g. `ptcp:6641:10.0.0.1` for an OVN central database. */
  remotes?: string[];
}

export interface OvsdbServer extends OvsDaemon {
  /** `unix:DIR/SOCKET` */
  readonly remote: string;
}

/**
 * Equivalent to:
 *   ovsdb-tool create DIR/DB SCHEMA
 *   ip netns exec NETNS ovsdb-server --pidfile … --detach --remote=punix:DIR/SOCKET [--remote=R …] DIR/DB
 * The database is created now; start() starts the server (and again after stop()).
 */
export async function createOvsdbServer(o: OvsdbServerOptions): Promise<OvsdbServer> {
  const db = join(o.dir, o.dbFile ?? 'conf.db');
  const socket = join(o.dir, o.socketFile ?? 'db.sock');
  await must(['ovsdb-tool', 'create', db, o.schema], { env: ovsEnv(o.dir) });
  const daemon = ovsDaemon({
    name: o.name ?? 'ovsdb',
    program: 'ovsdb-server',
    args: [`--remote=punix:${socket}`, ...(o.remotes ?? []).map((r) => `--remote=${r}`), db],
    dir: o.dir,
    netns: o.netns,
  });
  return { ...daemon, remote: `unix:${socket}` };
}
