/**
 * gc: remove what netplumb owns and nobody uses, and nothing else.
 *
 * What is ours: OVS ports whose external_ids carry `netplumb.owner=netplumb`, host links
 * whose alias carries netplumb's record, and host veths with no alias in an attaching link
 * group (record.ts: an attach stopped between creating its veth and recording it; the name,
 * when generated, says which attachment). Ports and links of other tools are never
 * looked at beyond that mark. The objects of one attachment (its port, its host veth) are
 * judged together, by attachment id, and removed together, so an attachment is left
 * whole or not at all:
 *
 *  - nothing wrong (port and veth present, interface up or not yet configured) → kept;
 *  - something wrong, checked in this order:
 *      the attach never finished (the host veth still carries its `since` stamp, or has no
 *      record and is in its attaching group) → "unfinished";
 *      an OVS port but no host veth: the guest's namespace died and took the veth along → "guest-gone";
 *      the port's interface in error, ofport -1, or no Interface row → "interface-error";
 *      a host veth of an OVS attachment without its port (an OVN attachment: without its OVS
 *        port or its logical port) → "port-gone";
 *    is removed, unless the attachment is in flight in this process (an attach of this
 *    Plumber, or of the daemon holding it: by attachment id or host link name) or began
 *    less than the grace period ago (the veth's `since` stamp, or its attaching group's for
 *    a veth without a record, the port's `netplumb.created`): another process may still be
 *    attaching it. A veth lives exactly as long as its guest's namespace (the kernel
 *    deletes both ends with it), so "guest dead" shows as "guest-gone" on OVS.
 *
 * Reads only the kernel (one link dump) and the OVSDB monitor cache; no subprocesses.
 * Removal is one OVSDB transaction naming the exact Port rows judged (a port recreated
 * since under the same name is a new row and stays) and one bulk link delete by ifindex.
 */
import { stopDhcp } from './dhcp.js';
import type { HostServices } from './host-services.js';
import { takeInventory, type Inventory, type LinkView, type PortView, type UnrecordedLinkView } from './inventory.js';
import { modeOf } from './modes/index.js';
import type { AttachmentRecord } from './record.js';

export type { LinkView, PortView, UnrecordedLinkView } from './inventory.js';

/** Default grace period: objects of an attach begun less than this long ago are never collected. */
export const DEFAULT_GC_GRACE_SECONDS = 60;

export interface GcOptions {
  /** Report what would be removed; remove nothing. */
  dryRun?: boolean;
  /** Grace period in seconds (default 60); 0 collects unfinished attaches at once. */
  graceSeconds?: number;
}

/** Why an attachment was removed, or kept. */
export type GcReason =
  | 'unfinished'
  | 'guest-gone'
  | 'port-gone'
  | 'interface-error'
  | 'in-flight'
  | 'attaching'
  | 'in-use';

export interface GcEntry {
  /**
   * Attachment id (`netplumb.attachment`); `link:NAME` for a veth without a record whose
   * name does not say which attachment it was made for (a `--host-ifname` of the user's).
   */
  attachment: string;
  /** The recorded attachment, when a record could be read. */
  record?: AttachmentRecord;
  /** Its OVS port(s), by name. */
  ports: string[];
  /** Its host-side link, when present. */
  link?: string;
  reason: GcReason;
  /** The reason in words (`host veth gone: its container or namespace died`). */
  detail: string;
}

export interface GcResult {
  dryRun: boolean;
  graceSeconds: number;
  /** Removed (or, with dryRun, to be removed). */
  removed: GcEntry[];
  /** Ours and left alone, with why. */
  kept: GcEntry[];
  /** Declarations dropped (or, with dryRun, to be dropped): their container was removed. */
  undeclared?: { containerId: string; ifname: string }[];
}

/**
 * Attachments being attached right now in this process, by id and by host link name (a veth
 * without its record yet is known by its name alone). Counted: two attaches of one id may overlap.
 */
export class InFlight {
  readonly #count = new Map<string, number>();

  has(key: string): boolean {
    return this.#count.has(key);
  }

