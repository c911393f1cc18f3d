/**
 * The engine: attach, detach, list, gc. An attach resolves the guest, reads the record of
 * what exists, and runs its mode's steps under a rollback: on any failure every completed
 * step is undone in reverse. What an attach does on the host and in the guest is its mode's
 * (./modes/): this module asks a mode, never which mode it is.
 *
 * One Plumber holds the host services (./host-services.ts: a netlink socket in the host
 * namespace, OVSDB on demand, the batch queues); a guest's sockets are opened per
 * operation, bound to the guest's namespace fd held for the whole operation.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { ContainerState } from '../guest/docker-api.js';
import { parseGuestRef, type GuestRef } from '../guest/ref.js';
import { openNetns, type Netns } from '../netns/index.js';
import { openGuestSockets, type GuestSockets } from '../netns/sockets.js';
import { DEFAULT_APPLY_TIMEOUT_MS, type Vswitch } from '../ovsdb/index.js';
import { Rtnl } from '../rtnl/index.js';
import { announce } from './announce.js';
import type { Attachment, AttachResult, DetachRequest, DetachResult, PlumberOptions } from './api.js';
import { type DhcpResult, runDhcp, stopDhcp } from './dhcp.js';
import {
  DEFAULT_GC_GRACE_SECONDS,
  InFlight,
  collectGarbage,
  unfinishedVerdict,
  type GcOptions,
  type GcResult,
} from './gc.js';
import { cniContainerId, cniGuestId } from './cni-owner.js';
import { guestIdOf, guestMatcher } from './guest-id.js';
import { Guests } from './guests.js';
import { guestIpPlan } from './guest-config.js';
import { HostServices, settleAll } from './host-services.js';
import { defaultDatapathType, resolveHostTarget } from './host-target.js';
import { attachmentsOf, storeNeeded, takeInventory } from './inventory.js';
import { MODES, REMOTE_STORES, modeOfRecord } from './modes/index.js';
import type { Attaching, Mode } from './modes/mode.js';
import { planOf } from './parse-spec.js';
import { passthrough, type PassthroughTool } from './passthrough.js';
import { DEFAULT_IFNAME, specOf, type AttachPlan } from './plan.js';
import { stableMac } from './mac.js';
import { requireNetworkPrivileges } from './preflight.js';
import { newRecord } from './new-record.js';
import { decodeRecord, sameSettings, type AttachmentRecord } from './record.js';
import { Rollback } from './rollback.js';
import type { AttachSpec } from './spec.js';
import { Networks } from '../ovn/networks.js';
import { Uplinks } from './uplink.js';
import { type DeclaredAttachment, DeclaredAttachments, declarationOf } from './declared.js';
import { DeclarationStore, resolveStateDir } from '../persist/store.js';
import { waitUp } from './wait-up.js';

export type { Attachment, AttachResult, DetachRequest, DetachResult, PlumberOptions } from './api.js';

export class Plumber {
  readonly #hostNs: Netns | undefined;
  readonly #host: HostServices;
  readonly #guests: Guests;
  /** Attachments this Plumber is attaching right now: gc never touches them. */
  readonly #attaching = new InFlight();
  /** Host NICs as ports of OVS bridges (`netplumb uplink`). */
  readonly uplinks: Uplinks;
  /** OVN networks: logical switches of the northbound database (`netplumb network`). */
  readonly networks: Networks;
  /** Declared attachments (`attach --persist`), made again on each start of their container. */
  readonly declared: DeclaredAttachments;

  private constructor(
    private readonly opts: PlumberOptions,
    hostNs: Netns | undefined,
  ) {
    this.#hostNs = hostNs;
    this.#guests = new Guests(opts.dockerHost, hostNs);
    this.#host = new HostServices({
      hostNs,
      ...(opts.ovsDb ? { ovsDb: opts.ovsDb } : {}),
      ...(opts.ovnNb ? { ovnNb: opts.ovnNb } : {}),
      ...(opts.ovsdbConnection ? { ovsdbConnection: opts.ovsdbConnection } : {}),
      applyTimeoutMs: opts.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS,
      datapathType: () => opts.datapathType ?? defaultDatapathType(),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.uplinks = new Uplinks(this.#host);
    this.networks = new Networks(this.#host);
    this.declared = new DeclaredAttachments(new DeclarationStore(resolveStateDir(opts.stateDir)), {
      inspect: (id) => this.#guests.container(id),
      attach: (spec, inspected) => this.attachPlan(planOf(spec), inspected),
      detach: async (id, ifname) => {
        await this.detach({ guest: { container: id }, ...(ifname !== undefined ? { ifname } : {}) });
      },
    });
  }

  static open(opts: PlumberOptions = {}): Plumber {
    const hostNs = opts.hostNetns ? openNetns(opts.hostNetns) : undefined;
    return new Plumber(opts, hostNs);
  }

  /** The OVSDB connection, opened on first use. */
  vswitch(): Promise<Vswitch> {
    return this.#host.vswitch();
  }

  async close(): Promise<void> {
    await this.#host.close();
    this.#hostNs?.close();
  }

  /**
   * Attach a guest: `pipework HOST GUEST IP [MAC][@VLAN]`. Idempotent for the same spec.
   * With `persist`, the attachment is also declared (./declared.ts); if that cannot be
   * written, the attach is undone.
   */
  async attach(spec: AttachSpec): Promise<AttachResult> {
    // Parsed here, once (or bound to its plan by a command line already): nothing below checks a value again.
    const given = planOf(spec);
    if (given.persist !== true) return this.attachPlan(given);
    if (given.guest.kind !== 'container')
      throw new NetplumbError(
        ErrorCode.INVALID_ARGUMENT,
        `--persist follows a container through its restarts; ${given.guest.label} is not a container (name or id)`,
        { field: 'persist' },
      );
    // Each run of the container gets the same MAC: the one given, else one derived from the
    // container's id and the interface (the same for a repeated attach, never the kernel's random one).
    // The container inspected for its id is the one attached: not asked for a second time.
    const inspected = given.mac === undefined ? await this.#guests.container(given.guest.container) : undefined;
    const plan =
      inspected === undefined
        ? given
        : {
            ...given,
            mac: { address: stableMac(`netplumb-persist-${inspected.id}-${given.ifname ?? DEFAULT_IFNAME}`) },
          };
    const result = await this.attachPlan(plan, inspected);
    const containerId = result.record.guestId;
    try {
      await this.declared.declare(declarationOf(specOf(plan), result.record, containerId));
    } catch (e) {
      if (result.changed) await this.detach({ guest: { container: containerId }, ifname: result.record.ifname });
      throw e;
    }
    return result;
  }

  /** The attach of a parsed plan; `inspected`: its container as just inspected (a reconcile's). */
  private async attachPlan(plan: AttachPlan, inspected?: ContainerState): Promise<AttachResult> {
    const ifname = plan.ifname ?? DEFAULT_IFNAME;
    requireNetworkPrivileges();
    const guest = await this.#guests.resolve(plan.guest, plan.allowHostNetns === true, inspected);
    const log = this.#host.log?.child({ guest: guest.containerName ?? guest.ref, ifname });
    // The host side is looked up while the guest's sockets are being made.
    const targetLookup = resolveHostTarget(plan, this.#host);
    // Handled here, reported where it is awaited (or dropped when the sockets fail first).
    targetLookup.catch(() => undefined);
    let sockets: GuestSockets;
    try {
      sockets = await openGuestSockets(guest.netns);
    } catch (e) {
      guest.release();
      throw e;
    }
    const guestRtnl = new Rtnl(sockets.route);
    try {
      const target = await targetLookup;
      const mode: Mode = MODES[target.mode];
      const guestId = plan.cni ? cniGuestId(plan.cni.containerId) : guestIdOf(guest, sockets.netnsCookie);
      const record = newRecord(
        plan,
        ifname,
        {
          guestId,
          ...(guest.containerName ? { guestName: guest.containerName } : {}),
          ...(guest.pid ? { pid: guest.pid } : {}),
        },
        target,
        mode.settings(plan, target),
      );
      const hostLink = mode.side === 'host' ? { hostLink: record.hostIfname } : {};
      const existing = await this.settleExisting(record, mode, guestRtnl, plan.force === true, guest.ref);
      if (existing !== undefined) {
        log?.info({ attachment: record.id }, 'already attached with the same settings');
        return { changed: false, record: existing, ...hostLink };
      }
      const a: Attaching = {
        record,
        plan,
        target,
        guest: { netns: guest.netns, label: guest.ref, rtnl: guestRtnl, sockets },
        addresses: guestIpPlan(plan.ip),
        host: this.#host,
      };
      const dhcp = plan.ip.kind === 'dhcp' ? plan.ip : undefined;
      let lease: DhcpResult | undefined;
      const applied = await this.#attaching.track([record.id, record.hostIfname], () =>
        Rollback.run(
          async (rb) => {
            const done = await mode.apply(a, rb);
            if (dhcp) {
              // The DHCP client runs once the interface is up and plugged in, inside the guest namespace.
              lease = await rb.step(
                'dhcp',
                () => runDhcp(dhcp, guest.netns, ifname, record.id, guest.containerName),
                () => ({ what: `DHCP client for ${ifname}`, run: async () => stopDhcp(record.id) }),
              );
            }
            const complete = mode.complete;
            if (complete !== undefined) await rb.step('complete', () => complete(a));
            return done;
          },
          log,
          this.opts.stepHook,
        ),
      );
      await announce(sockets.packetFd, guestRtnl, ifname, a.addresses.addresses, log, applied.guestLink);
      if (plan.waitUpMs !== undefined) await waitUp(guestRtnl, ifname, plan.waitUpMs);
      log?.info({ attachment: record.id, host: target.name, mode: target.mode }, 'attached');
      return {
        changed: true,
        record,
        ...(applied.ofport !== undefined ? { ofport: applied.ofport } : {}),
        ...(applied.waitedMs !== undefined ? { waitedMs: applied.waitedMs } : {}),
        ...hostLink,
        ...(lease?.resolv ? { dhcp: lease.resolv } : {}),
      };
    } finally {
      guestRtnl.close();
      sockets.closeExtras();
      guest.release();
    }
  }

  /**
   * What exists of this attachment, made ready for the attach: the same settings → that
   * record (nothing to do); other settings → CONFLICT, or removed with `force`; a half-done
   * attach → CONFLICT while it may be under way, else removed. A guest interface of that
   * name that netplumb did not make is ALREADY_EXISTS.
   */
  private async settleExisting(
    wanted: AttachmentRecord,
    mode: Mode,
    guestRtnl: Rtnl,
    force: boolean,
    guestLabel: string,
  ): Promise<AttachmentRecord | undefined> {
    // Our record of this attachment, and any interface of that name in the guest, read together.
    const [found, present] = await Promise.all([
      mode.find(wanted, { host: this.#host, guest: guestRtnl, done: async () => undefined }),
      guestRtnl.link.find(wanted.ifname),
    ]);
    let existing = found?.record;
    if (found?.attachingSince !== undefined) {
      await this.replaceUnfinished(found.record, found.attachingSince, guestRtnl);
      existing = undefined;
    }
    if (existing !== undefined) {
      if (sameSettings(existing, wanted)) return existing;
      if (!force)
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `${guestLabel} already has ${wanted.ifname} attached to ${existing.host} with other settings; detach it first or pass --force to replace it`,
          { field: 'ifname', existing },
        );
      await this.removeAll([existing], guestRtnl);
    }
    // A name seen in the guest is read again: what was found, or the replace above, may just have removed ours.
    if ((present !== undefined || found !== undefined) && (await guestRtnl.link.find(wanted.ifname)) !== undefined)
      throw new NetplumbError(
        ErrorCode.ALREADY_EXISTS,
        `${guestLabel} already has an interface "${wanted.ifname}" not made by netplumb; choose another with -i/--ifname`,
        { field: 'ifname' },
      );
    return undefined;
  }

  /**
   * An earlier attach of this interface that did not finish: still under way (here, or
   * within the grace period) → CONFLICT; crashed → removed, so this attach starts afresh.
   */
  private async replaceUnfinished(r: AttachmentRecord, since: number, guestRtnl: Rtnl): Promise<void> {
    const busy = unfinishedVerdict([r.id, r.hostIfname], since, {
      now: Date.now(),
      graceMs: (this.opts.graceSeconds ?? DEFAULT_GC_GRACE_SECONDS) * 1000,
      inFlight: this.#attaching,
    });
    if (busy)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `an earlier attach of ${r.ifname} to that guest has not finished (${busy.detail}); retry once it is done or, if it was killed, run "netplumb gc --grace 0" first`,
        { field: 'ifname' },
      );
    this.#host.log?.info(
      { attachment: r.id, since: new Date(since).toISOString() },
      'replacing an attach that did not finish',
    );
    await this.removeAll([r], guestRtnl);
  }

  /**
   * Detach one interface of a guest, or all of them, and drop their declarations first (a
   * reconcile under way finds them gone and undoes its attach). Succeeds when there is nothing to do.
   */
  async detach(req: DetachRequest): Promise<DetachResult> {
    // Only containers are declared: a namespace (a CNI runtime's too) has no declaration to drop.
    if (req.cniContainerId === undefined && namesContainer(req.guest)) {
      const ofGuest = guestMatcher(req.guest);
      await this.declared.undeclare(
        (d) =>
          (req.ifname === undefined || d.ifname === req.ifname) &&
          ofGuest({ guestId: d.containerId, ...(d.containerName !== undefined ? { guestName: d.containerName } : {}) }),
      );
    }
    return this.detachAttached(req);
  }

  private async detachAttached(req: DetachRequest): Promise<DetachResult> {
    const wantIf = (r: AttachmentRecord) => req.ifname === undefined || r.ifname === req.ifname;
    // A CNI runtime's attachment is recorded under its container id, not under its namespace's.
    const recordedAs =
      req.cniContainerId === undefined ? undefined : cniGuestId(cniContainerId('cniContainerId', req.cniContainerId));
    // A live guest: its attachments are read from inside it (its interfaces carry their
    // records) and from the stores by guest id — no scan of the whole host.
    const live = await this.#guests.withLive(
      req.guest,
      async (guestRtnl, guestId) => {
        const byId = new Map<string, AttachmentRecord>();
        for (const l of await guestRtnl.link.list()) {
          const r = decodeRecord(l.alias);
          if (r !== undefined && r.guestId === guestId && wantIf(r)) byId.set(r.id, r);
        }
        // Also when the guest shows none of a store's: an object left by a failed rollback (its link gone) is still ours to remove.
        for (const store of REMOTE_STORES) {
          if (!storeNeeded(store, [...byId.values()]) && !(await store.reachable(this.#host))) continue;
          for (const r of await store.recordsOf(this.#host, guestId))
            if (wantIf(r) && !byId.has(r.id)) byId.set(r.id, r);
        }
        const records = [...byId.values()];
        await this.removeAll(records, guestRtnl);
        return records;
      },
      recordedAs,
    );
    if (live !== undefined) {
      this.#host.log?.info({ count: live.length }, 'detached');
      return { detached: live };
    }
    // The guest is gone: find what it left on the host by its recorded name or id.
    const ofGuest =
      recordedAs === undefined ? guestMatcher(req.guest) : (r: AttachmentRecord) => r.guestId === recordedAs;
    const found = (await this.list()).map((a) => a.record).filter((r) => ofGuest(r) && wantIf(r));
    await this.removeAll(found);
    this.#host.log?.info({ count: found.length }, 'detached (guest gone)');
    return { detached: found };
  }

  /**
   * Remove attachments, each by its mode, all at once: concurrent removals share one OVSDB
   * transaction for the ports and one bulk kernel delete for the host links.
   */
  private async removeAll(records: readonly AttachmentRecord[], guest?: Rtnl): Promise<void> {
    // Every mode known before anything goes (a record of another version's mode: UNSUPPORTED).
    const removals = records.map((r) => ({ r, mode: modeOfRecord(r) }));
    // A renewing DHCP client may run for any of them (its pidfile says); stop it first.
    for (const r of records) stopDhcp(r.id);
    let index = 0;
    const at = {
      host: this.#host,
      ...(guest !== undefined ? { guest } : {}),
      done: async (step: string) => this.opts.detachStepHook?.(step, index++),
    };
    await settleAll(removals.map(({ r, mode }) => mode.remove(r, at)));
  }

  /** Which records belong to the guest the user named (container name/id/prefix, or a namespace)? */
  matcher(guest: GuestRef): (r: AttachmentRecord) => boolean {
    return guestMatcher(guest);
  }

  /**
   * Remove what netplumb owns and nobody uses (see gc.ts for the rules), and the declarations
   * of containers the engine no longer knows; dryRun: only say what and why.
   */
  async gc(opts: GcOptions = {}): Promise<GcResult> {
    const graceSeconds = opts.graceSeconds ?? this.opts.graceSeconds;
    const undeclared = await this.declared.prune(opts.dryRun === true);
    const result = await collectGarbage(
      { host: this.#host, inFlight: this.#attaching },
      { ...opts, ...(graceSeconds !== undefined ? { graceSeconds } : {}) },
    );
    return undeclared.length === 0
      ? result
      : { ...result, undeclared: undeclared.map((d) => ({ containerId: d.containerId, ifname: d.ifname })) };
  }

  /** Each declared attachment, desired vs actual (applied, waiting for its container, failed and why). */
  async declaredStatus(): Promise<DeclaredAttachment[]> {
    return this.declared.status(await this.list());
  }

  /** pipework's `route`, `rule` and `tc` pass-throughs, inside the guest's namespace (./passthrough.ts). */
  async passthrough(ref: GuestRef, tool: PassthroughTool, args: string[]): Promise<void> {
    const guest = await this.#guests.resolve(parseGuestRef(ref), false);
    try {
      await passthrough(guest, tool, args);
    } finally {
      guest.release();
    }
  }

  /** Every attachment this host knows of: host links carrying our record, and our objects in every store. */
  async list(): Promise<Attachment[]> {
    return attachmentsOf(await takeInventory(this.#host));
  }
}

/** A reference that may name a container (not a namespace, nor a recorded namespace id). */
function namesContainer(ref: GuestRef): boolean {
  try {
    return parseGuestRef(ref).kind === 'container';
  } catch {
    return false;
  }
}
