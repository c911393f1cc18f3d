/**
 * What a link kind module provides: how to validate its options, which link references they
 * hold, how to write its IFLA_INFO_DATA, and how to read it back. One small module per kind
 * (kinds/veth.ts, kinds/macvlan.ts, …); the registry is kinds/index.ts.
 */
import type { AttrWriter } from '../netlink/attr-writer.js';
import type { LinkRef } from './link-ref.js';

export interface LinkKindContext {
  /** The ifindex of a link reference found by `refs` (already resolved). */
  index(ref: LinkRef): number;
}

export interface LinkKind<O extends { kind: string }, I> {
  /** IFLA_INFO_KIND */
  readonly kind: O['kind'];
  /** The kind needs a parent link (IFLA_LINK: `ip link add link <parent> …`). */
  readonly requiresParent?: boolean;
  /** Check and normalise the kind's options; throws invalidArgument. Runs before anything is sent. */
  validate(o: O): O;
  /** Link references inside the options that must be resolved to ifindexes before encoding. */
  refs?(o: O): LinkRef[];
  /** Write the children of IFLA_INFO_DATA; absent when the kind has none to send. */
  encodeData?(w: AttrWriter, o: O, ctx: LinkKindContext): void;
  /** Decode IFLA_INFO_DATA from a dumped link. */
  decodeData?(data: Buffer): I;
}

/** Identity helper that keeps a kind module's option and info types. */
export function linkKind<O extends { kind: string }, I>(k: LinkKind<O, I>): LinkKind<O, I> {
  return k;
}
