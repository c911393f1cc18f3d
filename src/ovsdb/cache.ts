/**
 * An in-memory replica of monitored tables, fed by `update` (monitor), `update2`
 * (monitor_cond) and `update3` (monitor_cond_since) notifications. Rows are kept in wire
 * form (to apply diffs) and decoded once per change into typed rows.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Atom, Row, Value } from './notation.js';
import type { ColumnKind, DatabaseSchema } from './schema.js';

/** How each monitored table's wire rows become typed rows. */
export type RowDecoders<M> = { [T in keyof M]: (uuid: string, row: Row) => M[T] };

/** RFC 7047 <table-updates>: full new row, and the old values of changed columns. */
export type TableUpdates = Record<string, Record<string, { old?: Row; new?: Row }>>;
/** <table-updates2> (monitor_cond): `modify` carries diffs. */
export type TableUpdates2 = Record<
  string,
  Record<string, { initial?: Row; insert?: Row; modify?: Row; delete?: null }>
>;

export interface CacheEvents<M> {
  add: [table: keyof M & string, uuid: string, row: M[keyof M]];
  update: [table: keyof M & string, uuid: string, row: M[keyof M], old: M[keyof M]];
  delete: [table: keyof M & string, uuid: string, old: M[keyof M]];
  /** After each notification (or initial load) was applied as a whole. */
  applied: [];
}

interface Entry<R> {
  raw: Row;
  row: R;
}

/** A secondary index: key → the uuids of the rows with that key, in the order they were written. */
interface Index<R> {
  key: (row: R) => string | undefined;
  map: Map<string, Set<string>>;
}

const NONE: ReadonlySet<string> = new Set();

function indexAdd<R>(idx: Index<R>, key: string | undefined, uuid: string): void {
  if (key === undefined) return;
  const uuids = idx.map.get(key);
  if (uuids) uuids.add(uuid);
  else idx.map.set(key, new Set([uuid]));
}

function indexDrop<R>(idx: Index<R>, key: string | undefined, uuid: string): void {
  if (key === undefined) return;
  const uuids = idx.map.get(key);
  if (uuids?.delete(uuid) && uuids.size === 0) idx.map.delete(key);
}

function bad(what: string): NetplumbError {
  return new NetplumbError(ErrorCode.PROTOCOL, `invalid monitor update from OVSDB: ${what}`, { syscall: 'update' });
}

function elements(v: Value | undefined): Atom[] {
  if (v === undefined) return [];
  return Array.isArray(v) && v[0] === 'set' ? (v[1] as Atom[]) : [v as Atom];
}

function pairs(v: Value | undefined): [Atom, Atom][] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v[0] !== 'map') throw bad(`expected a map, got ${JSON.stringify(v)}`);
  return v[1] as [Atom, Atom][];
}

/** A broken invariant of the cache itself (not of the server's input). */
function outOfStep(what: string): NetplumbError {
  return new NetplumbError(ErrorCode.INTERNAL, `OVSDB cache out of step: ${what}`);
}

/** Atoms equal by type and value. */
function sameAtom(a: Atom, b: Atom): boolean {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  return a[0] === b[0] && a[1] === b[1];
}

/** A string that identifies an atom by type and value. */
function keyOf(a: Atom): string {
  return typeof a === 'object' ? `${a[0] === 'uuid' ? 'u' : 'w'}${a[1]}` : `${typeof a}:${String(a)}`;
}

/**
 * Where each element of `diff` sits in `old` (-1: absent). A diff is usually a few
 * elements against a large set (a bridge's ports): those are compared in place, with
 * nothing of the old value copied; a large diff is indexed by key instead.
 */
function locate<E>(old: readonly E[], diff: readonly E[], atomOf: (e: E) => Atom): number[] {
  const at = diff.map(() => -1);
  if (diff.length > 8) {
    const index = new Map(diff.map((e, j) => [keyOf(atomOf(e)), j]));
    old.forEach((e, i) => {
      const j = index.get(keyOf(atomOf(e)));
      if (j !== undefined) at[j] = i;
    });
    return at;
  }
  let left = diff.length;
  for (let i = 0; i < old.length && left > 0; i++) {
    const a = atomOf(old[i]);
    for (let j = 0; j < diff.length; j++) {
      if (at[j] === -1 && sameAtom(a, atomOf(diff[j]))) {
        at[j] = i;
        left--;
        break;
      }
    }
  }
  return at;
}

const self = (a: Atom): Atom => a;
const keyAtom = (p: [Atom, Atom]): Atom => p[0];

