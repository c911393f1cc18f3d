/** `netplumb uplink add|del|list`, run in this process (an uplink is host configuration, not an attachment). */
import type { PlumberOptions } from '../plumb/api.js';
import type { Uplink } from '../plumb/uplink.js';
import type { UplinkVlans } from '../plumb/uplink-spec.js';
import type { UplinkCommand } from './uplink-args.js';
import type { CommandIo } from './io.js';
import { printJson } from './output.js';
import { textTable } from './text-table.js';

function vlansText(v: UplinkVlans): string {
  if (v.kind === 'access') return `access ${v.vlan}`;
  const which = v.trunks === undefined ? 'trunk (all)' : `trunk ${v.trunks.join(',')}`;
  return v.nativeVlan !== undefined ? `${which} native ${v.nativeVlan}` : which;
}

function stateText(u: Uplink): string {
  if (u.error !== undefined) return `error: ${u.error}`;
  if (u.nicMissing === true) return 'NIC missing';
  if (u.linkUp !== true) return 'down';
  return u.carrier === false ? 'up, no carrier' : 'up';
}

function describe(u: Uplink): string {
  return `${u.nic} → ${u.bridge} (${vlansText(u.vlans)}${u.physnet !== undefined ? `, physnet ${u.physnet}` : ''}${u.ofport !== undefined ? `, ofport ${u.ofport}` : ''})`;
}

export async function runUplink(
  io: CommandIo,
  cmd: UplinkCommand & { json: boolean },
  opts: PlumberOptions,
): Promise<number> {
  const { Plumber } = require('../plumb/plumber.js') as typeof import('../plumb/plumber.js');
  const plumber = Plumber.open(opts);
  try {
    switch (cmd.action) {
      case 'add': {
        const r = await plumber.uplinks.add(cmd.spec);
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(`${r.changed ? 'added' : 'already there'}: ${describe(r.uplink)}\n`);
        return 0;
      }
      case 'del': {
        const r = await plumber.uplinks.del(cmd.request);
        if (cmd.json) printJson(io, { ok: true, ...r });
        else io.stdout(r.removed === undefined ? 'no such uplink\n' : `removed: ${describe(r.removed)}\n`);
        return 0;
      }
      case 'list': {
        const uplinks = await plumber.uplinks.list();
        if (cmd.json) printJson(io, { ok: true, uplinks });
        else
          io.stdout(
            uplinks.length === 0
              ? 'no uplinks\n'
              : `${textTable(
                  ['NIC', 'BRIDGE', 'VLANS', 'PHYSNET', 'OFPORT', 'STATE'],
                  uplinks.map((u) => [
                    u.nic,
                    u.bridge,
                    vlansText(u.vlans),
                    u.physnet ?? '-',
                    u.ofport !== undefined ? String(u.ofport) : '-',
                    stateText(u),
                  ]),
                )}\n`,
          );
        return 0;
      }
    }
  } finally {
    await plumber.close();
  }
}
