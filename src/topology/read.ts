/**
 * Read the host's wiring: Open vSwitch's bridges, ports and interfaces (the OVSDB monitor
 * cache of the Plumber's connection), the host namespace's links (one netlink dump),
 * netplumb's records (Plumber.list()) and each attachment's guest. Read-only: nothing is
 * changed, nothing is forked. Equivalent to: ovs-vsctl show ; ip -d link show ; netplumb list
 */
import type { Logger } from 'pino';
import { openRouteTransport } from '../netlink/native-transport.js';
import { openNetns, type Netns, type NetnsSelector } from '../netns/index.js';
import { Plumber, type Attachment as PlumbAttachment } from '../plumb/plumber.js';
import { ALIAS_PREFIX, decodeAlias } from '../plumb/record.js';
import { Rtnl, type Link } from '../rtnl/index.js';
import type { Vswitch } from '../ovsdb/index.js';
import { buildTopology, type HostSnapshot, type OvsBridgeView } from './build.js';
import { readGuests, releaseGuests, type GuestFacts } from './guests.js';
import type { Topology } from './model.js';

export interface HostViewOptions {
  /** OVSDB remote (default: as the Plumber resolves it). */
  ovsDb?: string;
  /** Container engine socket (`unix:///path`). */
  dockerHost?: string;
  /** OVN northbound database, where an OVN chassis's attachments are recorded too (default: as the Plumber resolves it). */
  ovnNb?: string;
  /** The namespace host-side links live in (default: this process's). */
  hostNetns?: NetnsSelector;
  logger?: Logger;
}

/** What the host is read through: a Plumber (OVSDB and records) and netlink in the host namespace. */
export class HostView {
  readonly plumber: Plumber;
  readonly #host: Rtnl;
  readonly #hostNs: Netns | undefined;
  readonly #dockerHost: string | undefined;
  readonly #ovsDb: string | undefined;

  private constructor(opts: HostViewOptions) {
    this.#hostNs = opts.hostNetns !== undefined ? openNetns(opts.hostNetns) : undefined;
    try {
      this.plumber = Plumber.open({
        ...(opts.ovsDb !== undefined ? { ovsDb: opts.ovsDb } : {}),
        ...(opts.dockerHost !== undefined ? { dockerHost: opts.dockerHost } : {}),
        ...(opts.ovnNb !== undefined ? { ovnNb: opts.ovnNb } : {}),
        ...(opts.hostNetns !== undefined ? { hostNetns: opts.hostNetns } : {}),
        ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
        ovsdbConnection: { requestTimeoutMs: 5000 },
      });
      this.#host = new Rtnl(openRouteTransport(this.#hostNs?.fd, this.#hostNs?.label ?? 'the host namespace'));
    } catch (e) {
      this.#hostNs?.close();
      throw e;
    }
    this.#dockerHost = opts.dockerHost;
    this.#ovsDb = opts.ovsDb;
  }

  static open(opts: HostViewOptions = {}): HostView {
    return new HostView(opts);
  }

  async close(): Promise<void> {
    this.#host.close();
    this.#hostNs?.close();
    await this.plumber.close();
  }

  /**
   * The host's state. With `hold`, each running guest's namespace stays open in its
   * GuestFacts (for probes): release them with `releaseGuests`.
   */
  async snapshot(opts: { hold?: boolean } = {}): Promise<HostSnapshot> {
    const links = await this.#host.link.list();
    let vs: Vswitch | undefined;
    let ovsError: string | undefined;
    try {
      vs = await this.plumber.vswitch();
    } catch (e) {
      ovsError = e instanceof Error ? e.message : String(e);
    }
    const ovsBridges = vs !== undefined ? await readOvs(vs) : [];
    const attachments = vs !== undefined ? await this.plumber.list() : fromLinks(links);
    const guests = await readGuests(
      attachments.map((a) => a.record),
      { ...(this.#dockerHost !== undefined ? { dockerHost: this.#dockerHost } : {}), hold: opts.hold === true },
    );
    return {
      ovsRemote: vs?.remote ?? this.#ovsDb ?? 'the default OVSDB',
      ...(ovsError !== undefined ? { ovsError } : {}),
      ovsBridges,
      links,
      attachments,
      guests,
      now: new Date(),
    };
  }

  /** The whole host's topology (guests released). */
  async topology(): Promise<Topology> {
    return buildTopology(await this.snapshot());
  }
}

/** Release what a snapshot taken with `hold` keeps open. */
export function releaseSnapshot(s: HostSnapshot): void {
  releaseGuests(s.guests as Map<string, GuestFacts>);
}

/** Equivalent to: ovs-vsctl list Bridge ; list Port ; list Interface (from the monitor cache) */
async function readOvs(vs: Vswitch): Promise<OvsBridgeView[]> {
  const names = await vs.listBridges();
  const cache = vs.client.cache;
  const out: OvsBridgeView[] = [];
  for (const name of names) {
    const br = await vs.getBridge(name);
    if (br === undefined) continue;
    const ports = br.ports
      .map((u) => cache.get('Port', u))
      .filter((p) => p !== undefined && p.name !== name)
      .map((row) => {
        const p = row as NonNullable<typeof row>;
        const iface = p.interfaces[0] !== undefined ? cache.get('Interface', p.interfaces[0]) : undefined;
        return { row: p, ...(iface !== undefined ? { iface } : {}) };
      });
    out.push({ name, datapathType: br.datapathType, ports });
  }
  return out;
}

/** Without OVSDB: netplumb's attachments as the host links' records tell them. */
function fromLinks(links: readonly Link[]): PlumbAttachment[] {
  const out: PlumbAttachment[] = [];
  for (const l of links) {
    if (!l.alias?.startsWith(ALIAS_PREFIX)) continue;
    const d = decodeAlias(l.alias);
    if (d === undefined) continue;
    out.push({
      record: d.record,
      hostLinkPresent: true,
      hostLinkUp: l.flags.up,
      orphaned: false,
      ...(d.attachingSince !== undefined ? { attachingSince: new Date(d.attachingSince).toISOString() } : {}),
    });
  }
  return out;
}
