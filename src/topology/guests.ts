/**
 * Where each attachment's guest is now, and its interface as seen from inside: the
 * container through the engine's API (is it there, does it run, in which namespace), a
 * bare namespace by its recorded id among /run/netns and the recorded pid, a CNI runtime's
 * container by its interface's record among /run/netns; then, in the
 * namespace, the link that carries the attachment's record and its addresses.
 *
 * Read-only. Nothing here throws for a guest that is gone or cannot be asked: that is
 * what `show` reports. Equivalent to: docker inspect C ; ip -n G -d link show ; ip -n G addr show
 */
import { readdirSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import { DockerClient } from '../guest/docker-api.js';
import { resolveGuest, type Guest } from '../guest/resolve.js';
import { openNetns, type Netns } from '../netns/index.js';
import { netnsCookieOf, openRouteIn } from '../netns/sockets.js';
import { CNI_GUEST_ID } from '../plumb/cni-owner.js';
import { decodeAlias, type AttachmentRecord } from '../plumb/record.js';
import { eachLimited } from '../limit.js';
import { Rtnl, type Link } from '../rtnl/index.js';
import type { GuestState } from './model.js';

/** An attachment's guest as found, and (when it runs) its interface for that attachment. */
export interface GuestFacts {
  state: GuestState['state'];
  kind: GuestState['kind'];
  name?: string;
  pid?: number;
  detail?: string;
  /** The /run/netns name of a bare namespace guest. */
  netnsName?: string;
  /** The guest's link carrying this attachment's record, and its global addresses (CIDR). */
  iface?: { link: Link; addresses: string[] };
  /** The guest's namespace, held (only when asked to hold): the caller releases it. */
  netns?: Netns;
}

export interface ReadGuestsOptions {
  dockerHost?: string;
  /** Keep each running guest's namespace open in `GuestFacts.netns` (for probes); release with releaseGuests. */
  hold?: boolean;
  /** Guests read at once (default 16). */
  concurrency?: number;
}

const NETNS_DIR = '/run/netns';

/** Every attachment's guest, by attachment id. Attachments of one guest share one lookup. */
export async function readGuests(
  records: readonly AttachmentRecord[],
  opts: ReadGuestsOptions = {},
): Promise<Map<string, GuestFacts>> {
  const docker = new DockerClient({
    ...(opts.dockerHost !== undefined ? { host: opts.dockerHost } : {}),
    notRunningRetries: 0,
    timeoutMs: 5000,
  });
  const byGuest = new Map<string, AttachmentRecord[]>();
  for (const r of records) byGuest.set(r.guestId, [...(byGuest.get(r.guestId) ?? []), r]);
  const namespaces = lazy(() => namedNamespaces());
  const cniNamespaces = lazy(() => namespacesOfCniGuests());
  const out = new Map<string, GuestFacts>();
  await eachLimited([...byGuest.values()], opts.concurrency ?? 16, async (rs) => {
    const first = rs[0] as AttachmentRecord;
    const found = first.guestId.startsWith('netns:')
      ? await findNamespace(first, namespaces)
      : CNI_GUEST_ID.test(first.guestId)
        ? await findCniNamespace(first, cniNamespaces)
        : await findContainer(first, docker);
    if (found.open === undefined) {
      for (const r of rs) out.set(r.id, found.facts);
      return;
    }
    const ns = found.open;
    let inside: Map<string, { link: Link; addresses: string[] }> | undefined;
    let failure: string | undefined;
    try {
      inside = await readInside(ns, rs);
    } catch (e) {
      failure = message(e);
    }
    for (const r of rs) {
      const iface = inside?.get(r.id);
      const restarted = iface === undefined && first.pid !== undefined && found.facts.pid !== first.pid;
      out.set(r.id, {
        ...found.facts,
        ...(failure !== undefined ? { state: 'unknown' as const, detail: failure } : {}),
        ...(failure === undefined && restarted ? { state: 'restarted' as const } : {}),
        ...(iface !== undefined ? { iface } : {}),
        ...(opts.hold === true ? { netns: ns } : {}),
      });
    }
    if (opts.hold !== true) ns.close();
  });
  return out;
}

/** Close the namespaces readGuests held. */
export function releaseGuests(guests: Map<string, GuestFacts>): void {
  for (const g of guests.values()) g.netns?.close();
}

interface Found {
  facts: GuestFacts;
  /** The guest's namespace, open, when it runs. */
  open?: Netns;
}

/** A container by its recorded id: gone, stopped, or running in the namespace opened (identity checked). */
async function findContainer(r: AttachmentRecord, docker: DockerClient): Promise<Found> {
  const recordedName = r.guestName?.replace(/^\//, '');
  const base = { kind: 'container' as const, ...(recordedName ? { name: recordedName } : {}) };
  let guest: Guest;
  try {
    guest = await resolveGuest({ container: r.guestId }, { docker });
  } catch (e) {
    if (e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)
      return { facts: { ...base, state: 'gone', detail: `no container ${r.guestId.slice(0, 12)} any more` } };
    if (e instanceof NetplumbError && e.code === ErrorCode.NAMESPACE_GONE) {
      const status = typeof e.details.status === 'string' ? e.details.status : 'not running';
      return { facts: { ...base, state: 'stopped', detail: `container is ${status}` } };
    }
    return { facts: { ...base, state: 'unknown', detail: message(e) } };
  }
  const name = guest.containerName?.replace(/^\//, '') ?? recordedName;
  const netns = guest.netns;
  return {
    facts: {
      kind: 'container',
      state: 'running',
      ...(name ? { name } : {}),
      ...(guest.pid !== undefined ? { pid: guest.pid } : {}),
    },
    open: netns,
  };
}

/** Does this open namespace carry the recorded id (`netns:cookie:N`, or `netns:DEV:INO` in older records)? */
function isRecordedNamespace(ns: Netns, guestId: string): boolean {
  if (guestId === `netns:${ns.dev}:${ns.ino}`) return true;
  return guestId.startsWith('netns:cookie:') && guestId === `netns:cookie:${netnsCookieOf(ns)}`;
}

/** A bare namespace: through the recorded pid if that process still lives in it, else among /run/netns. */
async function findNamespace(r: AttachmentRecord, namespaces: () => Map<string, string>): Promise<Found> {
  if (r.pid !== undefined) {
    const ns = tryOpen(() => openNetns({ pid: r.pid as number }));
    if (ns !== undefined) {
      if (isRecordedNamespace(ns, r.guestId))
        return { facts: { kind: 'netns', state: 'running', pid: r.pid }, open: ns };
      ns.close();
    }
  }
  const name = namespaces().get(r.guestId);
  const ns = name === undefined ? undefined : tryOpen(() => openNetns({ name }));
  if (name === undefined || ns === undefined)
    return { facts: { kind: 'netns', state: 'gone', detail: 'no namespace with the recorded id (deleted)' } };
  return { facts: { kind: 'netns', state: 'running', name, netnsName: name }, open: ns };
}

/**
 * A CNI runtime's container (recorded as `cni:<id>`): its namespace is among /run/netns
 * (podman, containerd and Multus's runtimes put theirs there), the one whose interface
 * carries the record.
 */
async function findCniNamespace(r: AttachmentRecord, namespaces: () => Promise<Map<string, string>>): Promise<Found> {
  const base = { kind: 'container' as const, name: r.guestId };
  const name = (await namespaces()).get(r.guestId);
  const ns = name === undefined ? undefined : tryOpen(() => openNetns({ name }));
  if (name === undefined || ns === undefined)
    return {
      facts: {
        ...base,
        state: 'gone',
        detail: `no namespace in ${NETNS_DIR} holds its interface (its container stopped)`,
      },
    };
  return { facts: { ...base, state: 'running', netnsName: name }, open: ns };
}

/** /run/netns names by the CNI guest ids (`cni:<id>`) their interfaces carry in their records. */
async function namespacesOfCniGuests(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await eachLimited(netnsNames(), 16, async (name) => {
    const ns = tryOpen(() => openNetns({ name }));
    if (ns === undefined) return;
    try {
      const rtnl = new Rtnl((await openRouteIn(ns)).route);
      try {
        for (const l of await rtnl.link.list()) {
          const r = decodeAlias(l.alias)?.record;
          // The guest's end only: the host end of a veth carries the record too.
          if (r !== undefined && CNI_GUEST_ID.test(r.guestId) && l.name === r.ifname && l.name !== r.hostIfname)
            out.set(r.guestId, name);
        }
      } finally {
        rtnl.close();
      }
    } catch {
      // a namespace that cannot be read holds none we can show
    } finally {
      ns.close();
    }
  });
  return out;
}

/** /run/netns names by the id a record would carry for them (both forms). */
function namedNamespaces(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of netnsNames()) {
    const ns = tryOpen(() => openNetns({ name }));
    if (ns === undefined) continue;
    try {
      out.set(`netns:${ns.dev}:${ns.ino}`, name);
      const cookie = netnsCookieOf(ns);
      if (cookie !== '') out.set(`netns:cookie:${cookie}`, name);
    } finally {
      ns.close();
    }
  }
  return out;
}

/** In the guest: each attachment's link (found by the record in its alias) and its global addresses. */
async function readInside(
  ns: Netns,
  records: readonly AttachmentRecord[],
): Promise<Map<string, { link: Link; addresses: string[] }>> {
  const rtnl = new Rtnl((await openRouteIn(ns)).route);
  try {
    const [links, addrs] = await Promise.all([rtnl.link.list(), rtnl.addr.list()]);
    const out = new Map<string, { link: Link; addresses: string[] }>();
    for (const r of records) {
      const link = links.find((l) => decodeAlias(l.alias)?.record.id === r.id);
      if (link === undefined) continue;
      const addresses = addrs
        .filter((a) => a.index === link.index && a.scope === 'global')
        .map((a) => a.cidr)
        .sort();
      out.set(r.id, { link, addresses });
    }
    return out;
  } finally {
    rtnl.close();
  }
}

/** The names under /run/netns (none when it is not there). */
function netnsNames(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

function tryOpen(open: () => Netns): Netns | undefined {
  try {
    return open();
  } catch {
    return undefined;
  }
}

function lazy<T>(make: () => T): () => T {
  let v: { value: T } | undefined;
  return () => {
    v ??= { value: make() };
    return v.value;
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
