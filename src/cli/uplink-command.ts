/** `netplumb uplink add|del|list`, through the command's engine: the daemon's when it runs (and records them), else this process's. */
import type { UplinkOps } from '../engine/engine.js';
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
  uplinks: UplinkOps,
): Promise<number> {
  switch (cmd.action) {
    case 'add': {
      const r = await uplinks.add(cmd.spec);
      if (cmd.json) printJson(io, { ok: true, ...r });
      else io.stdout(`${r.changed ? 'added' : 'already there'}: ${describe(r.uplink)}\n`);
      return 0;
    }
    case 'del': {
      const r = await uplinks.del(cmd.request);
      if (cmd.json) printJson(io, { ok: true, ...r });
      else io.stdout(r.removed === undefined ? 'no such uplink\n' : `removed: ${describe(r.removed)}\n`);
      return 0;
    }
    case 'list': {
      const rows = await uplinks.list();
      if (cmd.json) printJson(io, { ok: true, uplinks: rows });
      else
        io.stdout(
          rows.length === 0
            ? 'no uplinks\n'
            : `${textTable(
                ['NIC', 'BRIDGE', 'VLANS', 'PHYSNET', 'OFPORT', 'STATE'],
                rows.map((u) => [
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
}
