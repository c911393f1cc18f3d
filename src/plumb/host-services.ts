/**
 * What the engine works with on the host, one set per Plumber, shared by every attach,
 * detach, list and gc and by every mode: netlink in the host namespace, the OVSDB
 * connection (opened on first use), and the queues that batch concurrent work — OVS port
 * adds and deletes (one transaction and one datapath wait per batch) and host link deletes
 * (one bulk delete per batch).
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import { openRouteTransport } from '../netlink/native-transport.js';
import { openNetns, type Netns } from '../netns/index.js';
import { Vswitch } from '../ovsdb/index.js';
import type { ConnectionOptions } from '../ovsdb/connection.js';
import { Rtnl } from '../rtnl/index.js';
import { Batcher, type Settled } from './batcher.js';
import { OvsPortQueue } from './ovs-ports.js';

export interface HostServicesOptions {
  hostNs: Netns | undefined;
  /** OVSDB remote; absent: the default resolution. */
  ovsDb?: string;
  /** OVN northbound database remote (attachments to OVN networks); absent: the default resolution. */
  ovnNb?: string;
  ovsdbConnection?: Omit<ConnectionOptions, 'remote' | 'logger'>;
  applyTimeoutMs: number;
  datapathType: () => string;
  logger?: Logger;
}

export class HostServices {
  /** Netlink in the namespace host-side links live in. */
  readonly rtnl: Rtnl;
  /** OVS port adds and deletes of concurrent attaches and detaches. */
  readonly ports: OvsPortQueue;
  /** How long ovs-vswitchd may take to apply a change (ms). */
  readonly applyTimeoutMs: number;
  readonly log: Logger | undefined;
  readonly #opts: HostServicesOptions;
  readonly #linkDels: Batcher<string, void>;
  #vswitch: Promise<Vswitch> | undefined;
  /** What modes keep per host (an OVN northbound connection …), made on first use. */
  readonly #services = new Map<string, { close(): Promise<void> }>();

  constructor(opts: HostServicesOptions) {
    this.#opts = opts;
    this.rtnl = new Rtnl(openRouteTransport(opts.hostNs?.fd, opts.hostNs?.label ?? 'the host namespace'));
    this.applyTimeoutMs = opts.applyTimeoutMs;
    this.log = opts.logger?.child({ component: 'plumb' });
    this.ports = new OvsPortQueue(() => this.vswitch(), opts.applyTimeoutMs);
    this.#linkDels = new Batcher((names) => this.#deleteLinks(names));
  }

  /** The OVSDB connection, opened on first use (and again after a failed open). */
  vswitch(): Promise<Vswitch> {
    this.#vswitch ??= Vswitch.connect({
      ...this.#opts.ovsdbConnection,
      ...(this.#opts.ovsDb ? { remote: this.#opts.ovsDb } : {}),
      ...(this.#opts.logger ? { logger: this.#opts.logger } : {}),
    }).catch((e: unknown) => {
      this.#vswitch = undefined;
      throw e;
    });
    return this.#vswitch;
  }

  /** The OVN northbound database remote as configured (absent: the default resolution). */
  get ovnNb(): string | undefined {
    return this.#opts.ovnNb;
  }

  /** Options for another OVSDB connection of this host (OVN's databases): the same deadlines and logger. */
  connectionOptions(remote: string): ConnectionOptions & { remote: string } {
    return {
      ...this.#opts.ovsdbConnection,
      remote,
      ...(this.#opts.logger ? { logger: this.#opts.logger } : {}),
    };
  }

  /** A service a mode keeps for this host under `key`, made by `make` on first use; closed with the host. */
  service<T extends { close(): Promise<void> }>(key: string, make: () => T): T {
    let s = this.#services.get(key);
    if (s === undefined) {
      s = make();
      this.#services.set(key, s);
    }
    return s as T;
  }

  /** Whether OVSDB answers (connecting if need be). */
  vswitchReachable(): Promise<boolean> {
    return this.vswitch().then(
      () => true,
      () => false,
    );
  }

  /** The datapath of an OVS bridge netplumb creates. */
  datapathType(): string {
    return this.#opts.datapathType();
  }

  /** Delete a host link, in one bulk delete with those of concurrent detaches. Equivalent to: ip link del NAME */
  deleteLink(name: string): Promise<void> {
    return this.#linkDels.submit(name);
  }

  /** Run `fn` with the host namespace open (the configured one, or this process's). */
  async inHostNetns<T>(fn: (ns: Netns) => Promise<T>): Promise<T> {
    const ns = this.#opts.hostNs ?? openNetns({ pid: process.pid });
    try {
      return await fn(ns);
    } finally {
      if (ns !== this.#opts.hostNs) ns.close();
    }
  }

  async close(): Promise<void> {
    for (const s of this.#services.values()) await s.close().catch(() => undefined);
    this.#services.clear();
    this.rtnl.close();
    const vs = this.#vswitch;
    this.#vswitch = undefined;
    if (vs) await (await vs.catch(() => undefined))?.close();
  }

  /** Equivalent to: ip link del group G (after moving NAMES into G); alone, one by one, if that fails. */
  async #deleteLinks(names: string[]): Promise<Settled<void>[]> {
    try {
      await this.rtnl.link.delMany(names, { missingOk: true });
      return names.map(() => ({ ok: true as const, value: undefined }));
    } catch {
      return Promise.all(
        names.map((n) =>
          ignoreMissing(this.rtnl.link.del(n)).then(
            () => ({ ok: true as const, value: undefined }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ),
      );
    }
  }
}

/** Wait for `p`; a NOT_FOUND (the object is already gone) counts as done. */
export async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) throw e;
  }
}

/** Wait for all of `work`; then throw the first failure, if any (nothing is left running). */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
