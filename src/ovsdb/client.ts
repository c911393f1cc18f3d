/**
 * An OVSDB client: the RFC 7047 methods over one long-lived connection, a schema check at
 * connect, and a monitor feeding a typed cache that is re-synced after every reconnect.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import { OvsdbCache, type RowDecoders } from './cache.js';
import { OvsdbConnection, type ConnectionOptions } from './connection.js';
import type { Json } from './jsonrpc.js';
import type { Operation } from './ops.js';
import { parseSchema, verifyColumns, type ColumnRequirements, type DatabaseSchema } from './schema.js';
import { checkTransactResult, type ExplainFailure, type OpResult } from './transact.js';

export interface MonitorSpec<M> {
  /** Columns to monitor in each table. */
  columns: { [T in keyof M]: readonly string[] };
  decoders: RowDecoders<M>;
}

export interface ClientOptions<M> extends ConnectionOptions {
  database?: string;
  /** Columns that must exist (`col?` = optional); checked at connect → INCOMPATIBLE. */
  required?: ColumnRequirements;
  monitor: MonitorSpec<M>;
}

export interface TransactOptions {
  timeoutMs?: number;
  explain?: ExplainFailure;
}

export type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';

export interface ClientEvents {
  /** The cache holds the server's state again (after connect or a reconnect). */
  synced: [info: { method: MonitorMethod; reconnect: boolean }];
  disconnect: [reason: NetplumbError];
  /** A re-sync after a reconnect failed for a reason other than the connection. */
  syncError: [err: NetplumbError];
}

const MONITOR_ID = 'netplumb';
const ZERO_TXN = '00000000-0000-0000-0000-000000000000';

function isUnknownMethod(e: unknown): boolean {
  const rpc = e instanceof NetplumbError ? e.details.rpcError : undefined;
  return typeof rpc === 'object' && rpc !== null && (rpc as { error?: unknown }).error === 'unknown method';
}

export class OvsdbClient<M extends Record<string, unknown>> extends EventEmitter<ClientEvents> {
  readonly connection: OvsdbConnection;
  readonly database: string;
  readonly cache: OvsdbCache<M>;
  /** `Table.column` of the optional required columns this server has. */
  optionalColumns = new Set<string>();
  schema: DatabaseSchema | undefined;
  monitorMethod: MonitorMethod = 'monitor_cond_since';
  private lastTxnId = ZERO_TXN;
  private syncing: Promise<void> | null = null;
  /**
   * Pending waitFor predicates, checked after each applied update by one cache listener
   * (hundreds of pipelined transactions may wait at once: no listener per waiter).
   */
  private readonly waiters = new Set<() => void>();
  private readonly log: Logger | undefined;

  private constructor(private readonly opts: ClientOptions<M>) {
    super();
    this.connection = new OvsdbConnection(opts);
    this.database = opts.database ?? 'Open_vSwitch';
    this.cache = new OvsdbCache<M>(opts.monitor.decoders);
    this.cache.on('applied', () => {
      for (const check of this.waiters) check();
    });
    this.log = opts.logger?.child({ component: 'ovsdb-client', remote: this.connection.remote.text });
    this.connection.on('notification', (method, params) => this.onNotification(method, params));
    this.connection.on('disconnect', (reason) => this.emit('disconnect', reason));
    this.connection.on('connect', ({ reconnect }) => {
      if (reconnect) this.syncing = this.sync(true).catch((e: NetplumbError) => this.onSyncError(e));
    });
  }

