/** `netplumb network create|delete|list` against the OVN northbound database, through the command's engine: the daemon's when it runs (and records them), else this process's. */
import { describe, type Network } from '../ovn/networks.js';
import type { NetworkOps } from '../engine/engine.js';
import type { NetworkCommand } from './network-args.js';
import type { CommandIo } from './io.js';
import { printJson } from './output.js';
import { textTable } from './text-table.js';

export async function runNetwork(
  io: CommandIo,
  cmd: NetworkCommand & { json: boolean },
  networks: NetworkOps,
): Promise<number> {
  switch (cmd.action) {
    case 'create': {
      const r = await networks.create(cmd.spec);
      if (cmd.json) printJson(io, { ok: true, ...r });
      else io.stdout(`${r.changed ? 'created' : 'already there'}: ${r.network.name} (${describe(r.network)})\n`);
      return 0;
    }
    case 'delete': {
      const r = await networks.delete(cmd.name, { force: cmd.force });
      if (cmd.json) printJson(io, { ok: true, ...r });
      else io.stdout(r.deleted === undefined ? 'no such network\n' : `deleted: ${r.deleted.name}\n`);
      return 0;
    }
    case 'list': {
      const rows = await networks.list();
      if (cmd.json) printJson(io, { ok: true, networks: rows });
      else io.stdout(rows.length === 0 ? 'no networks\n' : `${networkTable(rows)}\n`);
      return 0;
    }
  }
}

function networkTable(networks: readonly Network[]): string {
  return textTable(
    ['NAME', 'SUBNET', 'BRIDGED TO', 'MTU', 'PORTS', 'ATTACHMENTS'],
    networks.map((n) => [
      n.name,
      n.subnet ?? '-',
      n.physnet !== undefined ? `${n.physnet}${n.vlan !== undefined ? ` VLAN ${n.vlan}` : ''}` : '- (overlay)',
      String(n.mtu),
      String(n.ports),
      String(n.attachments),
    ]),
  );
}
