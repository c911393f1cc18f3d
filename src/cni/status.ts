/**
 * STATUS (CNI 1.1): can this network take ADDs now? For an OVS network: its OVSDB answers
 * and has the bridge (else 50, "plugin not available"), and ovs-vswitchd has made the
 * bridge's device (else 51, "limited connectivity": ports can be written, none works). For
 * a Linux bridge or macvlan network: the bridge or master exists (else 50). Success prints
 * nothing. It needs no engine: it asks OVSDB and the kernel directly.
 *
 * Equivalent to: ovs-vsctl --db=REMOTE --timeout=2 br-exists BRIDGE && ip link show BRIDGE
 */
import type { CommandIo } from '../cli/io.js';
import { OvsdbConnection } from '../ovsdb/connection.js';
import type { Json } from '../ovsdb/jsonrpc.js';
import { eq, select } from '../ovsdb/ops.js';
import { resolveRemote } from '../ovsdb/remote.js';
import type { NetConf } from './config.js';
import { CniCode, CniError } from './errors.js';
import { hostLinkMac } from './sandbox.js';
import { targetHost } from './target.js';
import { requireStatusAndGc } from './version.js';

/** How long OVSDB may take to answer before the plugin is reported not available (ms). */
const OVSDB_DEADLINE_MS = 2000;

export async function cniStatus(io: CommandIo, conf: NetConf): Promise<void> {
  requireStatusAndGc('STATUS', conf.cniVersion);
  const host = targetHost(conf.target);
  if (conf.target.mode === 'ovs') await bridgeInOvsdb(conf.ovsdb ?? resolveRemote(undefined, io.env), host);
  if ((await hostLinkMac(host)) !== undefined) return;
  if (conf.target.mode === 'ovs')
    throw new CniError(
      CniCode.LIMITED_CONNECTIVITY,
      `the OVS bridge ${host} has no device: is ovs-vswitchd running?`,
      'bridge',
    );
  throw new CniError(
    CniCode.NOT_AVAILABLE,
    `there is no interface ${host} on this host`,
    conf.target.mode === 'macvlan' ? 'master' : 'bridge',
  );
}

/** OVSDB at `remote` answers, and has the bridge; else 50. */
async function bridgeInOvsdb(remote: string, bridge: string): Promise<void> {
  const db = new OvsdbConnection({
    remote,
    connectTimeoutMs: OVSDB_DEADLINE_MS,
    requestTimeoutMs: OVSDB_DEADLINE_MS,
    probeIntervalMs: 0,
    reconnect: { maxAttempts: 0 },
  });
  let rows: unknown[];
  try {
    await db.connect();
    const params = ['Open_vSwitch', select('Bridge', [eq('name', bridge)], ['name'])] as unknown as Json[];
    const [result] = (await db.request('transact', params, { idempotent: true })) as { rows?: unknown[] }[];
    rows = result?.rows ?? [];
  } catch (e) {
    throw new CniError(
      CniCode.NOT_AVAILABLE,
      `OVSDB at ${remote} does not answer: ${(e as Error).message}`,
      'socket_file',
    );
  } finally {
    await db.close();
  }
  if (rows.length === 0)
    throw new CniError(CniCode.NOT_AVAILABLE, `OVSDB at ${remote} has no bridge ${bridge}`, 'bridge');
}
