/**
 * Declared attachments (`attach --persist`): the desired state, kept in the state file
 * (../persist/store.ts), and made real again in each new run of the container. This module
 * says what a declaration is made of, applies a container's declarations, and tells for
 * each whether it is applied, waiting for its container, or failed (and why).
 *
 * What was last seen of each declaration (applying, failed with the reason) is kept in
 * memory: in the daemon, which applies them on the engine's events, it is what `list` shows.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { ContainerState } from '../guest/docker-api.js';
import { type Declaration, type DeclarationStore, sameDeclaration } from '../persist/store.js';
import type { Attachment, AttachResult } from './api.js';
import type { AttachmentRecord } from './record.js';
import type { AttachSpec } from './spec.js';

/** Desired vs actual of one declaration. */
export type DeclaredState = 'applied' | 'waiting' | 'failed';

export interface DeclaredAttachment {
  containerId: string;
  containerName?: string;
  ifname: string;
  host: string;
  declaredAt: string;
  state: DeclaredState;
  /** Why it waits or failed. */
  reason?: string;
}

/** What a declaration keeps of an attach: the container by id, the MAC it got, no one-off options. */
export function declarationOf(spec: AttachSpec, record: AttachmentRecord, containerId: string): Declaration {
  const { persist: _p, force: _f, waitUpMs: _w, ...kept } = spec;
  return {
    containerId,
    ...(record.guestName !== undefined ? { containerName: record.guestName } : {}),
    ifname: record.ifname,
    spec: {
      ...kept,
      guest: { container: containerId },
      ifname: record.ifname,
      ...(record.mac ? { mac: record.mac } : {}),
    },
    declaredAt: new Date().toISOString(),
  };
}

/** What one reconcile of a container did: attachments made, found as declared, failed; declarations dropped. */
export interface ReconcileOutcome {
  applied: number;
  unchanged: number;
  failed: number;
  /** Attaches cut short by the container's next run (its namespace went, or another run began): not failures. */
  superseded: number;
  dropped: number;
  /** Why each failed: the error's code and message. */
  reasons: string[];
  /** Each attach that changed something or failed (not the superseded ones), for the history. */
  attempts: { spec: AttachSpec; outcome: { result: AttachResult } | { error: NetplumbError } }[];
}

/** The last thing seen of a declaration in this process. */
interface Seen {
  state: 'applying' | 'applied' | 'failed' | 'waiting';
  reason?: string;
}

/** What the declarations need from the engine. */
export interface DeclaredHost {
  /** `GET /containers/<id>/json`; NOT_FOUND once the container was removed. */
  inspect(id: string): Promise<ContainerState>;
  /** Attach; `inspected`: the container as just inspected, running. */
  attach(spec: AttachSpec, inspected: ContainerState): Promise<AttachResult>;
  /** Remove the container's attachments (one interface, or all: it was removed). */
  detach(containerId: string, ifname?: string): Promise<void>;
}

/** An attach that met these met the container's next run, not a fault. */
const SUPERSEDED = new Set<ErrorCode>([ErrorCode.NAMESPACE_GONE, ErrorCode.IDENTITY_MISMATCH]);

const keyOf = (d: { containerId: string; ifname: string }) => `${d.containerId}/${d.ifname}`;

export class DeclaredAttachments {
  readonly #seen = new Map<string, Seen>();

  constructor(
    readonly store: DeclarationStore,
    private readonly host: DeclaredHost,
  ) {}

  /** Record (or replace) a declaration. */
  async declare(d: Declaration): Promise<void> {
    await this.store.update((all) => [...all.filter((x) => !sameDeclaration(d, x)), d]);
    this.#seen.set(keyOf(d), { state: 'applied' });
  }

  /** Remove the declarations `which` selects; returns them. */
  async undeclare(which: (d: Declaration) => boolean): Promise<Declaration[]> {
    let gone: Declaration[] = [];
    await this.store.update((all) => {
      gone = all.filter(which);
      return gone.length === 0 ? all : all.filter((d) => !which(d));
    });
    for (const d of gone) this.#seen.delete(keyOf(d));
    return gone;
  }

  /** Containers with declarations. */
  async containers(): Promise<string[]> {
    return [...new Set((await this.store.read()).map((d) => d.containerId))];
  }

