/**
 * The engine: attach, detach, list. Resolve the guest → plan → apply → on any failure
 * roll back every completed step in reverse.
 *
 * One Plumber holds a netlink socket in the host namespace and (on demand) one OVSDB
 * connection; a guest's socket is opened per operation, bound to the guest's namespace fd
 * held for the whole operation.
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import { openNetns, type Netns, type NetnsIdentity, type NetnsSelector } from '../netns/index.js';
import { openRouteTransport } from '../netlink/native-transport.js';
import { Rtnl, type Link } from '../rtnl/index.js';
import { Vswitch, validateUserExternalIds, type PortRow } from '../ovsdb/index.js';
import type { ConnectionOptions } from '../ovsdb/connection.js';
import { ifName, mtu as validMtu, vlanId } from '../validate.js';
import { resolveGuest, type Guest } from '../guest/resolve.js';
import { configureGuest, planAddresses, type GuestIpPlan } from './guest-config.js';
import { resolveHostTarget, defaultDatapathType, type HostTarget } from './host-target.js';
import { resolveMac } from './mac.js';
import { vlanSubinterfaceName } from './names.js';
import { announce } from './announce.js';
import { requireNetworkPrivileges } from './preflight.js';
import { setTxChecksum } from '../ethtool.js';
import { netnsCookieOf, openGuestSockets, openRouteIn, type GuestSockets } from '../netns/sockets.js';
import { runDhcp, stopDhcp, runInNetns } from './dhcp.js';
import { Rollback, type StepHook } from './rollback.js';
import { Batcher, type Settled } from './batcher.js';
import { OvsPortQueue } from './ovs-ports.js';
import {
  DEFAULT_GC_GRACE_SECONDS,
  InFlight,
  collectGarbage,
  unfinishedVerdict,
  type GcOptions,
  type GcResult,
} from './gc.js';
import {
  ALIAS_PREFIX,
  aliasFor,
  attachmentId,
  decodeAlias,
  decodeRecord,
  defaultHostIfname,
  externalIdsFor,
  sameSettings,
  type AttachmentRecord,
} from './record.js';
import type { AttachSpec } from './spec.js';
import type { GuestRef } from '../guest/ref.js';
import type { GuestRef as SpecGuestRef } from './spec.js';

/** The spec's guest forms, as the resolver takes them (`{ netns }` names a /run/netns entry). */
function toGuestRef(g: SpecGuestRef | GuestRef): GuestRef {
  return typeof g === 'object' && 'netns' in g ? { name: g.netns } : g;
}

export interface PlumberOptions {
  logger?: Logger;
  /** OVSDB remote (`unix:/run/openvswitch/db.sock` by default, or $OVS_DB / $OVS_RUNDIR). */
  ovsDb?: string;
  /** Docker Engine API socket (`unix:///var/run/docker.sock` by default, or $DOCKER_HOST). */
  dockerHost?: string;
  /** The namespace host-side links live in (where ovs-vswitchd runs); default: this process's. */
  hostNetns?: NetnsSelector;
  /** `datapath_type` for OVS bridges netplumb creates; default `netdev` without the kernel module. */
  datapathType?: string;
  /** How long to wait for ovs-vswitchd to apply a port (ms). */
  applyTimeoutMs?: number;
  /** OVSDB request deadline, reconnect backoff and inactivity probe (defaults: see ConnectionOptions). */
  ovsdbConnection?: Omit<ConnectionOptions, 'remote' | 'logger'>;
  /** Test hook: called after each completed step of an attach. */
  stepHook?: StepHook;
  /** Test hook: called after each completed step of removing an attachment (detach, or a replace). */
  detachStepHook?: StepHook;
  /**
   * Grace period (s) of an attach that has not finished (default 60): younger, it may still
   * be under way in another process, so gc keeps it and a re-run of the attach is refused
   * with CONFLICT; older, gc removes it and a re-run replaces it.
   */
  graceSeconds?: number;
}

export interface AttachResult {
  /** False when the same attachment already existed (idempotent no-op). */
  changed: boolean;
  record: AttachmentRecord;
  ofport?: number;
}

export interface DetachRequest {
  guest: SpecGuestRef | GuestRef;
  /** One interface; omitted: every attachment of the guest. */
  ifname?: string;
}

export interface DetachResult {
  detached: AttachmentRecord[];
}