  /** Mark `keys` (an attachment id, its host link's name) in flight while `body` runs. */
  async track<T>(keys: readonly string[], body: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    for (const k of unique) this.#count.set(k, (this.#count.get(k) ?? 0) + 1);
    try {
      return await body();
    } finally {
      for (const k of unique) {
        const n = (this.#count.get(k) ?? 1) - 1;
        if (n === 0) this.#count.delete(k);
        else this.#count.set(k, n);
      }
    }
  }
}

/** A host link of an attachment: with its record, or (an attach stopped before it wrote one) without. */
export type HostLinkView = LinkView | UnrecordedLinkView;

function recorded(link: HostLinkView | undefined): link is LinkView {
  return link !== undefined && 'record' in link;
}

export interface Judged {
  entry: GcEntry;
  remove: boolean;
  link?: HostLinkView;
  ports: PortView[];
}

export interface JudgeContext {
  now: number;
  graceMs: number;
  /** By attachment id, or host link name. */
  inFlight: { has(key: string): boolean };
}

/**
 * When an unfinished attach began, or why it must not be touched: shared by gc and a re-run
 * of attach. `keys`: the attachment's id and its host link's name, as InFlight knows them.
 */
export function unfinishedVerdict(
  keys: readonly string[],
  began: number | undefined,
  ctx: JudgeContext,
): { reason: 'in-flight' | 'attaching'; detail: string } | undefined {
  if (keys.some((k) => ctx.inFlight.has(k)))
    return { reason: 'in-flight', detail: 'being attached by this process right now' };
  if (began !== undefined && ctx.now - began < ctx.graceMs) {
    return {
      reason: 'attaching',
      detail: `attach began ${Math.max(0, Math.round((ctx.now - began) / 1000))} s ago, within the ${ctx.graceMs / 1000} s grace period`,
    };
  }
  return undefined;
}

/**
 * Pure: decide, for each attachment found, whether to remove it and why. A veth without a
 * record goes with the ports of the attachment its name says (if no recorded link claims
 * that id), else alone, as `link:NAME`.
 */
export function judge(
  links: readonly LinkView[],
  ports: readonly PortView[],
  ctx: JudgeContext,
  unrecorded: readonly UnrecordedLinkView[] = [],
): Judged[] {
  const recordedIds = new Set(links.map((l) => l.record.id));
  const bare = new Map(
    unrecorded.map((u) => [
      u.attachment !== undefined && !recordedIds.has(u.attachment) ? u.attachment : `link:${u.name}`,
      u,
    ]),
  );
  const ids = new Set<string>([...recordedIds, ...bare.keys(), ...ports.map((p) => p.attachment)]);
  const out: Judged[] = [];
  for (const id of [...ids].sort()) {
    const link: HostLinkView | undefined = links.find((l) => l.record.id === id) ?? bare.get(id);
    const mine = ports.filter((p) => p.attachment === id);
    const record = (recorded(link) ? link.record : undefined) ?? mine.find((p) => p.record !== undefined)?.record;
    const began = [link?.attachingSince, ...mine.map((p) => p.created)].filter((t): t is number => t !== undefined);
    const verdict = (remove: boolean, reason: GcReason, detail: string): Judged => ({
      remove,
      entry: {
        attachment: id,
        ...(record ? { record } : {}),
        ports: mine.map((p) => p.name),
        ...(link ? { link: link.name } : {}),
        reason,
        detail,
      },
      ...(link ? { link } : {}),
      ports: mine,
    });
    const problem = diagnose(link, mine);
    const keys = link !== undefined ? [id, link.name] : [id];
    const wait = problem && unfinishedVerdict(keys, began.length > 0 ? Math.max(...began) : undefined, ctx);
    if (problem === undefined) out.push(verdict(false, 'in-use', 'attached'));
    else if (wait) out.push(verdict(false, wait.reason, `${wait.detail} (${problem.detail})`));
    else out.push(verdict(true, problem.reason, problem.detail));
  }
  return out;
}

/** What is wrong with an attachment, if anything. */
function diagnose(
  link: HostLinkView | undefined,
  ports: readonly PortView[],
): { reason: GcReason; detail: string } | undefined {
  if (link?.attachingSince !== undefined)
    return {
      reason: 'unfinished',
      detail: recorded(link)
        ? `attach begun ${new Date(link.attachingSince).toISOString()} has not finished`
        : `attach begun ${new Date(link.attachingSince).toISOString()} stopped before recording veth "${link.name}" (its link group marks it)`,
    };
  if (ports.length > 0 && link === undefined)
    return {
      reason: 'guest-gone',
      detail: ports.find((p) => p.gone !== undefined)?.gone ?? 'host veth gone: its container or namespace died',
    };
  const broken = ports.find((p) => p.interfaceMissing === true || p.error !== undefined || p.ofport === -1);
  if (broken)
    return {
      reason: 'interface-error',
      detail: `OVS interface "${broken.name}": ${broken.error ?? (broken.interfaceMissing === true ? 'no Interface row' : 'ofport -1')}`,
    };
  // Every store the attachment's mode keeps an object in must hold it (an OVN attachment: its OVS port and its logical port).
  const stores = recorded(link) ? (modeOf(link.record.mode)?.stores ?? []) : [];
  const first = stores[0]?.what;
  const missing = stores.find((s) => !ports.some((p) => (p.store ?? first) === s.what));
  if (recorded(link) && missing !== undefined)
    return { reason: 'port-gone', detail: `no ${missing.what} on ${link.record.host} for host veth "${link.name}"` };
  return undefined;
}

export interface GcDeps {
  /** The host's netlink and the stores (OVSDB, connected on demand). */
  host: HostServices;
  inFlight: InFlight;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/**
 * Collect: judge every attachment of ours, then (unless dryRun) remove the dead ones.
 * A store that cannot be read (OVSDB down) is left out, unless one of our host links is of a
 * mode that keeps objects there (then it cannot be judged, and the store's error is thrown).
 */
export async function collectGarbage(deps: GcDeps, opts: GcOptions = {}): Promise<GcResult> {
  const graceSeconds = opts.graceSeconds ?? DEFAULT_GC_GRACE_SECONDS;
  const dryRun = opts.dryRun === true;
  const now = (deps.now ?? Date.now)();
  const inventory = await takeInventory(deps.host, now);
  const judged = judge(
    inventory.links,
    inventory.stores.flatMap((s) => s.ports),
    { now, graceMs: graceSeconds * 1000, inFlight: deps.inFlight },
    inventory.unrecorded,
  );
  const doomed = judged.filter((j) => j.remove);
  if (!dryRun && doomed.length > 0) await remove(deps.host, inventory, doomed);
  for (const j of doomed)
    deps.host.log?.info(
      {
        attachment: j.entry.attachment,
        ports: j.entry.ports,
        link: j.entry.link,
        reason: j.entry.reason,
        detail: j.entry.detail,
        dryRun,
      },
      dryRun ? 'gc: would remove' : 'gc: removed',
    );
  return {
    dryRun,
    graceSeconds,
    removed: doomed.map((j) => j.entry),
    kept: judged.filter((j) => !j.remove).map((j) => j.entry),
  };
}

/** Equivalent to: ovs-vsctl --if-exists del-port P… (one transaction per store) ; ip link del L… (one bulk delete) */
async function remove(host: HostServices, inventory: Inventory, doomed: readonly Judged[]): Promise<void> {
  for (const j of doomed) stopDhcp(j.entry.attachment);
  const doomedPorts = new Set(doomed.flatMap((j) => j.ports));
  // The ports first: a veth deleted first would leave a port in error for a moment.
  for (const { store, ports } of inventory.stores)
    await store.removePorts(
      host,
      ports.filter((p) => doomedPorts.has(p)),
    );
  const indexes = doomed.flatMap((j) => (j.link ? [j.link.index] : []));
  if (indexes.length > 0) await host.rtnl.link.delMany(indexes, { missingOk: true });
}