  /** Connect, check the schema, load the monitored tables into the cache. */
  static async connect<M extends Record<string, unknown>>(opts: ClientOptions<M>): Promise<OvsdbClient<M>> {
    const client = new OvsdbClient<M>(opts);
    try {
      await client.connection.connect();
      await client.sync(false);
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  get remote(): string {
    return this.connection.remote.text;
  }

  /** Resolves once the cache reflects the server (waits for a re-sync in progress). */
  async synced(): Promise<void> {
    if (this.syncing !== null) await this.syncing;
  }

  listDbs(): Promise<string[]> {
    return this.connection.request('list_dbs', [], { idempotent: true }) as Promise<string[]>;
  }

  async getSchema(database = this.database): Promise<DatabaseSchema> {
    return parseSchema(await this.connection.request('get_schema', [database], { idempotent: true }));
  }

  /** Run ops as one transaction; fails loudly on any failed op or commit error. */
  async transact(ops: readonly Operation[], opts: TransactOptions = {}): Promise<OpResult[]> {
    const readOnly = ops.every((op) => op.op === 'select' || op.op === 'comment' || op.op === 'wait');
    const params = [this.database, ...ops] as unknown as Json[];
    const result = await this.connection.request('transact', params, {
      timeoutMs: opts.timeoutMs,
      idempotent: readOnly,
    });
    return checkTransactResult(ops, result, this.remote, opts.explain);
  }

  /**
   * Resolve when `predicate` holds on the cache (checked now and after each applied update);
   * reject with `onTimeout()` after `timeoutMs`.
   */
  waitFor(predicate: () => boolean, timeoutMs: number, onTimeout: () => NetplumbError): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(onTimeout());
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    await this.connection.close();
    this.cache.removeAllListeners();
  }

  // ------------------------------------------------------------ monitor

  private async sync(reconnect: boolean): Promise<void> {
    const schema = await this.getSchema();
    this.optionalColumns = verifyColumns(schema, this.opts.required ?? {}, this.remote);
    this.schema = schema;
    this.cache.setSchema(schema);
    await this.startMonitor();
    this.syncing = null;
    this.log?.debug({ method: this.monitorMethod, reconnect }, 'cache synced');
    this.emit('synced', { method: this.monitorMethod, reconnect });
  }

  /** Each monitored table's <monitor-request>: the columns it is monitored for. */
  private monitorRequests(): Record<string, { columns: string[] }> {
    const out: Record<string, { columns: string[] }> = {};
    for (const [table, cols] of Object.entries(this.opts.monitor.columns) as [string, readonly string[]][]) {
      out[table] = { columns: [...cols] };
    }
    return out;
  }

  private async startMonitor(): Promise<void> {
    // monitor_cond(_since) takes an array of <monitor-cond-request> per table, monitor (v1) one request.
    const requests = Object.fromEntries(
      Object.entries(this.monitorRequests()).map(([t, r]) => [t, [r]]),
    ) as unknown as Json;
    const asV1 = (): Json => this.monitorRequests() as unknown as Json;
    // Cancel a previous monitor on this session (none after a reconnect: a new session).
    for (;;) {
      try {
        switch (this.monitorMethod) {
          case 'monitor_cond_since': {
            const reply = await this.connection.request(
              'monitor_cond_since',
              [this.database, MONITOR_ID, requests, this.lastTxnId],
              { idempotent: true },
            );
            if (!Array.isArray(reply) || reply.length !== 3 || typeof reply[1] !== 'string')
              throw this.badReply('monitor_cond_since', reply);
            if (reply[0] !== true) this.cache.clear();
            this.lastTxnId = reply[1];
            this.cache.applyUpdate2(reply[2]);
            return;
          }
          case 'monitor_cond':
            this.cache.clear();
            this.cache.applyUpdate2(
              await this.connection.request('monitor_cond', [this.database, MONITOR_ID, requests], {
                idempotent: true,
              }),
            );
            return;
          case 'monitor':
            this.cache.clear();
            this.cache.applyUpdate(
              await this.connection.request('monitor', [this.database, MONITOR_ID, asV1()], { idempotent: true }),
            );
            return;
        }
      } catch (e) {
        if (!isUnknownMethod(e) || this.monitorMethod === 'monitor') throw e;
        this.monitorMethod = this.monitorMethod === 'monitor_cond_since' ? 'monitor_cond' : 'monitor';
        this.log?.debug({ method: this.monitorMethod }, 'server lacks the newer monitor method; falling back');
      }
    }
  }

  private badReply(method: string, reply: Json): NetplumbError {
    return new NetplumbError(
      ErrorCode.PROTOCOL,
      `invalid ${method} reply from ${this.remote}: ${JSON.stringify(reply).slice(0, 100)}`,
      { syscall: method },
    );
  }

  private onNotification(method: string, params: Json[]): void {
    try {
      if (method === 'update3' && params.length === 3 && params[0] === MONITOR_ID) {
        if (typeof params[1] === 'string') this.lastTxnId = params[1];
        this.cache.applyUpdate2(params[2]);
      } else if (method === 'update2' && params.length === 2 && params[0] === MONITOR_ID) {
        this.cache.applyUpdate2(params[1]);
      } else if (method === 'update' && params.length === 2 && params[0] === MONITOR_ID) {
        this.cache.applyUpdate(params[1]);
      } else {
        this.log?.debug({ method }, 'notification ignored');
      }
    } catch (e) {
      // A malformed update leaves the cache unknowable: resynchronise from scratch.
      this.lastTxnId = ZERO_TXN;
      this.onSyncError(e as NetplumbError);
      this.connection
        .request('monitor_cancel', [MONITOR_ID], { idempotent: true })
        .then(() => this.startMonitor())
        .catch((err: NetplumbError) => this.onSyncError(err));
    }
  }

  private onSyncError(e: NetplumbError): void {
    this.syncing = null;
    if (e.code === ErrorCode.UNAVAILABLE || e.code === ErrorCode.OUTCOME_UNKNOWN) return; // the next reconnect re-syncs
    this.log?.error({ err: e }, 'cache re-sync failed');
    this.emit('syncError', e);
  }
}
