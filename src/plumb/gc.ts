/**
 * gc: remove what netplumb owns and nobody uses, and nothing else.
 *
 * What is ours: OVS ports whose external_ids carry `netplumb.owner=netplumb`, and host
 * links whose alias carries netplumb's record. Ports and links of other tools are never
 * looked at beyond that mark. The objects of one attachment (its port, its host veth) are
 * judged together, by attachment id, and removed together, so an attachment is left
 * whole or not at all:
 *
 *  - nothing wrong (port and veth present, interface up or not yet configured) → kept;
 *  - something wrong, checked in this order:
 *      the attach never finished (the host veth still carries its `since` stamp) → "unfinished";
 *      an OVS port but no host veth: the guest's namespace died and took the veth along → "guest-gone";
 *      the port's interface in error, ofport -1, or no Interface row → "interface-error";
 *      a host veth of an OVS attachment without its port (an OVN attachment: without its OVS
 *        port or its logical port) → "port-gone";
 *    is removed, unless the attachment is in flight in this process (an attach of this
 *    Plumber, or of the daemon holding it) or began less than the grace period ago (the
 *    veth's `since` stamp, the port's `netplumb.created`): another process may still be
 *    attaching it. A veth lives exactly as long as its guest's namespace (the kernel
 *    deletes both ends with it), so "guest dead" shows as "guest-gone" on OVS.
 *
 * Reads only the kernel (one link dump) and the OVSDB monitor cache; no subprocesses.
 * Removal is one OVSDB transaction naming the exact Port rows judged (a port recreated
 * since under the same name is a new row and stays) and one bulk link delete by ifindex.
 */
import { stopDhcp } from './dhcp.js';
import type { HostServices } from './host-services.js';
import { takeInventory, type Inventory, type LinkView, type PortView } from './inventory.js';
import { modeOf } from './modes/index.js';
import type { AttachmentRecord } from './record.js';

export type { LinkView, PortView } from './inventory.js';

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
  /** Attachment id (`netplumb.attachment`). */
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
}

/** Attachments being attached right now in this process (counted: two attaches of one id may overlap). */
export class InFlight {
  readonly #count = new Map<string, number>();

  has(id: string): boolean {
    return this.#count.has(id);
  }

  /** Mark `id` in flight while `body` runs. */
  async track<T>(id: string, body: () => Promise<T>): Promise<T> {
    this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
    try {
      return await body();
    } finally {
      const n = (this.#count.get(id) ?? 1) - 1;
      if (n === 0) this.#count.delete(id);
      else this.#count.set(id, n);
    }
  }
}

export interface Judged {
  entry: GcEntry;
  remove: boolean;
  link?: LinkView;
  ports: PortView[];
}

export interface JudgeContext {
  now: number;
  graceMs: number;
  inFlight: { has(id: string): boolean };
}

/** When an unfinished attach began, or why it must not be touched: shared by gc and a re-run of attach. */
export function unfinishedVerdict(
  id: string,
  began: number | undefined,
  ctx: JudgeContext,
): { reason: 'in-flight' | 'attaching'; detail: string } | undefined {
  if (ctx.inFlight.has(id)) return { reason: 'in-flight', detail: 'being attached by this process right now' };
  if (began !== undefined && ctx.now - began < ctx.graceMs) {
    return {
      reason: 'attaching',
      detail: `attach began ${Math.max(0, Math.round((ctx.now - began) / 1000))} s ago, within the ${ctx.graceMs / 1000} s grace period`,
    };
  }
  return undefined;
}

/** Pure: decide, for each attachment found, whether to remove it and why. */
export function judge(links: readonly LinkView[], ports: readonly PortView[], ctx: JudgeContext): Judged[] {
  const ids = new Set<string>([...links.map((l) => l.record.id), ...ports.map((p) => p.attachment)]);
  const out: Judged[] = [];
  for (const id of [...ids].sort()) {
    const link = links.find((l) => l.record.id === id);
    const mine = ports.filter((p) => p.attachment === id);
    const record = link?.record ?? mine.find((p) => p.record !== undefined)?.record;
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
    const wait = problem && unfinishedVerdict(id, began.length > 0 ? Math.max(...began) : undefined, ctx);
    if (problem === undefined) out.push(verdict(false, 'in-use', 'attached'));
    else if (wait) out.push(verdict(false, wait.reason, `${wait.detail} (${problem.detail})`));
    else out.push(verdict(true, problem.reason, problem.detail));
  }
  return out;
}

/** What is wrong with an attachment, if anything. */
function diagnose(
  link: LinkView | undefined,
  ports: readonly PortView[],
): { reason: GcReason; detail: string } | undefined {
  if (link?.attachingSince !== undefined)
    return {
      reason: 'unfinished',
      detail: `attach begun ${new Date(link.attachingSince).toISOString()} has not finished`,
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
  const stores = link === undefined ? [] : (modeOf(link.record.mode)?.stores ?? []);
  const first = stores[0]?.what;
  const missing = stores.find((s) => !ports.some((p) => (p.store ?? first) === s.what));
  if (link !== undefined && missing !== undefined)
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
  const inventory = await takeInventory(deps.host);
  const judged = judge(
    inventory.links,
    inventory.stores.flatMap((s) => s.ports),
    { now: (deps.now ?? Date.now)(), graceMs: graceSeconds * 1000, inFlight: deps.inFlight },
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
