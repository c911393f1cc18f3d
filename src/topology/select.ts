/** Narrow a host's topology to one bridge, one VLAN or one guest. Pure: no I/O. */
import { ErrorCode, NetplumbError } from '../errors.js';
import { finish } from './build.js';
import type { Bridge, Port, Scope, Topology } from './model.js';

/** Does a port belong to the guest named `word` (container name, id, id prefix, netns:NAME, recorded id)? */
export function portOfGuest(p: Port, word: string): boolean {
  const g = p.attachment?.guest;
  if (g === undefined) return false;
  const name = word.startsWith('netns:') && g.kind === 'netns' ? word.slice('netns:'.length) : word;
  return g.name === name || g.id === word || (g.kind === 'container' && word.length >= 4 && g.id.startsWith(word));
}

function carries(p: Port, vlan: number): boolean {
  if (p.tag !== undefined) return p.tag === vlan;
  return p.trunks === undefined || p.trunks.length === 0 || p.trunks.includes(vlan);
}

function narrowBridge(b: Bridge, keep: (p: Port) => boolean, keepUplinks: (p: Port) => boolean): Bridge | undefined {
  const vlans = b.vlans.map((v) => ({ ...v, ports: v.ports.filter(keep) })).filter((v) => v.ports.length > 0);
  const trunks = b.trunks.filter(keep);
  const missing = b.missing.filter(keep);
  if (vlans.length === 0 && trunks.length === 0 && missing.length === 0) return undefined;
  return { ...b, vlans, trunks, missing, uplinks: b.uplinks.filter(keepUplinks) };
}

/** The part of `t` that `scope` names; NOT_FOUND when nothing matches. */
export function selectScope(t: Topology, scope: Scope): Topology {
  let bridges: Bridge[];
  switch (scope.kind) {
    case 'host':
      return t;
    case 'bridge':
      bridges = t.bridges.filter((b) => b.name === scope.bridge);
      if (bridges.length === 0)
        throw new NetplumbError(
          ErrorCode.NOT_FOUND,
          `no bridge "${scope.bridge}" on this host, and no attachment records one; bridges: ${t.bridges.map((b) => b.name).join(', ') || 'none'}`,
          { field: 'bridge' },
        );
      break;
    case 'vlan':
      bridges = t.bridges
        .map((b) =>
          narrowBridge(
            b,
            (p) => carries(p, scope.vlan) || p.attachment?.recorded.vlan === scope.vlan,
            (p) => carries(p, scope.vlan),
          ),
        )
        .filter((b): b is Bridge => b !== undefined);
      if (bridges.length === 0)
        throw new NetplumbError(ErrorCode.NOT_FOUND, `no port in VLAN ${scope.vlan} on this host`, { field: 'vlan' });
      break;
    case 'guest':
      bridges = t.bridges
        .map((b) =>
          narrowBridge(
            b,
            (p) => portOfGuest(p, scope.guest) && (scope.ifname === undefined || p.attachment?.ifname === scope.ifname),
            () => false,
          ),
        )
        .filter((b): b is Bridge => b !== undefined);
      if (bridges.length === 0)
        throw new NetplumbError(
          ErrorCode.NOT_FOUND,
          `no attachment${scope.ifname !== undefined ? ` ${scope.ifname}` : ''} for guest "${scope.guest}"; "netplumb show" shows them all`,
          { field: 'container' },
        );
      break;
  }
  return finish({ ...t, scope, bridges });
}
