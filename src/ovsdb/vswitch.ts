/**
 * ovs-vsctl's verbs over one OVSDB connection. Each write is one transaction; with
 * `wait` it also bumps `next_cfg` and resolves once ovs-vswitchd reports `cur_cfg`
 * reached (seen through the monitor, not by polling), like `ovs-vsctl` without `--no-wait`.
 *
 * external_ids given here are written as they are (keys/values are validated, reserved
 * keys are not refused): callers holding user metadata run validateUserExternalIds first.
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import { OvsdbClient } from './client.js';
import type { ConnectionOptions } from './connection.js';
import { map, namedUuid, optional, set, uuid, validateStringMap, type Row } from './notation.js';
import { eq, includes, insert, mutate, select, update, wait, type Condition, type Operation } from './ops.js';
import type { ExplainFailure, OpFailure, OpResult } from './transact.js';
import {
  VSWITCH_DECODERS,
  VSWITCH_MONITOR_COLUMNS,
  VSWITCH_REQUIRED_COLUMNS,
  type BridgeRow,
  type InterfaceRow,
  type PortRow,
  type VlanMode,
  type VswitchTables,
} from './vswitch-model.js';
import {
  validateMtu,
  validateName,
  validateTrunks,
  validateType,
  validateVlan,
  validateVlanMode,
} from './vswitch-validate.js';

export const DEFAULT_APPLY_TIMEOUT_MS = 10_000;

export interface WaitOption {
  /** Wait until ovs-vswitchd applied the change: `true` (10 s deadline) or a deadline in ms. */
  wait?: boolean | number;
}
export interface AddBridgeOptions extends WaitOption {
  mayExist?: boolean;
  /** `netdev` for the userspace datapath. */
  datapathType?: string;
  /** MTU requested for the bridge's internal interface. */
  mtuRequest?: number;
  externalIds?: Record<string, string>;
}
export interface PortSpec {
  name: string;
  /** Interface type: '' (system), internal, tap, patch, vxlan… */
  type?: string;
  options?: Record<string, string>;
  /** Access VLAN (1..4094). */
  tag?: number;
  trunks?: number[];
  vlanMode?: VlanMode;
  externalIds?: Record<string, string>;
  interfaceExternalIds?: Record<string, string>;
  mtuRequest?: number;
  /** The OpenFlow port number asked for (1..65279). */
  ofportRequest?: number;
}
export interface AddPortOptions extends WaitOption {
  mayExist?: boolean;
}
export interface AddedPort {
  name: string;
  portUuid: string;
  interfaceUuid: string;
  /** OpenFlow port number, when waited for. */
  ofport?: number;
  /** True when mayExist found the port already there (nothing written for it). */
  existed: boolean;
}
/** What one call wrote: enough for a caller to roll it back. */
export interface Written {
  bridge: string;
  portNames: string[];
  portUuids: string[];
  interfaceUuids: string[];
}
export interface AddPortsResult {
  ports: AddedPort[];
  written: Written;
}
export interface DelPortOptions extends WaitOption {
  ifExists?: boolean;
  /** Refuse to delete a port that is not on this bridge (like `ovs-vsctl del-port BRIDGE PORT`). */
  bridge?: string;
}

type VswitchClient = OvsdbClient<VswitchTables>;

function deadlineOf(w: WaitOption['wait']): number {
  if (w === true) return DEFAULT_APPLY_TIMEOUT_MS;
  if (typeof w === 'number' && w > 0) return w;
  return 0;
}

function insertedUuid(results: OpResult[], index: number): string {
  const uuid = results[index]?.uuid;
  if (uuid === undefined)
    throw new NetplumbError(ErrorCode.PROTOCOL, `OVSDB transact reply has no uuid for the insert at op ${index}`, {
      syscall: 'transact',
    });
  return uuid[1];
}

/** Name of the cache's unique index on `name` (Bridge, Port, Interface: unique in the schema too). */
const BY_NAME = 'name';

export class Vswitch {
  private constructor(readonly client: VswitchClient) {
    // Lookups by name are O(1): a scan of every cached Port per verb grew with the bridge.
    client.cache.defineIndex('Bridge', BY_NAME, (r) => r.name);
    client.cache.defineIndex('Port', BY_NAME, (r) => r.name);
    client.cache.defineIndex('Interface', BY_NAME, (r) => r.name);
  }

