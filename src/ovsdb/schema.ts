/**
 * The parts of an OVSDB schema (RFC 7047 §3.2) the client needs: which columns exist and
 * whether each is a scalar, a set or a map (monitor diffs are applied differently).
 */
import { ErrorCode, NetplumbError } from '../errors.js';

export type ColumnKind = 'scalar' | 'set' | 'map';

export interface ColumnSchema {
  kind: ColumnKind;
}
export interface TableSchema {
  columns: Record<string, ColumnSchema>;
}
export interface DatabaseSchema {
  name: string;
  version: string;
  tables: Record<string, TableSchema>;
}

/** Columns a caller relies on: table → columns; a column ending in `?` is optional. */
export type ColumnRequirements = Readonly<Record<string, readonly string[]>>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(reason: string): NetplumbError {
  return new NetplumbError(ErrorCode.PROTOCOL, `invalid OVSDB schema from the server: ${reason}`, {
    syscall: 'get_schema',
  });
}

function kindOf(type: unknown): ColumnKind {
  if (typeof type === 'string') return 'scalar';
  if (!isRecord(type)) throw bad(`column type ${JSON.stringify(type)}`);
  if (type.value !== undefined) return 'map';
  // An optional value (min 0, max 1) is diffed like a scalar: in update2's "modify" the
  // server sends its new value, not the elements to toggle (seen: ofport -1 then "1").
  const max = type.max ?? 1;
  return max === 1 ? 'scalar' : 'set';
}

/** Parse a `get_schema` result. Every table has the implicit `_uuid` and `_version` columns. */
export function parseSchema(v: unknown): DatabaseSchema {
  if (!isRecord(v) || typeof v.name !== 'string' || !isRecord(v.tables)) throw bad('missing "name" or "tables"');
  const tables: Record<string, TableSchema> = {};
  for (const [tname, t] of Object.entries(v.tables)) {
    if (!isRecord(t) || !isRecord(t.columns)) throw bad(`table ${tname} has no "columns"`);
    const columns: Record<string, ColumnSchema> = { _uuid: { kind: 'scalar' }, _version: { kind: 'scalar' } };
    for (const [cname, c] of Object.entries(t.columns)) {
      if (!isRecord(c)) throw bad(`column ${tname}.${cname}`);
      columns[cname] = { kind: kindOf(c.type) };
    }
    tables[tname] = { columns };
  }
  return { name: v.name, version: typeof v.version === 'string' ? v.version : '', tables };
}

/**
 * Check that every required column exists. Returns the optional columns (`name?`) that do
 * exist, as `Table.column`; throws INCOMPATIBLE naming the first missing required column.
 */
export function verifyColumns(schema: DatabaseSchema, required: ColumnRequirements, remote: string): Set<string> {
  const present = new Set<string>();
  for (const [table, columns] of Object.entries(required)) {
    for (const spec of columns) {
      const optional = spec.endsWith('?');
      const column = optional ? spec.slice(0, -1) : spec;
      const exists = schema.tables[table]?.columns[column] !== undefined;
      if (exists) present.add(`${table}.${column}`);
      else if (!optional) {
        throw new NetplumbError(
          ErrorCode.INCOMPATIBLE,
          `OVSDB schema ${schema.name} ${schema.version} at ${remote} lacks column ${table}.${column}, which netplumb uses; upgrade Open vSwitch or point --db at a compatible server`,
          { table, column, schemaVersion: schema.version, remote },
        );
      }
    }
  }
  return present;
}
