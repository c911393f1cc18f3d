/**
 * An OVN central, emulated: a network namespace with the northbound and southbound
 * databases (ovsdb-server each, unix sockets that every namespace reaches), ovn-northd
 * between them, and the underlay: a Linux bridge the hosts' underlay cables plug into.
 * stop() stops the daemons, waits for their exit, removes the namespace and the dir.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from './commands.js';
import { must } from './exec.js';
import { createNetns, type SandboxNetns } from './netns.js';
import { ovsDaemon, ovsEnv, type OvsDaemon } from './ovs-daemon.js';
import { createOvsdbServer, type OvsdbServer } from './ovsdb-server.js';

export const OVN_SCHEMAS = { nb: '/usr/share/ovn/ovn-nb.ovsschema', sb: '/usr/share/ovn/ovn-sb.ovsschema' } as const;
const SETUP_HINT = 'an emulated OVN needs the Debian packages ovn-central and ovn-host: bash .ci/setup';
/** The underlay's Linux bridge in the central's namespace. */
export const UNDERLAY_BRIDGE = 'underlay';

/** The OVS tools' environment plus OVN's: every run, log, database and config file in `dir`. */
export function ovnEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...ovsEnv(dir),
    OVN_RUNDIR: dir,
    OVN_LOGDIR: dir,
    OVN_DBDIR: dir,
    OVN_SYSCONFDIR: dir,
    OVN_PKGDATADIR: '/usr/share/ovn',
  };
}

export interface OvnCentral {
  dir: string;
  netns: SandboxNetns;
  /** `unix:DIR/ovnnb_db.sock` */
  nbRemote: string;
  /** `unix:DIR/ovnsb_db.sock` */
  sbRemote: string;
  nb: OvsdbServer;
  sb: OvsdbServer;
  northd: OvsDaemon;
  /** `ovn-nbctl --db=NB ARGS…`, its stdout. */
  nbctl(args: string[]): Promise<string>;
  /** `ovn-sbctl --db=SB ARGS…`, its stdout. */
  sbctl(args: string[]): Promise<string>;
  /** Every daemon pid started so far that is still alive. */
  alivePids(): number[];
  stop(): Promise<void>;
}

/**
 * Equivalent to (D a fresh temp dir, N a fresh namespace):
 *   ip netns add N ; ip -n N link add underlay type bridge ; ip -n N link set underlay up
 *   ovsdb-tool create D/ovnnb_db.db ovn-nb.ovsschema ; ovsdb-tool create D/ovnsb_db.db ovn-sb.ovsschema
 *   ip netns exec N ovsdb-server --remote=punix:D/ovnnb_db.sock … D/ovnnb_db.db   (and the southbound one)
 *   ovn-nbctl --db=unix:D/ovnnb_db.sock init
 *   ip netns exec N ovn-northd --ovnnb-db=unix:D/ovnnb_db.sock --ovnsb-db=unix:D/ovnsb_db.sock …
 * On failure everything started so far is stopped and removed again.
 */
export async function startOvnCentral(opts: { netnsName: string }): Promise<OvnCentral> {
  requireCommands(
    ['ovsdb-tool', 'ovsdb-server', 'ovn-northd', 'ovn-nbctl', 'ovn-sbctl', 'ip'],
    'an OVN central',
    SETUP_HINT,
  );
  for (const s of Object.values(OVN_SCHEMAS))
    if (!existsSync(s)) throw new Error(`the OVN schema ${s} is missing: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'np-ovn-'));
  let netns: SandboxNetns;
  try {
    netns = await createNetns(opts.netnsName);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const daemons: OvsDaemon[] = [];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    // northd first, then the databases: nothing writes to a database that is going.
    for (const d of [...daemons].reverse()) await d.reap().catch((e: unknown) => errors.push(e));
    await netns.remove().catch((e: unknown) => errors.push(e));
    rmSync(dir, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, `OVN central cleanup failed for ${dir}`);
  };
  try {
    const env = ovnEnv(dir);
    const server = (name: 'nb' | 'sb') =>
      createOvsdbServer({
        dir,
        netns,
        schema: OVN_SCHEMAS[name],
        name,
        dbFile: `ovn${name}_db.db`,
        socketFile: `ovn${name}_db.sock`,
      });
    const nb = await server('nb');
    daemons.push(nb);
    const sb = await server('sb');
    daemons.push(sb);
    await nb.start();
    await sb.start();
    const nbctl = (args: string[]) => must(['ovn-nbctl', `--db=${nb.remote}`, '--timeout=10', ...args], { env });
    const sbctl = (args: string[]) => must(['ovn-sbctl', `--db=${sb.remote}`, '--timeout=10', ...args], { env });
    await nbctl(['--no-wait', 'init']);
    const northd = ovsDaemon({
      name: 'northd',
      program: 'ovn-northd',
      args: [`--ovnnb-db=${nb.remote}`, `--ovnsb-db=${sb.remote}`],
      dir,
      netns,
      env,
    });
    daemons.push(northd);
    await northd.start();
    await must(['ip', '-n', netns.name, 'link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge']);
    await must(['ip', '-n', netns.name, 'link', 'set', UNDERLAY_BRIDGE, 'up']);
    return {
      dir,
      netns,
      nbRemote: nb.remote,
      sbRemote: sb.remote,
      nb,
      sb,
      northd,
      nbctl,
      sbctl,
      alivePids: () => daemons.flatMap((d) => d.alivePids()),
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