  static async connect(opts: ConnectionOptions = {}): Promise<Vswitch> {
    return new Vswitch(
      await OvsdbClient.connect<VswitchTables>({
        ...opts,
        database: 'Open_vSwitch',
        required: VSWITCH_REQUIRED_COLUMNS,
        monitor: { columns: VSWITCH_MONITOR_COLUMNS, decoders: VSWITCH_DECODERS },
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

  async getBridge(name: string): Promise<BridgeRow | undefined> {
    await this.client.synced();
    return this.client.cache.lookup('Bridge', BY_NAME, name);
  }

  async getPort(name: string): Promise<PortRow | undefined> {
    await this.client.synced();
    return this.client.cache.lookup('Port', BY_NAME, name);
  }

  async getInterface(name: string): Promise<InterfaceRow | undefined> {
    await this.client.synced();
    return this.client.cache.lookup('Interface', BY_NAME, name);
  }

  /**
   * Resolve once the Interface named satisfies `ok` (checked now and after each monitor
   * update: another daemon's write, such as ovn-controller's `external_ids:ovn-installed`);
   * reject with `onTimeout()` after `timeoutMs`.
   */
  waitInterface(
    name: string,
    ok: (row: InterfaceRow | undefined) => boolean,
    timeoutMs: number,
    onTimeout: () => NetplumbError,
  ): Promise<void> {
    return this.client.waitFor(() => ok(this.client.cache.lookup('Interface', BY_NAME, name)), timeoutMs, onTimeout);
  }

  /** Equivalent to: ovs-vsctl list-br */
  async listBridges(): Promise<string[]> {
    await this.client.synced();
    return this.client.cache
      .rows('Bridge')
      .map((b) => b.name)
      .sort();
  }

  /** Equivalent to: ovs-vsctl list-ports BRIDGE (the bridge's own local port is not listed) */
  async listPorts(bridge: string): Promise<string[]> {
    const br = await this.requireBridge(bridge);
    return br.ports
      .map((u) => this.client.cache.get('Port', u)?.name)
      .filter((n): n is string => n !== undefined && n !== bridge)
      .sort();
  }

  /** Equivalent to: ovs-vsctl find Port external_ids:K=V … (all pairs must match) */
  async findPortsByExternalIds(match: Record<string, string>): Promise<PortRow[]> {
    await this.client.synced();
    return this.client.cache.findByExternalIds('Port', (p) => p.externalIds, match);
  }

  // ------------------------------------------------------------ bridges

  /** Equivalent to: ovs-vsctl [--may-exist] add-br NAME -- set Bridge NAME datapath_type=T external_ids:K=V -- set Interface NAME mtu_request=M */
  async addBridge(name: string, opts: AddBridgeOptions = {}): Promise<{ uuid: string; existed: boolean }> {
    validateName('bridge', name);
    if (opts.datapathType !== undefined) validateType(opts.datapathType);
    if (opts.mtuRequest !== undefined) validateMtu(opts.mtuRequest);
    validateStringMap('externalIds', opts.externalIds ?? {});
    const existing = await this.getBridge(name);
    if (existing) {
      if (opts.mayExist) return { uuid: existing.uuid, existed: true };
      throw new NetplumbError(
        ErrorCode.ALREADY_EXISTS,
        `bridge "${name}" already exists in ${this.remote}; use mayExist (--may-exist) to accept it`,
        { bridge: name },
      );
    }
    const iface: Row = { name, type: 'internal' };
    if (opts.mtuRequest !== undefined) iface.mtu_request = opts.mtuRequest;
    const bridge: Row = { name, ports: set([namedUuid('port')]), external_ids: map(opts.externalIds ?? {}) };
    if (opts.datapathType !== undefined) bridge.datapath_type = opts.datapathType;
    const ops: Operation[] = [
      insert('Interface', iface, 'iface'),
      insert('Port', { name, interfaces: set([namedUuid('iface')]) }, 'port'),
      insert('Bridge', bridge, 'bridge'),
      mutate('Open_vSwitch', [], [['bridges', 'insert', set([namedUuid('bridge')])]]),
    ];
    const results = await this.run(ops, opts, this.explainDuplicate('bridge'));
    this.requireCount(
      results[3],
      `bridge "${name}" not added: the Open_vSwitch table of ${this.remote} is empty; initialise it with ovs-vsctl init`,
    );
    return { uuid: insertedUuid(results, 2), existed: false };
  }

  /** Equivalent to: ovs-vsctl [--if-exists] del-br NAME (its ports and interfaces go with it) */
  async delBridge(name: string, opts: WaitOption & { ifExists?: boolean } = {}): Promise<{ deleted: boolean }> {
    const br = await this.getBridge(name);
    if (!br) {
      if (opts.ifExists) return { deleted: false };
      throw this.bridgeNotFound(name);
    }
    await this.run([mutate('Open_vSwitch', [], [['bridges', 'delete', set([uuid(br.uuid)])]])], opts);
    return { deleted: true };
  }

  // ------------------------------------------------------------ ports

  /** Equivalent to: ovs-vsctl [--may-exist] add-port BRIDGE PORT [tag=N] -- set Interface PORT type=T options:K=V */
  async addPort(bridge: string, spec: PortSpec, opts: AddPortOptions = {}): Promise<AddedPort & { written: Written }> {
    const { ports, written } = await this.addPorts(bridge, [spec], opts);
    const port = ports[0];
    if (port === undefined) throw new NetplumbError(ErrorCode.INTERNAL, `addPorts returned no port for "${spec.name}"`);
    return { ...port, written };
  }

  /**
   * Equivalent to: ovs-vsctl add-port BRIDGE P1 -- add-port BRIDGE P2 … (one transaction).
   * The transaction waits on the bridge row first: a missing bridge fails it (NOT_FOUND)
   * instead of the rows silently vanishing (faults.md B2).
   */
  async addPorts(bridge: string, specs: PortSpec[], opts: AddPortOptions = {}): Promise<AddPortsResult> {
    validateName('bridge', bridge);
    const checked = specs.map((s) => this.checkPortSpec(s));
    const names = new Set<string>();
    for (const s of checked) {
      if (names.has(s.name)) throw invalidArgument('ports', `port "${s.name}" appears twice in one request`);
      names.add(s.name);
    }
    await this.client.synced();
    const existing = new Map<string, PortRow>();
    for (const n of names) {
      const p = this.client.cache.lookup('Port', BY_NAME, n);
      if (p) existing.set(n, p);
    }
    const br = await this.getBridge(bridge);
    const reused: AddedPort[] = [];
    for (const p of existing.values()) {
      if (!opts.mayExist) throw this.portExists(p.name);
      if (!br?.ports.includes(p.uuid)) {
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `port "${p.name}" already exists in ${this.remote} but not on bridge "${bridge}"; delete it first`,
          { port: p.name, bridge },
        );
      }
      reused.push({ name: p.name, portUuid: p.uuid, interfaceUuid: p.interfaces[0] ?? '', existed: true });
    }
    const fresh = checked.filter((s) => !existing.has(s.name));
    const written: Written = { bridge, portNames: fresh.map((s) => s.name), portUuids: [], interfaceUuids: [] };
    if (fresh.length === 0) return { ports: reused, written };

    const ops: Operation[] = [wait('Bridge', [eq('name', bridge)], ['name'], '==', [{ name: bridge }])];
    fresh.forEach((s, i) => {
      ops.push(insert('Interface', s.iface, `iface${i}`), insert('Port', s.port(`iface${i}`), `port${i}`));
    });
    ops.push(
      mutate('Bridge', [eq('name', bridge)], [['ports', 'insert', set(fresh.map((_, i) => namedUuid(`port${i}`)))]]),
    );
    const explain: ExplainFailure = (f) =>
      f.index === 0 ? this.bridgeNotFound(bridge) : this.explainDuplicate('port')(f, ops);
    const deadline = deadlineOf(opts.wait);
    const results = await this.run(ops, opts, explain, (rs) => {
      const ifaces = fresh.map((_, i) => insertedUuid(rs, 1 + 2 * i));
      return () =>
        ifaces.every((u) => {
          const row = this.client.cache.get('Interface', u);
          return row !== undefined && (row.ofport !== undefined || row.error !== undefined);
        });
    });
    this.requireCount(
      results.at(-1),
      `bridge "${bridge}" not found in ${this.remote}; create it with --create-bridge or ovs-vsctl add-br`,
    );
    const added = fresh.map(
      (s, i): AddedPort => ({
        name: s.name,
        portUuid: insertedUuid(results, 2 + 2 * i),
        interfaceUuid: insertedUuid(results, 1 + 2 * i),
        existed: false,
      }),
    );
    written.portUuids = added.map((p) => p.portUuid);
    written.interfaceUuids = added.map((p) => p.interfaceUuid);
    if (deadline > 0) this.collectOfports(added, written);
    return { ports: [...reused, ...added], written };
  }

  /** Equivalent to: ovs-vsctl [--if-exists] del-port [BRIDGE] PORT [-- del-port PORT2 …] (one transaction) */
  async delPort(names: string | string[], opts: DelPortOptions = {}): Promise<{ deleted: string[] }> {
    const list = (Array.isArray(names) ? names : [names]).map((n) => validateName('port', n, 'any'));
    await this.client.synced();
    const br = opts.bridge === undefined ? undefined : await this.requireBridge(opts.bridge);
    const onBridge = br && new Set(br.ports);
    const targets: PortRow[] = [];
    for (const n of list) {
      const p = this.client.cache.lookup('Port', BY_NAME, n);
      if (p && (!onBridge || onBridge.has(p.uuid))) targets.push(p);
      else if (!opts.ifExists) {
        const where = br ? `on bridge "${br.name}"` : `in ${this.remote}`;
        throw new NetplumbError(
          ErrorCode.NOT_FOUND,
          `port "${n}" not found ${where}; nothing deleted (use ifExists / --if-exists to ignore)`,
          { port: n },
        );
      }
    }
    if (targets.length === 0) return { deleted: [] };
    await this.run(unplugPorts(targets.map((p) => p.uuid)), opts);
    return { deleted: targets.map((p) => p.name) };
  }

  /**
   * Equivalent to: ovs-vsctl --if-exists del-port PORT … for these exact Port rows (one
   * transaction): a row already gone is skipped, and a port recreated since under the same
   * name (a new row) is left alone. For callers that decided on a snapshot (gc).
   */
  async delPortRows(uuids: readonly string[], opts: WaitOption = {}): Promise<void> {
    if (uuids.length === 0) return;
    await this.run(unplugPorts(uuids), opts);
  }

  /** Equivalent to: ovs-vsctl set Port PORT tag=N (null: ovs-vsctl clear Port PORT tag) */
  async setPortTag(name: string, tag: number | null, opts: WaitOption = {}): Promise<void> {
    validateName('port', name, 'any');
    if (tag !== null) validateVlan('tag', tag);
    const results = await this.run([update('Port', await this.portWhere(name), { tag: optional(tag) })], opts);
    this.requireCount(results[0], `port "${name}" not found in ${this.remote}; nothing changed`);
  }

  /** Equivalent to: ovs-vsctl set Port PORT external_ids:K=V … (other keys kept) */
  async setPortExternalIds(name: string, ids: Record<string, string>, opts: WaitOption = {}): Promise<void> {
    validateName('port', name, 'any');
    validateStringMap('externalIds', ids);
    const results = await this.run(
      [
        mutate('Port', await this.portWhere(name), [
          ['external_ids', 'delete', set(Object.keys(ids))],
          ['external_ids', 'insert', map(ids)],
        ]),
      ],
      opts,
    );
    this.requireCount(results[0], `port "${name}" not found in ${this.remote}; nothing changed`);
  }

  /**
   * Equivalent to: ovs-vsctl set Port PORT tag=N trunks=… vlan_mode=M external_ids:K=V
   * (an absent tag/vlanMode, or empty trunks, clears the column).
   */
  async setPortVlans(
    name: string,
    vlans: { tag?: number; trunks?: readonly number[]; vlanMode?: VlanMode },
    externalIds: Record<string, string>,
    opts: WaitOption = {},
  ): Promise<void> {
    validateName('port', name, 'any');
    validateStringMap('externalIds', externalIds);
    const row: Row = {
      tag: optional(vlans.tag === undefined ? undefined : validateVlan('tag', vlans.tag)),
      trunks: set(validateTrunks(vlans.trunks ?? [])),
      vlan_mode: optional(vlans.vlanMode === undefined ? undefined : validateVlanMode(vlans.vlanMode)),
    };
    const where = await this.portWhere(name);
    const results = await this.run(
      [
        update('Port', where, row),
        mutate('Port', where, [
          ['external_ids', 'delete', set(Object.keys(externalIds))],
          ['external_ids', 'insert', map(externalIds)],
        ]),
      ],
      opts,
    );
    this.requireCount(results[0], `port "${name}" not found in ${this.remote}; nothing changed`);
  }

  /** Equivalent to: ovs-vsctl find Port external_ids:KEY!=[] (every port carrying the key, whatever its value) */
  async findPortsWithExternalId(key: string): Promise<PortRow[]> {
    await this.client.synced();
    return this.client.cache.rows('Port').filter((p) => Object.hasOwn(p.externalIds, key));
  }

  /** Equivalent to: ovs-vsctl port-to-br PORT (by the Port row's uuid) */
  async bridgeOfPort(portUuid: string): Promise<BridgeRow | undefined> {
    await this.client.synced();
    return this.client.cache.rows('Bridge').find((b) => b.ports.includes(portUuid));
  }

  // ------------------------------------------------------------ the Open_vSwitch row

  /** Equivalent to: ovs-vsctl get Open_vSwitch . external_ids */
  async switchExternalIds(): Promise<Record<string, string>> {
    await this.client.synced();
    return { ...(this.client.cache.first('Open_vSwitch')?.externalIds ?? {}) };
  }

  /**
   * Equivalent to: ovs-vsctl set Open_vSwitch . external_ids:KEY=VALUE (undefined: remove KEY),
   * committed only while KEY still has the value `expected` (undefined: absent): a concurrent
   * change of the key fails the transaction (CONFLICT) instead of being overwritten.
   */
  async setSwitchExternalId(key: string, value: string | undefined, expected: string | undefined): Promise<void> {
    validateStringMap('externalIds', value === undefined ? {} : { [key]: value });
    const current = await this.switchExternalIds();
    if (current[key] !== expected)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `external_ids:${key} of the Open_vSwitch row in ${this.remote} changed meanwhile (now ${JSON.stringify(current[key] ?? null)}); retry`,
        { key },
      );
    // `wait` compares whole columns: the guard is the map as read, which holds `expected`.
    const ops: Operation[] = [
      wait('Open_vSwitch', [], ['external_ids'], '==', [{ external_ids: map(current) }]),
      mutate('Open_vSwitch', [], [['external_ids', 'delete', set([key])]]),
    ];
    if (value !== undefined) ops.push(mutate('Open_vSwitch', [], [['external_ids', 'insert', map({ [key]: value })]]));
    await this.run(ops, {}, (f) =>
      f.index === 0
        ? new NetplumbError(
            ErrorCode.CONFLICT,
            `external_ids of the Open_vSwitch row in ${this.remote} changed while external_ids:${key} was being set; retry`,
            { key },
          )
        : undefined,
    );
  }

  // ------------------------------------------------------------ helpers

  /**
   * Transact `ops`; with `wait`, also bump next_cfg, read it back in the same transaction
   * and wait (through the monitor) for ovs-vswitchd's cur_cfg to reach it, and for
   * `applied(results)` when given. Returns the results of `ops` only.
   */
  private async run(
    ops: Operation[],
    w: WaitOption,
    explain?: ExplainFailure,
    applied?: (rs: OpResult[]) => () => boolean,
  ): Promise<OpResult[]> {
    const deadline = deadlineOf(w.wait);
    if (deadline === 0) return this.client.transact(ops, { explain });
    const all = [...ops, mutate('Open_vSwitch', [], [['next_cfg', '+=', 1]]), select('Open_vSwitch', [], ['next_cfg'])];
    const results = await this.client.transact(all, { explain });
    const target = results.at(-1)?.rows?.[0]?.next_cfg;
    if (typeof target !== 'number')
      throw new NetplumbError(ErrorCode.PROTOCOL, `no next_cfg in the reply from ${this.remote}`, {
        syscall: 'transact',
      });
    const mine = results.slice(0, ops.length);
    const extra = applied?.(mine) ?? (() => true);
    const ovs = (): number => this.client.cache.first('Open_vSwitch')?.curCfg ?? 0;
    await this.client.waitFor(
      () => ovs() >= target && extra(),
      deadline,
      () =>
        new NetplumbError(
          ErrorCode.DATAPLANE_APPLY_FAILED,
          `cur_cfg not reached: ovs-vswitchd did not apply configuration ${target} within ${deadline} ms (cur_cfg is ${ovs()}); the change is committed in ${this.remote}: is ovs-vswitchd running?`,
          { nextCfg: target, curCfg: ovs(), timeoutMs: deadline },
        ),
    );
    return mine;
  }

  private collectOfports(added: AddedPort[], written: Written): void {
    for (const p of added) {
      const iface = this.client.cache.get('Interface', p.interfaceUuid);
      if (iface?.error !== undefined || iface?.ofport === -1 || iface?.ofport === undefined) {
        throw new NetplumbError(
          ErrorCode.DATAPLANE_APPLY_FAILED,
          `ovs-vswitchd could not set up interface "${p.name}": ${iface?.error ?? `ofport ${iface?.ofport ?? 'unset'}`}; the port is in ${this.remote}: delete it (written) or fix the interface`,
          { port: p.name, ofport: iface?.ofport, interfaceError: iface?.error, written },
        );
      }
      p.ofport = iface.ofport;
    }
  }

  private checkPortSpec(s: PortSpec): { name: string; iface: Row; port: (ifaceName: string) => Row } {
    const type = validateType(s.type ?? '');
    const name = validateName('port', s.name, type);
    const iface: Row = {
      name,
      type,
      options: map(validateStringMap('options', s.options ?? {})),
      external_ids: map(validateStringMap('interfaceExternalIds', s.interfaceExternalIds ?? {})),
    };
    if (s.mtuRequest !== undefined) iface.mtu_request = validateMtu(s.mtuRequest);
    if (s.ofportRequest !== undefined) iface.ofport_request = s.ofportRequest;
    const base: Row = { name, external_ids: map(validateStringMap('externalIds', s.externalIds ?? {})) };
    if (s.tag !== undefined) base.tag = validateVlan('tag', s.tag);
    if (s.trunks !== undefined) base.trunks = set(validateTrunks(s.trunks));
    if (s.vlanMode !== undefined) base.vlan_mode = validateVlanMode(s.vlanMode);
    return { name, iface, port: (ifaceName) => ({ ...base, interfaces: set([namedUuid(ifaceName)]) }) };
  }

  /** Select a port by its cached uuid (the server indexes _uuid, not a where on name), else by name. */
  private async portWhere(name: string): Promise<Condition[]> {
    const p = await this.getPort(name);
    return p ? [eq('_uuid', uuid(p.uuid)), eq('name', name)] : [eq('name', name)];
  }

  private async requireBridge(name: string): Promise<BridgeRow> {
    const br = await this.getBridge(name);
    if (!br) throw this.bridgeNotFound(name);
    return br;
  }

  /** `r`: the result of the op that matches the row (never missing: checkTransactResult checks the count). */
  private requireCount(r: OpResult | undefined, message: string): void {
    if (r === undefined)
      throw new NetplumbError(ErrorCode.PROTOCOL, `OVSDB transact reply from ${this.remote} is missing a result`, {
        syscall: 'transact',
      });
    if (r.count === 0) throw new NetplumbError(ErrorCode.NOT_FOUND, message, { syscall: 'transact' });
  }

  private bridgeNotFound(name: string): NetplumbError {
    return new NetplumbError(
      ErrorCode.NOT_FOUND,
      `bridge "${name}" not found in ${this.remote}; create it with --create-bridge or ovs-vsctl add-br`,
      { bridge: name },
    );
  }

  private portExists(name: string): NetplumbError {
    return new NetplumbError(
      ErrorCode.ALREADY_EXISTS,
      `port "${name}" already exists in ${this.remote}; use mayExist (--may-exist) or choose another name`,
      { port: name },
    );
  }

  /** A duplicate-name constraint violation → ALREADY_EXISTS naming the bridge or port. */
  private explainDuplicate(what: 'bridge' | 'port'): ExplainFailure {
    return (f: OpFailure) => {
      const name = /identical values \((.*)\) for index on column "name"/.exec(f.details ?? '')?.[1];
      if (f.error !== 'constraint violation' || name === undefined) return undefined;
      return what === 'port'
        ? this.portExists(name)
        : new NetplumbError(ErrorCode.ALREADY_EXISTS, `${what} "${name}" already exists in ${this.remote}`, {
            name,
          });
    };
  }
}

/** Remove ports from whichever bridge holds them: that garbage-collects the Port and its Interfaces. */
function unplugPorts(uuids: readonly string[]): Operation[] {
  return uuids.map((u) => mutate('Bridge', [includes('ports', set([uuid(u)]))], [['ports', 'delete', set([uuid(u)])]]));
}