  /**
   * Make the container's declarations real as it is now: running → each attached (a no-op
   * when it already is), stopped → waiting, removed → declarations and leftovers dropped.
   * Equivalent to: docker inspect ID, then netplumb attach … for each declaration.
   */
  async reconcile(containerId: string): Promise<ReconcileOutcome> {
    const mine = (await this.store.read()).filter((d) => d.containerId === containerId);
    const outcome: ReconcileOutcome = {
      applied: 0,
      unchanged: 0,
      failed: 0,
      superseded: 0,
      dropped: 0,
      reasons: [],
      attempts: [],
    };
    if (mine.length === 0) return outcome;
    let state: ContainerState;
    try {
      state = await this.host.inspect(containerId);
    } catch (e) {
      if (e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND) {
        outcome.dropped = (await this.dropContainer(containerId)).length;
        return outcome;
      }
      for (const d of mine) this.#seen.set(keyOf(d), { state: 'failed', reason: reasonOf(e) });
      outcome.failed = mine.length;
      outcome.reasons.push(`cannot inspect the container: ${reasonOf(e)}`);
      return outcome;
    }
    if (!state.running || state.pid <= 0) {
      for (const d of mine) this.#seen.set(keyOf(d), { state: 'waiting', reason: `container ${state.status}` });
      return outcome;
    }
    for (const d of mine) {
      this.#seen.set(keyOf(d), { state: 'applying' });
      try {
        const r = await this.host.attach(d.spec, state);
        if (r.changed && !(await this.#declared(d))) {
          // Detached while this attach was under way: the detach wins.
          await this.host.detach(d.containerId, d.ifname);
          continue;
        }
        this.#seen.set(keyOf(d), { state: 'applied' });
        if (r.changed) {
          outcome.applied++;
          outcome.attempts.push({ spec: d.spec, outcome: { result: r } });
        } else outcome.unchanged++;
      } catch (e) {
        if (e instanceof NetplumbError && SUPERSEDED.has(e.code)) {
          // The run ended (or another began) under the attach: its events bring the next reconcile.
          this.#seen.set(keyOf(d), { state: 'waiting', reason: 'the container restarted during the attach' });
          outcome.superseded++;
          continue;
        }
        this.#seen.set(keyOf(d), { state: 'failed', reason: reasonOf(e) });
        outcome.failed++;
        outcome.reasons.push(`${e instanceof NetplumbError ? e.code : 'ERROR'}: ${reasonOf(e)}`);
        if (e instanceof NetplumbError) outcome.attempts.push({ spec: d.spec, outcome: { error: e } });
      }
    }
    return outcome;
  }

  /** The container was removed: its declarations go, and what is left of its attachments. */
  async dropContainer(containerId: string): Promise<Declaration[]> {
    const gone = await this.undeclare((d) => d.containerId === containerId);
    if (gone.length > 0) await this.host.detach(containerId);
    return gone;
  }

  async #declared(d: Declaration): Promise<boolean> {
    return (await this.store.read()).some((x) => sameDeclaration(d, x));
  }

  /** Declarations whose container the engine no longer knows (for gc); dropped unless `dryRun`. */
  async prune(dryRun: boolean): Promise<Declaration[]> {
    const removed: Declaration[] = [];
    const all = await this.store.read();
    for (const id of new Set(all.map((d) => d.containerId))) {
      try {
        await this.host.inspect(id);
      } catch (e) {
        if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) continue; // engine down: keep
        removed.push(...(dryRun ? all.filter((d) => d.containerId === id) : await this.dropContainer(id)));
      }
    }
    return removed;
  }

  /** Each declaration, desired vs actual: `live` is the host's attachments now. */
  async status(live: readonly Attachment[]): Promise<DeclaredAttachment[]> {
    const all = await this.store.read();
    const states = new Map<string, ContainerState | Error>();
    for (const id of new Set(all.map((d) => d.containerId)))
      states.set(
        id,
        await this.host.inspect(id).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      );
    return all.map((d) => {
      const base = {
        containerId: d.containerId,
        ...(d.containerName !== undefined ? { containerName: d.containerName } : {}),
        ifname: d.ifname,
        host: d.spec.host,
        declaredAt: d.declaredAt,
      };
      const c = states.get(d.containerId);
      const seen = this.#seen.get(keyOf(d));
      if (c instanceof Error) {
        if (c instanceof NetplumbError && c.code === ErrorCode.NOT_FOUND)
          return {
            ...base,
            state: 'waiting' as const,
            reason: 'container removed: dropped on its removal event or by gc',
          };
        return { ...base, state: 'failed' as const, reason: `cannot inspect the container: ${c.message}` };
      }
      if (c === undefined || !c.running)
        return { ...base, state: 'waiting' as const, reason: `container ${c?.status ?? '?'}` };
      if (isApplied(d, live)) return { ...base, state: 'applied' as const };
      if (seen?.state === 'applying') return { ...base, state: 'waiting' as const, reason: 'being applied' };
      if (seen?.state === 'failed') return { ...base, state: 'failed' as const, reason: seen.reason ?? 'unknown' };
      return {
        ...base,
        state: 'failed' as const,
        reason:
          'not attached in this run of the container: netplumb serve applies declarations on start (is it running?)',
      };
    });
  }
}

/** Attached now: its record on the host, its host link present, its guest alive. */
function isApplied(d: Declaration, live: readonly Attachment[]): boolean {
  return live.some(
    (a) =>
      a.record.guestId === d.containerId &&
      a.record.ifname === d.ifname &&
      !a.orphaned &&
      a.attachingSince === undefined &&
      (a.hostLinkPresent || a.record.mode === 'macvlan' || a.record.mode === 'phys' || a.record.mode === 'dummy'),
  );
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type { Declaration };
