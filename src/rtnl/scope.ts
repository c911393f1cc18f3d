/** Route/address scopes (RT_SCOPE_*) by the names `ip` uses. */
import { invalidArgument } from '../errors.js';
import { integer } from '../validate.js';
import { RT_SCOPE } from './constants/rtnetlink.js';

const SCOPES = {
  global: RT_SCOPE.RT_SCOPE_UNIVERSE,
  universe: RT_SCOPE.RT_SCOPE_UNIVERSE,
  site: RT_SCOPE.RT_SCOPE_SITE,
  link: RT_SCOPE.RT_SCOPE_LINK,
  host: RT_SCOPE.RT_SCOPE_HOST,
  nowhere: RT_SCOPE.RT_SCOPE_NOWHERE,
} as const;

export type ScopeName = keyof typeof SCOPES;
export type Scope = ScopeName | number;

export function scopeValue(field: string, v: unknown): number {
  if (typeof v === 'string' && Object.hasOwn(SCOPES, v)) return SCOPES[v as ScopeName];
  if (typeof v === 'number') return integer(field, v, 0, 255);
  throw invalidArgument(field, `${JSON.stringify(v)} is not a scope (${Object.keys(SCOPES).join(', ')} or 0..255)`);
}

/** `global`, `link`, `host`, `site`, `nowhere`, or the number. */
export function scopeName(v: number): ScopeName | number {
  if (v === RT_SCOPE.RT_SCOPE_UNIVERSE) return 'global';
  const hit = (Object.entries(SCOPES) as [ScopeName, number][]).find(([, n]) => n === v);
  return hit === undefined ? v : hit[0];
}