export interface Attachment {
  record: AttachmentRecord;
  /** The host-side link exists (veth modes). */
  hostLinkPresent: boolean;
  hostLinkUp: boolean;
  ofport?: number;
  ovsError?: string;
  /** The attachment's interface is gone (container died): `netplumb detach` or `gc` cleans it. */
  orphaned: boolean;
  /** Its attach has not finished (ISO 8601 time it began): under way, or killed (`gc` cleans it). */
  attachingSince?: string;
}

const DEFAULT_APPLY_TIMEOUT_MS = 10_000;
/**
 * The guest id recorded for a namespace guest: `netns:cookie:N` (`netns:DEV:INO` in older
 * records). A detach may name a guest by it; it is never a valid namespace name.
 */
const RECORDED_NETNS_ID = /^netns:(?:cookie:\d+|\d+:\d+)$/;
/** Modes whose whole attachment lives in the guest (no host-side link): recorded on the guest link. */
const GUEST_SIDE_MODES: ReadonlySet<string> = new Set(['macvlan', 'dummy', 'phys']);

/** What the attach's steps produced: the OVS port number, and the guest interface if it was read. */
interface Applied {
  ofport?: number;
  guestLink?: Link;
}

export class Plumber {
  #vswitch: Promise<Vswitch> | undefined;
  readonly #hostNs: Netns | undefined;
  readonly #host: Rtnl;
  readonly #log: Logger | undefined;
  /** Concurrent attaches/detaches share OVSDB transactions and datapath waits. */
  readonly #ports: OvsPortQueue;
  /** Concurrent detaches share one bulk kernel delete. */
  readonly #linkDels: Batcher<string, void>;
  /** Attachments this Plumber is attaching right now: gc never touches them. */
  readonly #attaching = new InFlight();

  private constructor(
    private readonly opts: PlumberOptions,
    hostNs: Netns | undefined,
  ) {
    this.#hostNs = hostNs;
    this.#host = new Rtnl(openRouteTransport(hostNs?.fd, hostNs?.label ?? 'the host namespace'));
    this.#log = opts.logger?.child({ component: 'plumb' });
    this.#ports = new OvsPortQueue(() => this.vswitch(), opts.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS);
    this.#linkDels = new Batcher((names) => this.#deleteLinks(names));
  }

