/**
 * ovn-nbctl's verbs netplumb needs, over one OVSDB connection to the OVN_Northbound
 * database: logical switches and their ports. Each write is one transaction; reads come
 * from the monitor cache. external_ids are written as given (callers validate user input).
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import { OvsdbClient } from './client.js';
import type { ConnectionOptions } from './connection.js';
import {
  NB_DECODERS,
  NB_MONITOR_COLUMNS,
  NB_REQUIRED_COLUMNS,
  type LogicalSwitchPortRow,
  type LogicalSwitchRow,
  type NbTables,
} from './nb-model.js';
import { map, namedUuid, set, uuid, validateStringMap, validateString, type Row } from './notation.js';
import { del, eq, includes, insert, mutate, update, wait, type Operation } from './ops.js';
import type { OpFailure, OpResult } from './transact.js';

export const NB_DATABASE = 'OVN_Northbound';

/** A logical switch port to insert. */
export interface LogicalPortSpec {
  name: string;
  /** '' (a VIF: a container's interface), `localnet` … */
  type?: string;
  options?: Record<string, string>;
  addresses: readonly string[];
  portSecurity?: readonly string[];
  /** localnet: the VLAN of the physical network. */
  tag?: number;
  externalIds: Record<string, string>;
}

export interface SwitchSpec {
  name: string;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  /** Ports made with the switch, in the same transaction (its localnet port). */
  ports?: readonly LogicalPortSpec[];
}

/** Ports to add to one switch; with `expectPorts`, only while its port set is still that one. */
export interface SwitchPortsRequest {
  switchUuid: string;
  ports: readonly LogicalPortSpec[];
  /** The switch's ports as the caller checked them (an address conflict check): a concurrent change fails the transaction. */
  expectPorts?: readonly string[];
}

export interface AddedLogicalPort {
  name: string;
  uuid: string;
}

type NbClient = OvsdbClient<NbTables>;

const BY_NAME = 'name';

function portRow(p: LogicalPortSpec): Row {
  const row: Row = {
    name: validateString('port', p.name, { maxBytes: 255 }),
    type: p.type ?? '',
    addresses: set(p.addresses.map((a) => validateString('addresses', a))),
    port_security: set((p.portSecurity ?? []).map((a) => validateString('portSecurity', a))),
    external_ids: map(validateStringMap('externalIds', p.externalIds, { allowEmpty: true, maxBytes: 4096 })),
  };
  if (p.options !== undefined) row.options = map(validateStringMap('options', p.options));
  if (p.tag !== undefined) row.tag = p.tag;
  return row;
}

export class Northbound {
  private constructor(readonly client: NbClient) {
    client.cache.defineIndex('Logical_Switch_Port', BY_NAME, (r) => r.name);
    client.cache.defineIndex('Logical_Switch', BY_NAME, (r) => r.name);
  }

  /** Connect and load the logical switches and their ports into the cache. */
  static async connect(opts: ConnectionOptions & { remote: string }): Promise<Northbound> {
    return new Northbound(
      await OvsdbClient.connect<NbTables>({
        ...opts,
        database: NB_DATABASE,
        required: NB_REQUIRED_COLUMNS,
        monitor: { columns: NB_MONITOR_COLUMNS, decoders: NB_DECODERS },
      }),
    );
  }

