/**
 * From what the command line names (a bridge, a VLAN, a guest, or a word that is one of
 * them) to a topology scope. A word is a bridge when one of that name is in the
 * topology, else a VLAN when it is a number 1..4094, else a guest.
 */
import { openNetns } from '../netns/index.js';
import { netnsCookieOf } from '../netns/sockets.js';
import type { ParsedGuestRef } from '../guest/ref.js';
import type { Scope, Topology } from './model.js';

export interface Selection {
  bridge?: string;
  vlan?: number;
  guest?: ParsedGuestRef;
  ifname?: string;
  word?: string;
}

/** How a guest is matched in the topology: its name or id; a namespace given by pid or path, by its recorded id. */
export function guestMatchWord(g: ParsedGuestRef): string {
  if (g.kind === 'container') return g.container;
  if (g.kind === 'netns' && 'name' in g.selector) return `netns:${g.selector.name}`;
  const ns = openNetns(g.selector);
  try {
    const cookie = netnsCookieOf(ns);
    return cookie !== '' ? `netns:cookie:${cookie}` : `netns:${ns.dev}:${ns.ino}`;
  } finally {
    ns.close();
  }
}

export function scopeFor(sel: Selection, t: Topology): Scope {
  const ifname = sel.ifname !== undefined ? { ifname: sel.ifname } : {};
  if (sel.bridge !== undefined) return { kind: 'bridge', bridge: sel.bridge };
  if (sel.vlan !== undefined) return { kind: 'vlan', vlan: sel.vlan };
  if (sel.guest !== undefined) return { kind: 'guest', guest: guestMatchWord(sel.guest), ...ifname };
  const w = sel.word;
  if (w === undefined) return { kind: 'host' };
  if (t.bridges.some((b) => b.name === w)) return { kind: 'bridge', bridge: w };
  if (/^[1-9][0-9]{0,3}$/.test(w) && Number(w) <= 4094) return { kind: 'vlan', vlan: Number(w) };
  return { kind: 'guest', guest: w, ...ifname };
}
