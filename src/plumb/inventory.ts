/**
 * What netplumb owns on the host, as list, gc and the detach of a dead guest see it: the
 * host links whose alias carries a record (and the veths an attach made and never recorded,
 * by their attaching group), and the objects every store of the modes holds
 * for attachments (OVS ports). Read once per call; reads only the kernel (one link dump)
 * and each store's own marks (the OVSDB monitor cache).
 */
import type { Link, Rtnl } from '../rtnl/index.js';
import type { Attachment } from './api.js';
import type { HostServices } from './host-services.js';
import { REMOTE_STORES, modeOf } from './modes/index.js';
import type { PortView, RemoteStore } from './modes/mode.js';
import { parseGeneratedName } from './names.js';
import { ALIAS_PREFIX, decodeAlias, unrecordedSince, type AttachmentRecord } from './record.js';

export type { PortView } from './modes/mode.js';

/** A host link carrying our record. */
export interface LinkView {
  index: number;
  name: string;
  record: AttachmentRecord;
  /** The attach had not finished: when it began (ms). */
  attachingSince?: number;
  /** Administratively up. */
  up?: boolean;
}

/**
 * A host veth of ours without a record: its attach was stopped between creating it (in an
 * attaching link group, record.ts) and writing its record in the alias.
 */
export interface UnrecordedLinkView {
  index: number;
  name: string;
  /** The attachment it was made for, when its name says (a generated `np` + id + `h`). */
  attachment?: string;
  /** When its attach began (ms), from its group. */
  attachingSince: number;
}

export interface Inventory {
  links: LinkView[];
  /** Veths of ours that an attach made and never recorded. */
  unrecorded: UnrecordedLinkView[];
  /** Per store read, its objects. */
  stores: { store: RemoteStore; ports: PortView[] }[];
}

/** Our host links: those whose alias carries a readable record. Equivalent to: ip -d link show (alias "netplumb {…}") */
export async function ourLinks(rtnl: Rtnl): Promise<LinkView[]> {
  return recordedLinks(await rtnl.link.list());
}

function recordedLinks(all: readonly Link[]): LinkView[] {
  const views: LinkView[] = [];
  for (const l of all) {
    if (!l.alias?.startsWith(ALIAS_PREFIX)) continue;
    const d = decodeAlias(l.alias);
    if (d)
      views.push({
        index: l.index,
        name: l.name,
        record: d.record,
        up: l.flags.up,
        ...(d.attachingSince !== undefined ? { attachingSince: d.attachingSince } : {}),
      });
  }
  return views;
}

/** Veths in an attaching group with no alias. Equivalent to: ip -d link show type veth (group 0x6e……, no alias) */
function unrecordedLinks(all: readonly Link[], now: number): UnrecordedLinkView[] {
  const views: UnrecordedLinkView[] = [];
  for (const l of all) {
    const since = unrecordedSince(l, now);
    if (since === undefined) continue;
    const named = parseGeneratedName(l.name);
    views.push({
      index: l.index,
      name: l.name,
      ...(named?.kind === 'veth' ? { attachment: named.hash } : {}),
      attachingSince: since,
    });
  }
  return views;
}

/** Does one of these records belong to a mode that owns objects in `store`? */
export function storeNeeded(store: RemoteStore, records: readonly AttachmentRecord[]): boolean {
  return records.some((r) => modeOf(r.mode)?.stores.includes(store) === true);
}

/**
 * Our links (with a record, and without: `now` reads the stamps of their groups), and our
 * objects in every store. A store is read when one of our links is of a
 * mode that uses it (then a store that cannot be read is an error: what it holds for that
 * link cannot be judged) or when it can be read anyway.
 */
export async function takeInventory(host: HostServices, now = Date.now()): Promise<Inventory> {
  const all = await host.rtnl.link.list();
  const links = recordedLinks(all);
  const records = links.map((l) => l.record);
  const stores: Inventory['stores'] = [];
  for (const store of REMOTE_STORES) {
    if (storeNeeded(store, records) || (await store.reachable(host)))
      stores.push({ store, ports: (await store.ours(host)).map((p) => ({ ...p, store: store.what })) });
  }
  return { links, unrecorded: unrecordedLinks(all, now), stores };
}

/** What `list` shows: an attachment per host link and per object of ours, the two of one attachment merged. */
export function attachmentsOf(inv: Inventory): Attachment[] {
  const byHostIf = new Map<string, Attachment>();
  for (const l of inv.links)
    byHostIf.set(l.record.hostIfname, {
      record: l.record,
      hostLinkPresent: true,
      hostLinkUp: l.up === true,
      orphaned: false,
      ...(l.attachingSince !== undefined ? { attachingSince: new Date(l.attachingSince).toISOString() } : {}),
    });
  for (const p of inv.stores.flatMap((s) => s.ports)) {
    if (p.record === undefined) continue;
    const have = byHostIf.get(p.record.hostIfname);
    byHostIf.set(p.record.hostIfname, {
      record: p.record,
      hostLinkPresent: have !== undefined,
      hostLinkUp: have?.hostLinkUp ?? false,
      ...(have?.attachingSince !== undefined ? { attachingSince: have.attachingSince } : {}),
      ...(p.ofport !== undefined ? { ofport: p.ofport } : {}),
      ...(p.error ? { ovsError: p.error } : {}),
      orphaned: have === undefined,
    });
  }
  return [...byHostIf.values()].sort((a, b) => a.record.hostIfname.localeCompare(b.record.hostIfname));
}
