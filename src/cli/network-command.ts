/** `netplumb network create|delete|list`, run in this process against the OVN northbound database. */
import { describe, type Network } from '../ovn/networks.js';
import type { PlumberOptions } from '../plumb/api.js';
import type { NetworkCommand } from './network-args.js';
import type { CommandIo } from './io.js';
import { printJson } from './output.js';
import { textTable } from './text-table.js';

export async function runNetwork(
  io: CommandIo,
  cmd: NetworkCommand & { json: boolean },
  opts: PlumberOptions,
): Promise<number> {
  const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
  const plumber = Plumber.open(opts);
  try {
    switch (cmd.action) {
      case 'create': {
        const r = await plumber.networks.create(cmd.spec);
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(`${r.changed ? 'created' : 'already there'}: ${r.network.name} (${describe(r.network)})\n`);
        return 0;
      }
      case 'delete': {
        const r = await plumber.networks.delete(cmd.name, { force: cmd.force });
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(r.deleted === undefined ? 'no such network\n' : `deleted: ${r.deleted.name}\n`);
        return 0;
      }
      case 'list': {
        const networks = await plumber.networks.list();
        if (cmd.json) printJson(io, { ok: true, networks });
        else io.stdout(networks.length === 0 ? 'no networks\n' : `${networkTable(networks)}\n`);
        return 0;
      }
    }
  } finally {
    await plumber.close();
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