/** Apply an update2 `modify` diff to one column (RFC 7047bis / ovsdb-server(7)); the old order is kept. */
export function applyColumnDiff(kind: ColumnKind, old: Value | undefined, diff: Value): Value {
  if (kind === 'scalar') return diff;
  if (kind === 'set') {
    // each diff element toggles: present in the old set → removed, absent → added.
    const before = elements(old);
    const toggles = elements(diff);
    const at = locate(before, toggles, self);
    const removed = new Set(at.filter((i) => i >= 0));
    const out = removed.size === 0 ? [...before] : before.filter((_, i) => !removed.has(i));
    toggles.forEach((a, j) => {
      if (at[j] === -1) out.push(a);
    });
    return ['set', out];
  }
  // a diff pair with the old value removes the key, with another value replaces it, or adds it.
  const before = pairs(old);
  const changes = pairs(diff);
  const at = locate(before, changes, keyAtom);
  const out = [...before];
  const gone = new Set<number>();
  changes.forEach((p, j) => {
    const i = at[j];
    if (i === -1) out.push(p);
    else if (sameAtom(before[i][1], p[1])) gone.add(i);
    else out[i] = p;
  });
  return ['map', gone.size === 0 ? out : out.filter((_, i) => !gone.has(i))];
}

export class OvsdbCache<M extends Record<string, unknown>> extends EventEmitter<CacheEvents<M>> {
  private readonly tables = new Map<keyof M & string, Map<string, Entry<M[keyof M]>>>();
  private readonly indexes = new Map<keyof M & string, Map<string, Index<M[keyof M]>>>();

  constructor(
    private readonly decoders: RowDecoders<M>,
    private schema?: DatabaseSchema,
  ) {
    super();
    for (const t of Object.keys(decoders)) this.tables.set(t, new Map());
  }

  setSchema(schema: DatabaseSchema): void {
    this.schema = schema;
  }

  get<T extends keyof M & string>(table: T, uuid: string): M[T] | undefined {
    return this.tables.get(table)?.get(uuid)?.row as M[T] | undefined;
  }

  /**
   * Keep an index `name` on `table` (e.g. Port by its name, or by one external_ids key), so
   * that `lookup` / `lookupAll` are O(1) instead of a scan of every cached row. Rows already
   * cached are indexed now. While a notification is applied two rows may briefly share a
   * unique key (a delete listed after the insert that reuses the name): `lookup` returns
   * the row written last.
   */
  defineIndex<T extends keyof M & string>(table: T, name: string, key: (row: M[T]) => string | undefined): void {
    let byName = this.indexes.get(table);
    if (!byName) {
      byName = new Map();
      this.indexes.set(table, byName);
    }
    const idx: Index<M[keyof M]> = { key: key as (row: M[keyof M]) => string | undefined, map: new Map() };
    byName.set(name, idx);
    for (const [uuid, e] of this.tables.get(table) ?? []) indexAdd(idx, idx.key(e.row), uuid);
  }

  hasIndex(table: keyof M & string, name: string): boolean {
    return this.indexes.get(table)?.has(name) ?? false;
  }

  /** The row whose index `name` key is `key`, the one written last if several (see defineIndex). */
  lookup<T extends keyof M & string>(table: T, name: string, key: string): M[T] | undefined {
    let last: string | undefined;
    for (const uuid of this.indexed(table, name, key)) last = uuid;
    return last === undefined ? undefined : this.get(table, last);
  }

  /** Every row whose index `name` key is `key`, in the order they were written. */
  lookupAll<T extends keyof M & string>(table: T, name: string, key: string): M[T][] {
    const out: M[T][] = [];
    for (const uuid of this.indexed(table, name, key)) {
      const row = this.get(table, uuid);
      if (row === undefined) throw outOfStep(`index "${name}" on ${table} names row ${uuid}, which is not cached`);
      out.push(row);
    }
    return out;
  }

  /**
   * Rows of `table` whose external_ids hold every pair of `match` (all rows for `{}`). The
   * first key is looked up in an index (made on first use, then kept): a scan of every row
   * per call made each detach cost as much as the table is large.
   */
  findByExternalIds<T extends keyof M & string>(
    table: T,
    externalIds: (row: M[T]) => Readonly<Record<string, string>>,
    match: Readonly<Record<string, string>>,
  ): M[T][] {
    const want = Object.entries(match);
    const first = want[0];
    if (first === undefined) return this.rows(table);
    const [key, value] = first;
    const index = `external_ids:${key}`;
    if (!this.hasIndex(table, index)) this.defineIndex(table, index, (r) => externalIds(r)[key]);
    return this.lookupAll(table, index, value).filter((r) => want.every(([k, v]) => externalIds(r)[k] === v));
  }

  private indexed(table: keyof M & string, name: string, key: string): ReadonlySet<string> {
    const idx = this.indexes.get(table)?.get(name);
    if (!idx)
      throw new NetplumbError(ErrorCode.INVALID_ARGUMENT, `no index "${name}" on cached table ${table}`, {
        table,
        index: name,
      });
    return idx.map.get(key) ?? NONE;
  }