  /** Equivalent to: ip link del group G (after moving NAMES into G); alone, one by one, if that fails. */
  async #deleteLinks(names: string[]): Promise<Settled<void>[]> {
    try {
      await this.#host.link.delMany(names, { missingOk: true });
      return names.map(() => ({ ok: true as const, value: undefined }));
    } catch {
      return Promise.all(
        names.map((n) =>
          ignoreMissing(this.#host.link.del(n)).then(
            () => ({ ok: true as const, value: undefined }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ),
      );
    }
  }

  static open(opts: PlumberOptions = {}): Plumber {
    const hostNs = opts.hostNetns ? openNetns(opts.hostNetns) : undefined;
    return new Plumber(opts, hostNs);
  }

  /** The OVSDB connection, opened on first use. */
  vswitch(): Promise<Vswitch> {
    this.#vswitch ??= Vswitch.connect({
      ...this.opts.ovsdbConnection,
      ...(this.opts.ovsDb ? { remote: this.opts.ovsDb } : {}),
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
    }).catch((e: unknown) => {
      this.#vswitch = undefined;
      throw e;
    });
    return this.#vswitch;
  }

  async close(): Promise<void> {
    this.#host.close();
    this.#hostNs?.close();
    const vs = this.#vswitch;
    this.#vswitch = undefined;
    if (vs) await (await vs.catch(() => undefined))?.close();
  }

  /** Attach a guest: `pipework HOST GUEST IP [MAC][@VLAN]`. Idempotent for the same spec. */
  async attach(spec: AttachSpec): Promise<AttachResult> {
    if (spec.hostMac === undefined) ifName('host', spec.host);
    const ifname = ifName('ifname', spec.ifname ?? 'eth1');
    const hostIfnameGiven = spec.hostIfname === undefined ? undefined : ifName('hostIfname', spec.hostIfname);
    const vlan = spec.vlan === undefined ? undefined : vlanId('vlan', spec.vlan);
    const trunks = spec.trunks?.map((t, i) => vlanId(`trunks[${i}]`, t));
    if (vlan !== undefined && trunks !== undefined)
      throw invalidArgument('trunks', 'give an access VLAN or trunks, not both');
    const mtuGiven = spec.mtu === undefined ? undefined : validMtu('mtu', spec.mtu);
    const mac = spec.mac === undefined ? undefined : resolveMac('mac', spec.mac);
    const plan: GuestIpPlan =
      spec.ip.kind === 'static' ? planAddresses([spec.ip.address], spec.ip.gateway) : { addresses: [] };
    const dhcp = spec.ip.kind === 'dhcp' ? spec.ip : undefined;
    if (spec.metadata) validateUserExternalIds(spec.metadata);
    requireNetworkPrivileges();

    const guest = await this.resolve(toGuestRef(spec.guest), spec.allowHostNetns === true);
    const log = this.#log?.child({ guest: guest.containerName ?? guest.ref, ifname });
    // The host side is looked up while the guest's sockets are being made.
    const targetLookup = resolveHostTarget(spec, {
      rtnl: this.#host,
      vswitch: () => this.vswitch(),
      datapathType: () => this.opts.datapathType ?? defaultDatapathType(),
    });
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
      if (vlan !== undefined && target.mode === 'bridge')
        throw invalidArgument(
          'vlan',
          'VLAN configuration is not supported for a Linux bridge; use an Open vSwitch bridge',
        );
      if (trunks !== undefined && target.mode !== 'ovs')
        throw invalidArgument('trunks', 'trunk ports need an Open vSwitch bridge');
      const guestId = guestIdOf(guest, sockets.netnsCookie);
      const id = attachmentId({ guestId, ifname });
      const record: AttachmentRecord = {
        id,
        guestId,
        ifname,
        mode: target.mode,
        host: target.name,
        hostIfname: hostIfnameGiven ?? defaultHostIfname(id),
        ...(guest.containerName ? { guestName: guest.containerName } : {}),
        ...(guest.pid ? { pid: guest.pid } : {}),
        addresses: plan.addresses.map((a) => a.cidr),
        ...(dhcp ? { dhcp: `${dhcp.client}${dhcp.foreground ? '-f' : ''}` } : {}),
        ...(plan.gateway ? { gateway: plan.gateway } : {}),
        mac: mac ?? '',
        ...(vlan !== undefined ? { vlan } : {}),
        ...(trunks !== undefined ? { trunks } : {}),
        ...(target.mode === 'macvlan' ? { macvlanMode: spec.macvlanMode ?? 'bridge' } : {}),
        // A moved NIC keeps its own MTU unless one is asked for (0: unchanged).
        mtu: mtuGiven ?? (target.mode === 'phys' ? 0 : target.mtu),
      };
      // Our record of this attachment, and any interface of that name in the guest, read together.
      const [existing, present] = await Promise.all([this.existing(record, guestRtnl), linkExists(guestRtnl, ifname)]);
      if (existing !== undefined) {
        if (sameSettings(existing, record)) {
          log?.info({ attachment: id }, 'already attached with the same settings');
          return { changed: false, record: existing };
        }
        if (spec.force !== true) {
          throw new NetplumbError(
            ErrorCode.CONFLICT,
            `${guest.ref} already has ${ifname} attached to ${existing.host} with other settings; detach it first or pass --force to replace it`,
            { field: 'ifname', existing },
          );
        }
        await this.removeAttachment(existing, guestRtnl);
      }
      // A name seen in the guest is read again: existing() or the replace above may have just removed ours.
      if ((present || existing !== undefined) && (await linkExists(guestRtnl, ifname))) {
        throw new NetplumbError(
          ErrorCode.ALREADY_EXISTS,
          `${guest.ref} already has an interface "${ifname}" not made by netplumb; choose another with -i/--ifname`,
          { field: 'ifname' },
        );
      }
      const result = await this.#attaching.track(id, () =>
        Rollback.run(
          async (rb) => {
            const applied = await this.apply(record, target, guest, sockets, guestRtnl, plan, rb, spec.metadata);
            if (dhcp) {
              // The DHCP client runs once the interface is up and plugged in, inside the guest namespace.
              await rb.step(
                'dhcp',
                () => runDhcp(dhcp, guest.netns, ifname, id, guest.containerName),
                () => ({ what: `DHCP client for ${ifname}`, run: async () => stopDhcp(id) }),
              );
            }
            if (!GUEST_SIDE_MODES.has(record.mode)) {
              // Whole: the host veth's record loses its `since` stamp. Equivalent to: ip link set HOSTIF alias RECORD
              await rb.step('complete', () => this.#host.link.set(record.hostIfname, { alias: aliasFor(record) }));
            }
            return applied;
          },
          log,
          this.opts.stepHook,
        ),
      );
      await announce(sockets.packetFd, guestRtnl, ifname, plan.addresses, log, result.guestLink);
      if (spec.waitUpMs !== undefined) await waitUp(guestRtnl, ifname, spec.waitUpMs);
      log?.info({ attachment: id, host: target.name, mode: target.mode }, 'attached');
      return { changed: true, record, ...(result.ofport !== undefined ? { ofport: result.ofport } : {}) };
    } finally {
      guestRtnl.close();
      sockets.closeExtras();
      guest.release();
    }
  }

  /** Resolve and hold the guest's namespace; the configured host namespace is refused like our own. */
  private async resolve(ref: GuestRef, allowHostNetns: boolean): Promise<Guest> {
    const guest = await resolveGuest(ref, {
      allowHostNetns,
      ...(this.opts.dockerHost ? { dockerOptions: { host: this.opts.dockerHost } } : {}),
    });
    if (!allowHostNetns && this.#hostNs?.is(guest.identity)) {
      guest.release();
      throw new NetplumbError(
        ErrorCode.HOST_NAMESPACE_REFUSED,
        `${guest.ref} is the host namespace netplumb plugs into; refusing to change it (pass --allow-host-netns to force)`,
        { field: 'guest' },
      );
    }
    return guest;
  }

  private async apply(
    r: AttachmentRecord,
    target: HostTarget,
    guest: Guest,
    sockets: GuestSockets,
    guestRtnl: Rtnl,
    plan: GuestIpPlan,
    rb: Rollback,
    metadata?: Record<string, string>,
  ): Promise<Applied> {
    const peer = { name: r.ifname, netnsFd: guest.netns.fd, mtu: r.mtu, ...(r.mac ? { mac: r.mac } : {}) };
    if (r.mode === 'macvlan' || r.mode === 'dummy') {
      const parent =
        r.mode === 'macvlan' && r.vlan !== undefined ? await this.vlanParent(target.name, r.vlan, rb) : target.name;
      // The guest interface is created directly in the guest namespace: nothing on the host.
      // Equivalent to: ip link add link PARENT name IF netns G address MAC mtu M type macvlan mode MODE
      const base = { name: r.ifname, netnsFd: guest.netns.fd, mtu: r.mtu, ...(r.mac ? { mac: r.mac } : {}) };
      await rb.step(
        'guest link',
        () =>
          this.#host.link.add(
            r.mode === 'macvlan'
              ? { ...base, kind: 'macvlan', link: parent, mode: r.macvlanMode ?? 'bridge' }
              : { ...base, kind: 'dummy' },
          ),
        () => ({
          what: `${r.mode} "${r.ifname}" in ${guest.ref}`,
          run: () => ignoreMissing(guestRtnl.link.del(r.ifname)),
        }),
      );
      return this.finishGuestSide(r, guestRtnl, plan, rb, {});
    }
    if (r.mode === 'phys') {
      // --direct-phys: the NIC itself moves into the guest, renamed, in one message.
      // Equivalent to: ip link set dev NIC netns G name IF
      await rb.step(
        'move nic',
        () => this.#host.link.set(target.name, { netnsFd: guest.netns.fd, name: r.ifname }),
        () => ({
          what: `NIC "${target.name}" (now "${r.ifname}" in ${guest.ref})`,
          run: () => this.returnNic(guestRtnl, r),
        }),
      );
      return this.finishGuestSide(r, guestRtnl, plan, rb, {
        ...(r.mtu ? { mtu: r.mtu } : {}),
        ...(r.mac ? { mac: r.mac } : {}),
      });
    }
    if (r.mode !== 'ovs' && r.mode !== 'bridge')
      throw new NetplumbError(ErrorCode.UNSUPPORTED, `attach mode "${r.mode}" is not supported yet`, { field: 'mode' });

    // The host end is made up (and, for a Linux bridge, enslaved) in the same message.
    // Equivalent to: ip link add HOSTIF mtu M [master BRIDGE] up type veth peer name IF netns G address MAC mtu M
    // (the alias is stamped "attaching since now" until the attach's last step: see aliasFor)
    const master = r.mode === 'bridge' ? { master: r.host } : {};
    await rb.step(
      'veth',
      () =>
        this.#host.link.add({
          name: r.hostIfname,
          kind: 'veth',
          mtu: r.mtu,
          up: true,
          ...master,
          alias: aliasFor(r, Date.now()),
          peer,
        }),
      () => ({
        what: `veth "${r.hostIfname}" in the host namespace`,
        run: () => ignoreMissing(this.#host.link.del(r.hostIfname)),
      }),
    );
    let ofport: number | undefined;
    let guestLink: Link | undefined;
    const guestSide = async () => {
      if (target.datapathType === 'netdev') {
        // The userspace datapath forwards frames as they are: the guest must fill in its own
        // TCP/UDP checksums, or TCP between guests fails (see src/ethtool.ts).
        await setTxChecksum(sockets, r.ifname, false);
      }
      await configureGuest(guestRtnl, r.ifname, plan, rb, this.#log, aliasFor(r));
      // Read for the announcement while ovs-vswitchd applies the port; without it, it is read then.
      if (plan.addresses.length > 0) guestLink = await guestRtnl.link.get(r.ifname).catch(() => undefined);
    };
    const hostSide = async () => {
      if (r.mode === 'bridge') return;
      const ids = externalIdsFor(r, metadata);
      // The undo goes first: a port committed but not applied by ovs-vswitchd (the wait fails
      // after the commit) must be removed too; one we did not write (a clash) is left alone.
      rb.push({ what: `OVS port "${r.hostIfname}" on ${r.host}`, run: () => this.#ports.delOwned(r.hostIfname, r.id) });
      // Equivalent to: ovs-vsctl add-port BRIDGE HOSTIF tag=VLAN -- set interface HOSTIF external_ids:…
      const added = await rb.step('ovs port', () =>
        this.#ports.add(r.host, {
          name: r.hostIfname,
          ...(r.vlan !== undefined ? { tag: r.vlan } : {}),
          ...(r.trunks !== undefined ? { trunks: r.trunks, vlanMode: 'trunk' as const } : {}),
          externalIds: ids.port,
          interfaceExternalIds: ids.iface,
        }),
      );
      ofport = added.ofport;
    };
    const outcomes = await Promise.allSettled([hostSide(), guestSide()]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return { ...(ofport === undefined ? {} : { ofport }), ...(guestLink === undefined ? {} : { guestLink }) };
  }

  /** pipework's `@VID` on a NIC: the 802.1Q sub-interface `<nic>.<vid>` (created if absent) carries the macvlan. */
  private async vlanParent(nic: string, vid: number, rb: Rollback): Promise<string> {
    const name = vlanSubinterfaceName(nic, vid);
    if (await linkExists(this.#host, name)) return name;
    // Equivalent to: ip link add link NIC name NIC.VID type vlan id VID ; ip link set NIC.VID up
    await rb.step(
      'vlan sub-interface',
      () => this.#host.link.add({ name, kind: 'vlan', link: nic, id: vid, up: true }),
      () => ({
        what: `VLAN interface "${name}"`,
        run: () => ignoreMissing(this.#host.link.del(name)),
      }),
    );
    return name;
  }

  /** The guest-side record (alias), optional MTU/MAC, then the addresses and routes. */
  private async finishGuestSide(
    r: AttachmentRecord,
    guestRtnl: Rtnl,
    plan: GuestIpPlan,
    rb: Rollback,
    set: { mtu?: number; mac?: string },
  ): Promise<Applied> {
    // The kernel ignores an alias on creation: set it where the link now lives. Equivalent to: ip -n G link set IF alias …
    await guestRtnl.link.set(r.ifname, { alias: aliasFor(r), ...set });
    await configureGuest(guestRtnl, r.ifname, plan, rb, this.#log);
    return {};
  }

  /** Move a NIC given with --direct-phys back to the host under its own name. Equivalent to: ip -n G link set IF netns HOST name NIC */
  private async returnNic(guestRtnl: Rtnl, r: AttachmentRecord): Promise<void> {
    const hostNs = this.#hostNs ?? openNetns({ pid: process.pid });
    try {
      await ignoreMissing(guestRtnl.link.set(r.ifname, { up: false, alias: '', netnsFd: hostNs.fd, name: r.host }));
    } finally {
      if (hostNs !== this.#hostNs) hostNs.close();
    }
  }

  /** The recorded attachment for this key, if any, and whether it is still whole. */
  private async existing(r: AttachmentRecord, guestRtnl: Rtnl): Promise<AttachmentRecord | undefined> {
    const hostLink = GUEST_SIDE_MODES.has(r.mode)
      ? await guestRtnl.link.find(r.ifname)
      : await this.#host.link.find(r.hostIfname);
    if (hostLink === undefined) {
      if (r.mode === 'ovs') {
        // A port left behind by a dead container: remove it so the name can be reused, through
        // the port queue, which waits until ovs-vswitchd has let go of it: closing the old device
        // restores its flags by name, and set the new veth of the same name down (or out of
        // promiscuous mode) when the veth came first.
        const vs = await this.vswitch();
        const stale = await vs.findPortsByExternalIds({ 'netplumb.attachment': r.id });
        await Promise.all(stale.map((p) => this.#ports.del(p.name)));
      }
      return undefined;
    }
    const rec = decodeRecord(hostLink.alias);
    if (rec === undefined || !hostLink.alias?.startsWith(ALIAS_PREFIX)) {
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `interface "${hostLink.name}" exists and was not made by netplumb; choose another name`,
        { field: r.mode === 'ovs' || r.mode === 'bridge' ? 'hostIfname' : 'ifname' },
      );
    }
    const since = decodeAlias(hostLink.alias)?.attachingSince;
    if (since !== undefined) return this.replaceUnfinished({ ...r, ...rec }, since, guestRtnl);
    if (r.mode === 'ovs') {
      const vs = await this.vswitch();
      const ports = await vs.findPortsByExternalIds({ 'netplumb.attachment': r.id });
      const full = decodeRecord(ports[0]?.externalIds['netplumb.record']);
      if (full !== undefined) return full;
    }
    return rec.mode === r.mode ? { ...r, ...rec } : rec;
  }

  /**
   * An earlier attach of this interface that did not finish: still under way (here, or
   * within the grace period) → CONFLICT; crashed → removed, so this attach starts afresh.
   */
  private async replaceUnfinished(r: AttachmentRecord, since: number, guestRtnl: Rtnl): Promise<undefined> {
    const busy = unfinishedVerdict(r.id, since, {
      now: Date.now(),
      graceMs: (this.opts.graceSeconds ?? DEFAULT_GC_GRACE_SECONDS) * 1000,
      inFlight: this.#attaching,
    });
    if (busy) {
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `an earlier attach of ${r.ifname} to that guest has not finished (${busy.detail}); retry once it is done or, if it was killed, run "netplumb gc --grace 0" first`,
        { field: 'ifname' },
      );
    }
    this.#log?.info(
      { attachment: r.id, since: new Date(since).toISOString() },
      'replacing an attach that did not finish',
    );
    await this.removeAttachment(r, guestRtnl);
    return undefined;
  }

  /** Detach one interface of a guest, or all of them. Succeeds when there is nothing to do. */
  async detach(req: DetachRequest): Promise<DetachResult> {
    const wantIf = (r: AttachmentRecord) => req.ifname === undefined || r.ifname === req.ifname;
    // A live guest: its attachments are read from inside it (the guest-side link carries the
    // record) and from OVS by guest id — no scan of the whole host.
    const live = await this.withLiveGuest(req.guest, async (guestRtnl, _guest, guestId) => {
      const byId = new Map<string, AttachmentRecord>();
      for (const l of await guestRtnl.link.list()) {
        const r = decodeRecord(l.alias);
        if (r !== undefined && r.guestId === guestId && wantIf(r)) byId.set(r.id, r);
      }
      // Also when the guest shows no OVS attachment: a port left by a failed rollback (its veth gone) is still ours to remove.
      if (
        this.#vswitch !== undefined ||
        [...byId.values()].some((r) => r.mode === 'ovs') ||
        (await ovsReachable(this))
      ) {
        const vs = await this.vswitch();
        for (const p of await vs.findPortsByExternalIds({ 'netplumb.guest': guestId })) {
          const r = decodeRecord(p.externalIds['netplumb.record']);
          if (r !== undefined && wantIf(r) && !byId.has(r.id)) byId.set(r.id, r);
        }
      }
      const records = [...byId.values()];
      const [inGuest, onHost] = [
        records.filter((r) => GUEST_SIDE_MODES.has(r.mode)),
        records.filter((r) => !GUEST_SIDE_MODES.has(r.mode)),
      ];
      for (const r of inGuest) await this.removeAttachment(r, guestRtnl);
      if (onHost.length > 0) await this.removeMany(onHost);
      return records;
    });
    if (live !== undefined) {
      this.#log?.info({ count: live.length }, 'detached');
      return { detached: live };
    }
    // The guest is gone: find what it left on the host by its recorded name or id.
    const ofGuest = this.matcher(req.guest);
    const found = (await this.list()).map((a) => a.record).filter((r) => ofGuest(r) && wantIf(r));
    if (found.length > 0) await this.removeMany(found);
    this.#log?.info({ count: found.length }, 'detached (guest gone)');
    return { detached: found };
  }

  /** Run `fn` with a socket in the guest's namespace, or return undefined when the guest is gone. */
  private async withLiveGuest<T>(
    ref: SpecGuestRef | GuestRef,
    fn: (rtnl: Rtnl, guest: Guest, guestId: string) => Promise<T>,
  ): Promise<T | undefined> {
    let guest: Guest;
    try {
      guest = await this.resolve(toGuestRef(ref), false);
    } catch (e) {
      // Gone, unknown, or a recorded id (`netns:cookie:N`, `netns:DEV:INO`) rather than a live reference: nothing to look at.
      // Any other invalid reference (`../x`, shell syntax) is refused, not looked up.
      const recordedId = typeof ref === 'string' && RECORDED_NETNS_ID.test(ref);
      if (
        e instanceof NetplumbError &&
        (e.code === ErrorCode.NAMESPACE_GONE ||
          e.code === ErrorCode.NOT_FOUND ||
          e.code === ErrorCode.UNAVAILABLE ||
          (e.code === ErrorCode.INVALID_ARGUMENT && recordedId))
      )
        return undefined;
      throw e;
    }
    let rtnl: Rtnl;
    let guestId: string;
    try {
      const opened = await openRouteIn(guest.netns);
      rtnl = new Rtnl(opened.route);
      guestId = guestIdOf(guest, opened.netnsCookie);
    } catch (e) {
      guest.release();
      throw e;
    }
    try {
      return await fn(rtnl, guest, guestId);
    } finally {
      rtnl.close();
      guest.release();
    }
  }

  private async removeAttachment(r: AttachmentRecord, guestRtnl: Rtnl): Promise<void> {
    if (!GUEST_SIDE_MODES.has(r.mode)) {
      await this.removeMany([r]);
      return;
    }
    stopDhcp(r.id);
    if (r.mode === 'phys') await this.returnNic(guestRtnl, r);
    else await ignoreMissing(guestRtnl.link.del(r.ifname));
  }

  /** One OVSDB transaction for the ports, one bulk kernel delete for the host links. */
  private async removeMany(records: AttachmentRecord[]): Promise<void> {
    // A renewing DHCP client may run for any of them (its pidfile says); stop it first.
    for (const r of records) stopDhcp(r.id);
    const ovsPorts = records.filter((r) => r.mode === 'ovs').map((r) => r.hostIfname);
    const links = records.filter((r) => r.mode === 'ovs' || r.mode === 'bridge').map((r) => r.hostIfname);
    // Equivalent to: ovs-vsctl --if-exists del-port P… (one transaction) ; ip link del group G (one bulk delete)
    let index = 0;
    const done = (step: string) => async () => this.opts.detachStepHook?.(step, index++);
    const outcomes = await Promise.allSettled([
      ...ovsPorts.map((n) => this.#ports.del(n).then(done(`ovs port ${n}`))),
      ...links.map((n) => this.#linkDels.submit(n).then(done(`host link ${n}`))),
    ]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Which records belong to the guest the user named (container name/id/prefix, or a
   * namespace)? The namespace's id is read once, here, not once per record.
   */
  matcher(guest: SpecGuestRef | GuestRef): (r: AttachmentRecord) => boolean {
    const nsId = namespaceGuestId(toGuestRef(guest));
    return nsId !== undefined ? (r) => r.guestId === nsId : (r) => matchesGuest(r, guest);
  }

  /** Remove what netplumb owns and nobody uses (see gc.ts for the rules); dryRun: only say what and why. */
  gc(opts: GcOptions = {}): Promise<GcResult> {
    const graceSeconds = opts.graceSeconds ?? this.opts.graceSeconds;
    return collectGarbage(
      {
        host: this.#host,
        vswitch: () => this.vswitch(),
        inFlight: this.#attaching,
        ...(this.#log ? { log: this.#log } : {}),
      },
      { ...opts, ...(graceSeconds !== undefined ? { graceSeconds } : {}) },
    );
  }

  /**
   * pipework's `route`, `rule` and `tc` pass-throughs, inside the guest's namespace:
   * `route` and `rule` natively; `tc` runs the tc binary in the namespace (nsenter, fd 3).
   */
  async passthrough(ref: SpecGuestRef | GuestRef, tool: 'route' | 'rule' | 'tc', args: string[]): Promise<void> {
    const guest = await this.resolve(toGuestRef(ref), false);
    try {
      if (tool === 'tc') {
        await runInNetns(guest.netns, ['tc', ...args]);
        return;
      }
      const rtnl = new Rtnl(openRouteTransport(guest.netns.fd, guest.netns.label));
      try {
        // Loaded on use only (CommonJS require: a dynamic import() would go through the ESM loader).
        const { runRoute, runRule } = require('./ip-words.js') as typeof import('./ip-words.js');
        await (tool === 'route' ? runRoute(rtnl, args) : runRule(rtnl, args));
      } finally {
        rtnl.close();
      }
    } finally {
      guest.release();
    }
  }

  /** Every attachment this host knows of: OVS ports we own, and host links carrying our alias. */
  async list(): Promise<Attachment[]> {
    const links = (await this.#host.link.list()).filter((l) => l.alias?.startsWith(ALIAS_PREFIX));
    const byHostIf = new Map<string, Attachment>();
    for (const l of links) {
      const d = decodeAlias(l.alias);
      if (d)
        byHostIf.set(d.record.hostIfname, {
          record: d.record,
          hostLinkPresent: true,
          hostLinkUp: l.flags.up,
          orphaned: false,
          ...(d.attachingSince !== undefined ? { attachingSince: new Date(d.attachingSince).toISOString() } : {}),
        });
    }
    let ports: PortRow[] = [];
    if (
      this.#vswitch !== undefined ||
      links.some((l) => decodeRecord(l.alias)?.mode === 'ovs') ||
      (await ovsReachable(this))
    ) {
      const vs = await this.vswitch();
      ports = await vs.findPortsByExternalIds({ 'netplumb.owner': 'netplumb' });
      for (const p of ports) {
        const record = decodeRecord(p.externalIds['netplumb.record']);
        if (!record) continue;
        const iface = await vs.getInterface(p.name);
        const have = byHostIf.get(record.hostIfname);
        byHostIf.set(record.hostIfname, {
          record,
          hostLinkPresent: have !== undefined,
          hostLinkUp: have?.hostLinkUp ?? false,
          ...(have?.attachingSince !== undefined ? { attachingSince: have.attachingSince } : {}),
          ...(iface?.ofport !== undefined ? { ofport: iface.ofport } : {}),
          ...(iface?.error ? { ovsError: iface.error } : {}),
          orphaned: have === undefined,
        });
      }
    }
    return [...byHostIf.values()].sort((a, b) => a.record.hostIfname.localeCompare(b.record.hostIfname));
  }
}

/** A detach request names the guest as the user knows it: container name, id or id prefix, or the namespace. */
function matchesGuest(r: AttachmentRecord, ref: SpecGuestRef | GuestRef): boolean {
  const word = typeof ref === 'string' ? ref : 'container' in ref ? ref.container : undefined;
  if (word === undefined) return false;
  return (
    r.guestName === word ||
    r.guestName === `/${word}` ||
    r.guestId === word ||
    (word.length >= 4 && r.guestId.startsWith(word))
  );
}

/**
 * The guest id recorded for a bare namespace: its cookie (`netns:cookie:N`), which the kernel
 * never gives to another namespace within a boot, so a stale detach of a namespace that was
 * replaced cannot reach its successor (faults.md E3); the inode (`netns:DEV:INO`), which the
 * kernel reuses quickly, only where the kernel has no cookie.
 */
function netnsGuestId(ns: NetnsIdentity, cookie: string): string {
  return cookie !== '' ? `netns:cookie:${cookie}` : `netns:${ns.dev}:${ns.ino}`;
}

/** The guest id an attachment is recorded under: the container id, else the namespace's. */
function guestIdOf(guest: Guest, netnsCookie: string): string {
  return guest.containerId ?? netnsGuestId(guest.netns, netnsCookie);
}

/** For a namespace reference (not a container), the guest id it was recorded under, if it still exists. */
function namespaceGuestId(ref: GuestRef): string | undefined {
  if (typeof ref === 'string' || 'container' in ref) return undefined;
  try {
    const ns = openNetns(ref);
    try {
      return netnsGuestId(ns, netnsCookieOf(ns));
    } finally {
      ns.close();
    }
  } catch {
    return '';
  }
}

async function ovsReachable(p: Plumber): Promise<boolean> {
  try {
    await p.vswitch();
    return true;
  } catch {
    return false;
  }
}

async function linkExists(rtnl: Rtnl, name: string): Promise<boolean> {
  return (await rtnl.link.find(name)) !== undefined;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) throw e;
  }
}

/** `--wait`: until the interface is up with carrier (pipework#243: existence is not enough). */
export async function waitUp(rtnl: Rtnl, ifname: string, timeoutMs: number): Promise<Link> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await rtnl.link.find(ifname);
    if (l?.flags.up && l.carrier !== false && (l.operstate === 'up' || l.operstate === 'unknown')) return l;
    if (Date.now() >= deadline) {
      throw new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `interface "${ifname}" is ${l === undefined ? 'absent' : `not up (operstate ${l.operstate})`} after ${timeoutMs} ms`,
        { field: 'ifname' },
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
