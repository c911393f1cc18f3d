/**
 * What attachments to OVN networks share on one host (one per Plumber, kept in its host
 * services): the northbound database connection, this chassis's identity as ovn-controller
 * knows it, and the queue that batches concurrent logical port adds and deletes.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { Northbound } from '../ovsdb/nb.js';
import { parseRemote, resolveNbRemote } from '../ovsdb/remote.js';
import { Southbound } from '../ovsdb/sb.js';
import type { HostServices } from '../plumb/host-services.js';
import { LogicalPortQueue } from './nb-ports.js';

/** This host as an OVN chassis: what ovn-controller reads from the Open_vSwitch row. */
export interface Chassis {
  /** `external_ids:system-id`: the chassis name in the southbound database. */
  systemId: string;
  /** `external_ids:ovn-bridge` (default `br-int`): where ovn-controller binds VIFs. */
  integrationBridge: string;
  /** `external_ids:ovn-remote`: the southbound database ovn-controller uses, if set. */
  southbound?: string;
}

export const DEFAULT_INTEGRATION_BRIDGE = 'br-int';

/**
 * An OVSDB error about the northbound database, said as such: the connection's own message
 * names the socket and the switch's OVSDB options, not the northbound database and its.
 */
export function northboundError(e: unknown, remote: string, doing: string): unknown {
  if (!(e instanceof NetplumbError)) return e;
  if (e.code !== ErrorCode.UNAVAILABLE && e.code !== ErrorCode.OUTCOME_UNKNOWN && e.code !== ErrorCode.PRIVILEGE)
    return e;
  const reason = e.message.replace(/^cannot connect to OVSDB at \S+: /, '').split(';')[0];
  return new NetplumbError(
    e.code,
    `OVN northbound database at ${remote}: ${doing} failed (${reason}); start it, or point --ovn-nb or $OVN_NB_DB at it`,
    { ...e.details, database: 'OVN_Northbound', remote },
    { cause: e },
  );
}

export class OvnServices {
  readonly remote: string;
  readonly lsps: LogicalPortQueue;
  #nb: Promise<Northbound> | undefined;
  #sb: Promise<Southbound> | undefined;

  constructor(private readonly host: HostServices) {
    this.remote = resolveNbRemote(host.ovnNb);
    this.lsps = new LogicalPortQueue(() => this.northbound());
  }

  /** The northbound connection, opened on first use (again after a failed open); UNAVAILABLE naming it when down. */
  async northbound(): Promise<Northbound> {
    this.#nb ??= Northbound.connect(this.host.connectionOptions(this.remote)).catch((e: unknown) => {
      this.#nb = undefined;
      throw northboundError(e, this.remote, 'connecting');
    });
    return this.#nb;
  }

  /** The northbound connection, refused (UNAVAILABLE) while it is down: nothing is started against a stale cache. */
  async connectedNorthbound(): Promise<Northbound> {
    const nb = await this.northbound();
    if (!nb.client.connection.connected)
      throw new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `OVN northbound database at ${this.remote} is unreachable (reconnecting); nothing was changed: start it, or point --ovn-nb or $OVN_NB_DB at it`,
        { database: 'OVN_Northbound', remote: this.remote },
      );
    return nb;
  }

  /**
   * The chassis the southbound database knows, through the remote ovn-controller uses
   * (`ovn-remote`); undefined when it is not set, not a single unix: or tcp: remote, or
   * does not answer (then no chassis is taken for gone).
   */
  async chassisNames(): Promise<Set<string> | undefined> {
    const remote = (await this.chassis().catch(() => undefined))?.southbound;
    if (remote === undefined) return undefined;
    try {
      parseRemote(remote);
    } catch {
      return undefined;
    }
    this.#sb ??= Southbound.connect(this.host.connectionOptions(remote)).catch((e: unknown) => {
      this.#sb = undefined;
      throw e;
    });
    try {
      const sb = await this.#sb;
      return sb.client.connection.connected ? await sb.chassisNames() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether the northbound database answers (connecting if need be). */
  reachable(): Promise<boolean> {
    return this.northbound().then(
      (nb) => nb.client.connection.connected,
      () => false,
    );
  }

  /** Equivalent to: ovs-vsctl get Open_vSwitch . external_ids:system-id external_ids:ovn-bridge external_ids:ovn-remote */
  async chassis(): Promise<Chassis> {
    const vs = await this.host.vswitch();
    const ids = await vs.switchExternalIds();
    const systemId = ids['system-id'];
    if (systemId === undefined || systemId === '')
      throw new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `this host is no OVN chassis: external_ids:system-id of the Open_vSwitch row in ${vs.remote} is not set (ovn-controller needs it, with ovn-remote and ovn-encap-ip)`,
        { field: 'network' },
      );
    return {
      systemId,
      integrationBridge: ids['ovn-bridge'] ?? DEFAULT_INTEGRATION_BRIDGE,
      ...(ids['ovn-remote'] !== undefined ? { southbound: ids['ovn-remote'] } : {}),
    };
  }

  async close(): Promise<void> {
    const [nb, sb] = [this.#nb, this.#sb];
    this.#nb = undefined;
    this.#sb = undefined;
    if (nb) await (await nb.catch(() => undefined))?.close();
    if (sb) await (await sb.catch(() => undefined))?.close();
  }
}

/** The OVN services of this host (made on first use). */
export function ovnServices(host: HostServices): OvnServices {
  return host.service('ovn', () => new OvnServices(host));
}