  /** The rows of a table, without copying them into an array. */
  values<T extends keyof M & string>(table: T): IterableIterator<M[T]> {
    const rows = this.tables.get(table);
    return (function* () {
      if (rows) for (const e of rows.values()) yield e.row as M[T];
    })();
  }

  /** Any one row of a table (for single-row tables such as Open_vSwitch). */
  first<T extends keyof M & string>(table: T): M[T] | undefined {
    const rows = this.tables.get(table);
    if (!rows) return undefined;
    for (const e of rows.values()) return e.row as M[T];
    return undefined;
  }

  /** All rows of a table (a snapshot array). */
  rows<T extends keyof M & string>(table: T): M[T][] {
    return [...(this.tables.get(table)?.values() ?? [])].map((e) => e.row as M[T]);
  }

  size(table: keyof M & string): number {
    return this.tables.get(table)?.size ?? 0;
  }

  /** Forget everything (before a full re-sync). Emits `delete` for each row. */
  clear(): void {
    for (const [table, rows] of this.tables) {
      for (const [uuid, e] of rows) this.emit('delete', table, uuid, e.row);
      rows.clear();
      for (const idx of this.indexes.get(table)?.values() ?? []) idx.map.clear();
    }
  }

  /** Apply a monitor (v1) `update` notification or initial reply. */
  applyUpdate(updates: unknown): void {
    for (const [table, rows] of this.tableEntries(updates)) {
      for (const [uuid, change] of Object.entries(rows)) {
        const c = change as { old?: Row; new?: Row };
        if (c.new) this.put(table, uuid, c.new);
        else this.remove(table, uuid);
      }
    }
    this.emit('applied');
  }

  /** Apply a monitor_cond `update2` / monitor_cond_since `update3` table-updates2 object. */
  applyUpdate2(updates: unknown): void {
    for (const [table, rows] of this.tableEntries(updates)) {
      for (const [uuid, change] of Object.entries(rows)) {
        const c = change as TableUpdates2[string][string];
        const full = c.initial ?? c.insert;
        if (full) this.put(table, uuid, full);
        else if (c.modify) this.put(table, uuid, this.patch(table, uuid, c.modify));
        else if ('delete' in c) this.remove(table, uuid);
        else throw bad(`row ${table} ${uuid} has no initial/insert/modify/delete`);
      }
    }
    this.emit('applied');
  }

  private tableEntries(updates: unknown): [keyof M & string, Record<string, unknown>][] {
    if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) throw bad('not an object');
    const out: [keyof M & string, Record<string, unknown>][] = [];
    for (const [table, rows] of Object.entries(updates)) {
      if (!this.tables.has(table)) continue; // a table we did not ask for: ignore
      if (typeof rows !== 'object' || rows === null) throw bad(`table ${table}`);
      out.push([table, rows as Record<string, unknown>]);
    }
    return out;
  }

  /** A monitored table's rows (every table named by the decoders has a map from the start). */
  private rowsOf(table: keyof M & string): Map<string, Entry<M[keyof M]>> {
    const rows = this.tables.get(table);
    if (!rows) throw outOfStep(`table ${table} is not monitored`);
    return rows;
  }

  private patch(table: keyof M & string, uuid: string, diff: Row): Row {
    const cur = this.rowsOf(table).get(uuid);
    if (!cur) throw bad(`modify of unknown row ${table} ${uuid}`);
    const next: Row = { ...cur.raw };
    for (const [col, d] of Object.entries(diff)) {
      const kind = this.schema?.tables[table]?.columns[col]?.kind;
      if (!kind) throw bad(`modify of column ${table}.${col} not in the schema`);
      next[col] = applyColumnDiff(kind, cur.raw[col], d);
    }
    return next;
  }

  private put(table: keyof M & string, uuid: string, raw: Row): void {
    const rows = this.rowsOf(table);
    const old = rows.get(uuid);
    const row = this.decoders[table](uuid, raw);
    rows.set(uuid, { raw, row });
    for (const idx of this.indexes.get(table)?.values() ?? []) {
      const before = old ? idx.key(old.row) : undefined;
      const after = idx.key(row);
      if (before === after) continue;
      indexDrop(idx, before, uuid);
      indexAdd(idx, after, uuid);
    }
    if (old) this.emit('update', table, uuid, row, old.row);
    else this.emit('add', table, uuid, row);
  }

  private remove(table: keyof M & string, uuid: string): void {
    const rows = this.rowsOf(table);
    const old = rows.get(uuid);
    if (!old) return;
    rows.delete(uuid);
    for (const idx of this.indexes.get(table)?.values() ?? []) indexDrop(idx, idx.key(old.row), uuid);
    this.emit('delete', table, uuid, old.row);
  }
}
