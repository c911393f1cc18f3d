/**
 * A JSON Schema checker for the subset the documented schemas use (docs/*.schema.json):
 * type, const, enum, required, properties, additionalProperties, items, $ref to $defs,
 * oneOf, minimum, maximum. Returns every violation with its path; [] when valid. An
 * oracle apart from the TypeScript types: the documents are what users read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  $ref?: string;
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  $defs?: Record<string, Schema>;
};

/** docs/NAME relative to the repository (tests run from dist/test/…). */
export function loadSchema(name: string): Schema {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', name), 'utf8')) as Schema;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const walk = (s: Schema, v: unknown, path: string): void => {
    if (s.$ref !== undefined) {
      const name = s.$ref.replace('#/$defs/', '');
      const target = root.$defs?.[name];
      if (target === undefined) errors.push(`${path}: unknown $ref ${s.$ref}`);
      else walk(target, v, path);
      return;
    }
    if (s.oneOf !== undefined) {
      const ok = s.oneOf.filter((alt) => validate({ ...root, ...alt, $defs: root.$defs }, v).length === 0).length;
      if (ok !== 1) errors.push(`${path}: matches ${ok} of oneOf's ${s.oneOf.length} alternatives`);
      return;
    }
    if (s.const !== undefined && v !== s.const)
      errors.push(`${path}: ${JSON.stringify(v)} is not ${JSON.stringify(s.const)}`);
    if (s.enum !== undefined && !s.enum.includes(v))
      errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
    if (s.type !== undefined) {
      const t = typeOf(v);
      const allowed = Array.isArray(s.type) ? s.type : [s.type];
      if (!allowed.includes(t) && !(t === 'integer' && allowed.includes('number'))) {
        errors.push(`${path}: ${t}, expected ${allowed.join('|')}`);
        return;
      }
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) errors.push(`${path}: ${v} < ${s.minimum}`);
      if (s.maximum !== undefined && v > s.maximum) errors.push(`${path}: ${v} > ${s.maximum}`);
    }
    if (Array.isArray(v) && s.items !== undefined) {
      const items = s.items;
      v.forEach((x, i) => {
        walk(items, x, `${path}[${i}]`);
      });
    }
    if (typeOf(v) === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of s.required ?? []) if (!(k in o)) errors.push(`${path}: missing ${k}`);
      for (const [k, x] of Object.entries(o)) {
        const p = s.properties?.[k];
        if (p !== undefined) walk(p, x, `${path}.${k}`);
        else if (s.additionalProperties === false) errors.push(`${path}: unexpected property ${k}`);
        else if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, x, `${path}.${k}`);
      }
    }
  };
  walk(root, value, '$');
  return errors;
}
