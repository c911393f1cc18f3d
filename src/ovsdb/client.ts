/**
 * An OVSDB client: the RFC 7047 methods over one long-lived connection, a schema check at
 * connect, and a monitor feeding a typed cache that is re-synced after every reconnect.
 *
 * Syncs (get_schema, then monitor_cond_since) run one at a time. A monitor lives and dies
 * with its session, so a sync belongs to the session it began on: when the connection
 * drops under it, it is abandoned and the sync of the new session takes over (its monitor
 * request is never sent again on the new session, where it would be a second monitor
 * with the same id). A re-sync on a session that already has the monitor (after a
 * malformed update) cancels it first.
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
  /** A re-sync failed for a reason other than the connection (or an update was malformed). */
  syncError: [err: NetplumbError];
}

const MONITOR_ID = 'netplumb';
const ZERO_TXN = '00000000-0000-0000-0000-000000000000';

function isUnknownMethod(e: unknown): boolean {
  const rpc = e instanceof NetplumbError ? e.details.rpcError : undefined;
  return typeof rpc === 'object' && rpc !== null && (rpc as { error?: unknown }).error === 'unknown method';
}

/** The request failed with its connection (dropped, closed, unreachable, or no reply in time). */
function lostWithConnection(e: unknown): boolean {
  return e instanceof NetplumbError && (e.code === ErrorCode.UNAVAILABLE || e.code === ErrorCode.OUTCOME_UNKNOWN);
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
  /** Counts the connection's sessions (each connect); a monitor belongs to one. */
  private session = 0;
  /** The session our monitor was last requested on. */
  private monitorSession = -1;
  /** Updates received while the monitor request is in flight (see startMonitor); null: none is. */
  private heldUpdates: [method: string, params: Json[]][] | null = null;
  /** A sync asked for and not begun yet (a new session, a malformed update); `reconnect` for the `synced` event. */
  private syncWanted: { reconnect: boolean } | null = null;
  /** The syncs running, one after the other, until none is wanted; null when none runs. */
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
      this.session++;
      if (reconnect) this.resync(true).catch((e: unknown) => this.onSyncError(e as NetplumbError));
    });
  }

  /** Connect, check the schema, load the monitored tables into the cache. */
  static async connect<M extends Record<string, unknown>>(opts: ClientOptions<M>): Promise<OvsdbClient<M>> {
    const client = new OvsdbClient<M>(opts);
    try {
      await client.connection.connect();
      await client.resync(false);
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  get remote(): string {
    return this.connection.remote.text;
  }

  /**
   * Resolves once no sync runs: the cache reflects the server, or the last sync failed
   * (reported by `syncError`, or with the connection, whose next session syncs again).
   * A sync keeps going across reconnects (a server frozen but accepting connections is
   * reconnected to without end), so a reader waits for it no longer than for a request:
   * past the connection's request deadline it fails UNAVAILABLE, and the sync goes on.
   */
  async synced(): Promise<void> {
    const syncing = this.syncing;
    if (syncing === null) return;
    const deadlineMs = this.connection.requestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NetplumbError(
              ErrorCode.UNAVAILABLE,
              `OVSDB at ${this.remote} has not answered a cache sync within ${deadlineMs} ms (ovsdb-server busy, stopped or frozen); the connection keeps retrying — check that ovsdb-server runs, then try again`,
              { syscall: 'monitor' },
            ),
          ),
        deadlineMs,
      );
    });
    try {
      await Promise.race([syncing.catch(() => undefined), expired]);
    } finally {
      clearTimeout(timer);
    }
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

  /** Ask for a sync: it runs now, or after the one running (whose session may be gone). */
  private resync(reconnect: boolean): Promise<void> {
    this.syncWanted = { reconnect: reconnect || this.syncWanted?.reconnect === true };
    this.syncing ??= this.runSyncs();
    return this.syncing;
  }

  /** Run the syncs asked for, one at a time; rejects with the last one's failure. */
  private async runSyncs(): Promise<void> {
    try {
      for (let want = this.syncWanted; want !== null; want = this.syncWanted) {
        this.syncWanted = null;
        try {
          await this.syncOnce(want.reconnect);
        } catch (e) {
          if (this.syncWanted !== null) continue; // a new session (or a malformed update) came: sync again
          if (!lostWithConnection(e) || this.connection.connected) throw e;
          // The session ended under the sync: the next one syncs (throws if reconnecting gives up).
          await this.connection.connect();
          this.syncWanted ??= { reconnect: true };
        }
      }
    } finally {
      this.syncing = null;
    }
  }

  /** One sync on the current session: the schema, then the monitor (cancelled first if this session has one). */
  private async syncOnce(reconnect: boolean): Promise<void> {
    const session = this.session;
    const schema = await this.getSchema();
    this.checkSession(session);
    this.optionalColumns = verifyColumns(schema, this.opts.required ?? {}, this.remote);
    this.schema = schema;
    this.cache.setSchema(schema);
    if (this.monitorSession === session) {
      await this.cancelMonitor();
      this.checkSession(session);
    }
    this.monitorSession = session;
    await this.startMonitor();
    this.log?.debug({ method: this.monitorMethod, reconnect }, 'cache synced');
    this.emit('synced', { method: this.monitorMethod, reconnect });
  }

  /** A read resent after a reconnect answers on a newer session than the sync began on: abandon the sync. */
  private checkSession(session: number): void {
    if (session === this.session && this.connection.connected) return;
    throw new NetplumbError(ErrorCode.UNAVAILABLE, `OVSDB session with ${this.remote} ended during the cache sync`, {
      syscall: 'monitor',
    });
  }

  /** monitor_cancel; a server that no longer knows the monitor has nothing to cancel. */
  private async cancelMonitor(): Promise<void> {
    try {
      await this.connection.request('monitor_cancel', [MONITOR_ID]);
    } catch (e) {
      if (e instanceof NetplumbError && e.code === ErrorCode.PROTOCOL) return; // "unknown monitor"
      throw e;
    }
  }

  /** Each monitored table's <monitor-request>: the columns it is monitored for. */
  private monitorRequests(): Record<string, { columns: string[] }> {
    const out: Record<string, { columns: string[] }> = {};
    for (const [table, cols] of Object.entries(this.opts.monitor.columns) as [string, readonly string[]][]) {
      out[table] = { columns: [...cols] };
    }
    return out;
  }

  /**
   * The monitor's reply and its first updates can come in one read: the reply settles a
   * promise (its rows are applied a microtask later) while a notification is handled at
   * once. Updates that come while a monitor request is in flight are held, and applied once
   * its reply is; otherwise the initial rows would overwrite them. Dropped if the request fails
   * (the sync that takes over loads the tables anew).
   */
  private async startMonitor(): Promise<void> {
    this.heldUpdates = [];
    let loaded = false;
    try {
      await this.requestMonitor();
      loaded = true;
    } finally {
      const held = this.heldUpdates;
      this.heldUpdates = null;
      if (loaded) for (const [method, params] of held ?? []) this.onNotification(method, params);
    }
  }

  private async requestMonitor(): Promise<void> {
    // monitor_cond(_since) takes an array of <monitor-cond-request> per table, monitor (v1) one request.
    const requests = Object.fromEntries(
      Object.entries(this.monitorRequests()).map(([t, r]) => [t, [r]]),
    ) as unknown as Json;
    const asV1 = (): Json => this.monitorRequests() as unknown as Json;
    // Monitor requests are not marked idempotent: one in flight when the connection drops
    // fails instead of being sent again on the new session, whose own sync sets it up.
    for (;;) {
      try {
        switch (this.monitorMethod) {
          case 'monitor_cond_since': {
            const reply = await this.connection.request('monitor_cond_since', [
              this.database,
              MONITOR_ID,
              requests,
              this.lastTxnId,
            ]);
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
              await this.connection.request('monitor_cond', [this.database, MONITOR_ID, requests]),
            );
            return;
          case 'monitor':
            this.cache.clear();
            this.cache.applyUpdate(await this.connection.request('monitor', [this.database, MONITOR_ID, asV1()]));
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
    if (this.heldUpdates !== null && params[0] === MONITOR_ID) {
      this.heldUpdates.push([method, params]);
      return;
    }
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
      this.onSyncError(
        e instanceof NetplumbError
          ? e
          : new NetplumbError(
              ErrorCode.PROTOCOL,
              `invalid ${method} from ${this.remote}: ${e instanceof Error ? e.message : String(e)}`,
              { syscall: 'update' },
            ),
      );
      this.resync(false).catch((err: unknown) => this.onSyncError(err as NetplumbError));
    }
  }

  private onSyncError(e: NetplumbError): void {
    if (lostWithConnection(e) && !this.connection.connected) return; // the next session re-syncs
    this.log?.error({ err: e }, 'cache re-sync failed');
    this.emit('syncError', e);
  }
}