  get remote(): string {
    return this.client.remote;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  // ------------------------------------------------------------ reads (from the monitor cache)

  /** Equivalent to: ovn-nbctl --bare --columns=_uuid find Logical_Switch name=NAME (names are not unique in the schema) */
  async switchesNamed(name: string): Promise<LogicalSwitchRow[]> {
    await this.client.synced();
    return this.client.cache.lookupAll('Logical_Switch', BY_NAME, name);
  }

  async getSwitch(switchUuid: string): Promise<LogicalSwitchRow | undefined> {
    await this.client.synced();
    return this.client.cache.get('Logical_Switch', switchUuid);
  }

  /** Equivalent to: ovn-nbctl find Logical_Switch external_ids:K=V … */
  async findSwitchesByExternalIds(match: Record<string, string>): Promise<LogicalSwitchRow[]> {
    await this.client.synced();
    return this.client.cache.findByExternalIds('Logical_Switch', (r) => r.externalIds, match);
  }

  /** Equivalent to: ovn-nbctl lsp-get-… NAME (port names are unique) */
  async getPort(name: string): Promise<LogicalSwitchPortRow | undefined> {
    await this.client.synced();
    return this.client.cache.lookup('Logical_Switch_Port', BY_NAME, name);
  }

  async getPortRow(portUuid: string): Promise<LogicalSwitchPortRow | undefined> {
    await this.client.synced();
    return this.client.cache.get('Logical_Switch_Port', portUuid);
  }

  /** Equivalent to: ovn-nbctl lsp-list SWITCH */
  async portsOf(sw: LogicalSwitchRow): Promise<LogicalSwitchPortRow[]> {
    await this.client.synced();
    return sw.ports.flatMap((u) => this.client.cache.get('Logical_Switch_Port', u) ?? []);
  }

  /** The switch holding this port. Equivalent to: ovn-nbctl lsp-get-ls PORT */
  async switchOfPort(portUuid: string): Promise<LogicalSwitchRow | undefined> {
    await this.client.synced();
    return this.client.cache.rows('Logical_Switch').find((s) => s.ports.includes(portUuid));
  }

  /** Equivalent to: ovn-nbctl find Logical_Switch_Port external_ids:K=V … */
  async findPortsByExternalIds(match: Record<string, string>): Promise<LogicalSwitchPortRow[]> {
    await this.client.synced();
    return this.client.cache.findByExternalIds('Logical_Switch_Port', (r) => r.externalIds, match);
  }

  // ------------------------------------------------------------ switches

  /**
   * Equivalent to: ovn-nbctl ls-add NAME -- set Logical_Switch NAME other_config:K=V external_ids:K=V
   *   [-- lsp-add NAME PORT -- lsp-set-type PORT localnet …]
   * in one transaction that fails (ALREADY_EXISTS) when a switch of that name exists, also
   * one created by someone else meanwhile.
   */
  async createSwitch(spec: SwitchSpec): Promise<{ uuid: string }> {
    validateString('name', spec.name, { maxBytes: 255 });
    const ports = spec.ports ?? [];
    const ops: Operation[] = [
      wait('Logical_Switch', [eq('name', spec.name)], ['name'], '==', []),
      ...ports.map((p, i) => insert('Logical_Switch_Port', portRow(p), `port${i}`)),
      insert(
        'Logical_Switch',
        {
          name: spec.name,
          ports: set(ports.map((_, i) => namedUuid(`port${i}`))),
          other_config: map(validateStringMap('otherConfig', spec.otherConfig)),
          external_ids: map(validateStringMap('externalIds', spec.externalIds)),
        },
        'switch',
      ),
    ];
    const results = await this.client.transact(ops, {
      explain: (f) =>
        f.index === 0
          ? new NetplumbError(
              ErrorCode.ALREADY_EXISTS,
              `a logical switch named "${spec.name}" exists in ${this.remote}`,
              { field: 'name' },
            )
          : this.explainDuplicatePort(f),
    });
    return { uuid: insertedUuid(results, ops.length - 1, this.remote) };
  }

  /** Equivalent to: ovn-nbctl set Logical_Switch SWITCH other_config:K=V … external_ids:K=V … (the keys given replaced) */
  async setSwitchConfig(
    switchUuid: string,
    otherConfig: Record<string, string>,
    externalIds: Record<string, string>,
  ): Promise<void> {
    const where = [eq('_uuid', uuid(switchUuid))];
    const results = await this.client.transact([
      update('Logical_Switch', where, {
        other_config: map(validateStringMap('otherConfig', otherConfig)),
        external_ids: map(validateStringMap('externalIds', externalIds)),
      }),
    ]);
    requireMatched(results[0], `logical switch ${switchUuid} is gone from ${this.remote}`);
  }

  /** Equivalent to: ovn-nbctl ls-del SWITCH (its ports go with it). */
  async deleteSwitch(switchUuid: string): Promise<void> {
    await this.client.transact([del('Logical_Switch', [eq('_uuid', uuid(switchUuid))])]);
  }

  // ------------------------------------------------------------ ports

  /**
   * Equivalent to: ovn-nbctl lsp-add SWITCH PORT -- lsp-set-addresses PORT "MAC IP" --
   * lsp-set-port-security PORT "MAC IP" … for every port of every request, in one
   * transaction. A switch deleted meanwhile takes its new ports along: its request is
   * reported in `missing`. A request with `expectPorts` fails the whole transaction
   * (CONFLICT, `details.retry`) when that switch's ports changed since they were read.
   */
  async addPorts(requests: readonly SwitchPortsRequest[]): Promise<{ added: AddedLogicalPort[][]; missing: number[] }> {
    const ops: Operation[] = [];
    const guards = new Map<number, number>();
    const inserts: number[][] = [];
    const mutates: number[] = [];
    requests.forEach((r, k) => {
      const where = [eq('_uuid', uuid(r.switchUuid))];
      if (r.expectPorts !== undefined) {
        guards.set(ops.length, k);
        ops.push(wait('Logical_Switch', where, ['ports'], '==', [{ ports: set(r.expectPorts.map((p) => uuid(p))) }]));
      }
      inserts.push(
        r.ports.map((p, i) => {
          ops.push(insert('Logical_Switch_Port', portRow(p), `s${k}p${i}`));
          return ops.length - 1;
        }),
      );
      mutates.push(ops.length);
      ops.push(
        mutate('Logical_Switch', where, [['ports', 'insert', set(r.ports.map((_, i) => namedUuid(`s${k}p${i}`)))]]),
      );
    });
    const results = await this.client.transact(ops, {
      explain: (f) => {
        const k = guards.get(f.index);
        if (k !== undefined)
          return new NetplumbError(
            ErrorCode.CONFLICT,
            `the ports of logical switch ${requests[k]?.switchUuid} changed while addresses were being checked; retry`,
            { retry: true },
          );
        return this.explainDuplicatePort(f);
      },
    });
    const missing = mutates.flatMap((at, k) => (results[at]?.count === 0 ? [k] : []));
    return {
      added: requests.map((r, k) =>
        r.ports.map((p, i) => ({ name: p.name, uuid: insertedUuid(results, inserts[k]?.[i] ?? -1, this.remote) })),
      ),
      missing,
    };
  }

  /**
   * Equivalent to: ovn-nbctl --if-exists lsp-del PORT … for these exact rows (one
   * transaction): a row already gone is skipped, a port recreated since under the same
   * name (a new row) is left alone.
   */
  async delPortRows(uuids: readonly string[]): Promise<void> {
    if (uuids.length === 0) return;
    await this.client.transact(
      uuids.map((u) =>
        mutate('Logical_Switch', [includes('ports', set([uuid(u)]))], [['ports', 'delete', set([uuid(u)])]]),
      ),
    );
  }

  /** Equivalent to: ovn-nbctl lsp-set-port-security PORT ADDRS… */
  async setPortSecurity(portUuid: string, portSecurity: readonly string[]): Promise<void> {
    const results = await this.client.transact([
      update('Logical_Switch_Port', [eq('_uuid', uuid(portUuid))], {
        port_security: set(portSecurity.map((a) => validateString('portSecurity', a))),
      }),
    ]);
    requireMatched(results[0], `logical switch port ${portUuid} is gone from ${this.remote}`);
  }

  /**
   * Resolve once the port row satisfies `ok` (checked now and after each monitor update:
   * ovn-northd's writes, `up`, `dynamic_addresses`); reject with `onTimeout()` after `timeoutMs`.
   */
  waitPort(
    portUuid: string,
    ok: (row: LogicalSwitchPortRow | undefined) => boolean,
    timeoutMs: number,
    onTimeout: () => NetplumbError,
  ): Promise<void> {
    return this.client.waitFor(() => ok(this.client.cache.get('Logical_Switch_Port', portUuid)), timeoutMs, onTimeout);
  }

  private explainDuplicatePort(f: OpFailure): NetplumbError | undefined {
    const name = /identical values \((.*)\) for index on column "name"/.exec(f.details ?? '')?.[1];
    if (f.error !== 'constraint violation' || name === undefined) return undefined;
    return new NetplumbError(ErrorCode.ALREADY_EXISTS, `logical switch port ${name} already exists in ${this.remote}`, {
      port: name.replace(/^"|"$/g, ''),
    });
  }
}

function insertedUuid(results: readonly OpResult[], index: number, remote: string): string {
  const u = results[index]?.uuid;
  if (u === undefined)
    throw new NetplumbError(ErrorCode.PROTOCOL, `OVSDB transact reply from ${remote} has no uuid for op ${index}`, {
      syscall: 'transact',
    });
  return u[1];
}

function requireMatched(r: OpResult | undefined, message: string): void {
  if (r?.count === 0) throw new NetplumbError(ErrorCode.NOT_FOUND, message, { syscall: 'transact' });
}
