/** rtnetlink verbs: links (with kinds), addresses, routes, rules, neighbours. */
export { Rtnl } from './rtnl.js';
export {
  LinkVerbs,
  type LinkAddOptions,
  type LinkAddBase,
  type LinkSetOptions,
  type LinkListFilter,
  type LinkDelManyOptions,
} from './link.js';
export type { Link, LinkFlags, OperState } from './link-decode.js';
export type { LinkCommonOptions } from './link-attrs.js';
export type { LinkRef } from './link-ref.js';
export { LINK_KINDS, type LinkKindName, type LinkKindOptions, type LinkKindInfo } from './kinds/index.js';
export type * from './kinds/index.js';
export { AddressVerbs, type Address, type AddressOptions, type AddressListFilter } from './address.js';
export {
  RouteVerbs,
  type Route,
  type RouteOptions,
  type RouteListFilter,
  type RouteType,
  type Table,
} from './route.js';
export { NeighVerbs, type Neighbour, type NeighState } from './neigh.js';
export { RuleVerbs, type Rule, type RuleOptions, type RuleAction } from './rule.js';
export type { Scope, ScopeName } from './scope.js';
