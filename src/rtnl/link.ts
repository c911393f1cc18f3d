/**
 * Link verbs (`ip link …`). Each verb validates its input, resolves link names it needs as
 * ifindexes, builds its request with a pure builder (exported for byte-level tests), and
 * sends it through the engine.
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import { AttrWriter } from '../netlink/attr-writer.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import { NLM_F } from '../netlink/constants.js';
import { RTM } from '../netlink/message-types.js';
import { ifName, integer, u32 } from '../validate.js';
import { IFF, IFLA, IFLA_INFO } from './constants/if-link.js';
import { encodeLinkAttrs, validateLinkCommon, type LinkAttrValues, type LinkCommonOptions } from './link-attrs.js';
import { decodeLink, type Link } from './link-decode.js';
import type { LinkKindContext } from './link-kind.js';
import { describeLinkRef, linkRef, type LinkRef } from './link-ref.js';
import { linkKindFor, type LinkKindOptions } from './kinds/index.js';
import { dump, payload, send, type RtnlRequest } from './request.js';
import { IFINFOMSG } from './structs.js';

export interface LinkAddBase extends LinkCommonOptions {
  name: string;
  /** Parent link (IFLA_LINK), as in `ip link add link <parent> …` (macvlan, vlan, ipoib). */
  link?: LinkRef;
  master?: LinkRef;
  /** Create it up. */
  up?: boolean;
}

/** `link add` options: the common ones plus the kind's, discriminated by `kind`. */
export type LinkAddOptions = LinkAddBase & LinkKindOptions;

export interface LinkSetOptions extends LinkCommonOptions {
  up?: boolean;
  /** Rename. */
  name?: string;
  /** Enslave to a bridge/bond; `null` detaches (`nomaster`). */
  master?: LinkRef | null;
  promisc?: boolean;
}

export interface LinkListFilter {
  kind?: string;
  group?: number;
  master?: LinkRef;
}

export interface LinkDelManyOptions {
  /** Links that are already gone are not an error (default true: the goal is that they are gone). */
  missingOk?: boolean;
}

/** Where a request names its link: by ifindex, or by IFLA_IFNAME with ifindex 0. */
type LinkTarget = { index: number } | { name: string };

function target(ref: LinkRef): LinkTarget {
  return typeof ref === 'number' ? { index: ref } : { name: ref };
}

function targetHeader(t: LinkTarget, flags = 0, change = 0): Buffer {
  return IFINFOMSG.encode({ index: 'index' in t ? t.index : 0, flags, change });
}

function targetAttrs(t: LinkTarget): LinkAttrValues {
  return 'name' in t ? { name: t.name } : {};
}

/** A kind-context whose `index` answers from references resolved beforehand. */
function resolvedContext(indexes: ReadonlyMap<LinkRef, number>): LinkKindContext {
  return {
    index(ref) {
      const i = typeof ref === 'number' ? ref : indexes.get(ref);
      if (i === undefined)
        throw new NetplumbError(ErrorCode.INTERNAL, `link ${describeLinkRef(ref)} was not resolved before encoding`);
      return i;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Validation (before anything is sent)

export function validateLinkAdd(o: LinkAddOptions): LinkAddOptions {
  const kind = linkKindFor((o as { kind: unknown }).kind as string);
  if (kind === undefined)
    throw invalidArgument('kind', `${JSON.stringify((o as { kind: unknown }).kind)} is not a supported link kind`);
  const common = pickCommon(validateLinkCommon(o));
  // The kind validates its own fields of the same union member; the common ones are overlaid.
  const out = { ...o, ...kind.validate(o), ...common, name: ifName('name', o.name) } as LinkAddOptions;
  if (o.link !== undefined) out.link = linkRef('link', o.link);
  if (o.master !== undefined) out.master = linkRef('master', o.master);
  if (kind.requiresParent === true && o.link === undefined)
    throw invalidArgument('link', `a ${kind.kind} link needs a parent link`);
  // The alias is set after creation, by name, through this socket: the link must stay in its namespace.
  if (o.alias !== undefined && o.alias !== '' && (o.netnsFd !== undefined || o.netnsPid !== undefined)) {
    throw invalidArgument('alias', 'cannot be set on a link created in another namespace; set it there afterwards');
  }
  return out;
}

function pickCommon(c: LinkCommonOptions): LinkCommonOptions {
  const { mtu, mac, group, alias, txqlen, netnsFd, netnsPid } = c;
  return Object.fromEntries(
    Object.entries({ mtu, mac, group, alias, txqlen, netnsFd, netnsPid }).filter(([, v]) => v !== undefined),
  );
}

export function validateLinkSet(ref: LinkRef, o: LinkSetOptions): { ref: LinkRef; options: LinkSetOptions } {
  const options = validateLinkCommon(o);
  if (o.name !== undefined) options.name = ifName('name', o.name);
  if (o.master !== undefined && o.master !== null) options.master = linkRef('master', o.master);
  return { ref: linkRef('dev', ref), options };
}

function refsOf(o: LinkAddOptions): LinkRef[] {
  const kind = linkKindFor(o.kind);
  return [o.link, o.master, ...(kind?.refs?.(o) ?? [])].filter((r): r is LinkRef => r !== undefined);
}

// ---------------------------------------------------------------------------------------
// Pure request builders

/** RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL. `ctx` resolves the link references of `o`. */
export function linkAddRequest(o: LinkAddOptions, ctx: LinkKindContext): RtnlRequest {
  const kind = linkKindFor(o.kind);
  if (kind === undefined) throw invalidArgument('kind', `${JSON.stringify(o.kind)} is not a supported link kind`);
  const w = new AttrWriter();
  const attrs: LinkAttrValues = { ...pickCommon(o), name: o.name };
  if (o.link !== undefined) attrs.link = ctx.index(o.link);
  if (o.master !== undefined) attrs.master = ctx.index(o.master);
  encodeLinkAttrs(w, attrs);
  w.nest(IFLA.IFLA_LINKINFO, (li) => {
    li.string(IFLA_INFO.IFLA_INFO_KIND, kind.kind, false);
    const encodeData = kind.encodeData;
    if (encodeData !== undefined)
      li.nest(IFLA_INFO.IFLA_INFO_DATA, (d) => encodeData(d, o, ctx), { omitIfEmpty: true });
  });
  const up = o.up === true ? IFF.IFF_UP : 0;
  return {
    type: RTM.RTM_NEWLINK,
    flags: NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL,
    payload: payload(IFINFOMSG.encode({ flags: up, change: up }), w),
    describe: `link add ${JSON.stringify(o.name)} (${kind.kind})`,
  };
}

/** RTM_NEWLINK without NLM_F_CREATE: change an existing link (what `ip link set` sends). */
export function linkSetRequest(ref: LinkRef, o: LinkSetOptions, ctx: LinkKindContext): RtnlRequest {
  const t = target(ref);
  if (o.name !== undefined && 'name' in t)
    throw new NetplumbError(ErrorCode.INTERNAL, 'a rename needs the link by ifindex');
  let flags = 0;
  let change = 0;
  const flag = (bit: number, on: boolean | undefined): void => {
    if (on === undefined) return;
    change |= bit;
    if (on) flags |= bit;
  };
  flag(IFF.IFF_UP, o.up);
  flag(IFF.IFF_PROMISC, o.promisc);
  const attrs: LinkAttrValues = { ...pickCommon(o), ...targetAttrs(t) };
  if (o.name !== undefined) attrs.name = o.name;
  if (o.master === null) attrs.master = 0;
  else if (o.master !== undefined) attrs.master = ctx.index(o.master);
  const w = new AttrWriter();
  encodeLinkAttrs(w, attrs);
  return {
    type: RTM.RTM_NEWLINK,
    flags: 0,
    payload: payload(targetHeader(t, flags, change), w),
    describe: `link set ${describeLinkRef(ref)}`,
  };
}

export function linkGetRequest(ref: LinkRef): RtnlRequest {
  const t = target(ref);
  const w = new AttrWriter();
  encodeLinkAttrs(w, targetAttrs(t));
  return {
    type: RTM.RTM_GETLINK,
    flags: 0,
    payload: payload(targetHeader(t), w),
    describe: `link ${describeLinkRef(ref)}`,
  };
}

export function linkDelRequest(ref: LinkRef): RtnlRequest {
  const t = target(ref);
  const w = new AttrWriter();
  encodeLinkAttrs(w, targetAttrs(t));
  return {
    type: RTM.RTM_DELLINK,
    flags: 0,
    payload: payload(targetHeader(t), w),
    describe: `link del ${describeLinkRef(ref)}`,
  };
}

/** RTM_DELLINK with ifindex 0 and IFLA_GROUP: every link of the group, in one request. */
export function linkDelGroupRequest(group: number): RtnlRequest {
  const w = new AttrWriter().u32(IFLA.IFLA_GROUP, group);
  return {
    type: RTM.RTM_DELLINK,
    flags: 0,
    payload: payload(IFINFOMSG.encode({}), w),
    describe: `link del group ${group}`,
  };
}

export function linkDumpRequest(): RtnlRequest {
  return { type: RTM.RTM_GETLINK, flags: 0, payload: IFINFOMSG.encode({}), describe: 'link show' };
}

/**
 * The link groups `delMany` borrows for a bulk delete, drawn at random among those no link
 * is in. The groups below stay clear of it, so that a group used as a mark is never picked
 * and shared, between the pick and the delete, with a link just created in it: netplumb's
 * "attach in progress" groups are 0x6e000000–0x6effffff (src/plumb/record.ts).
 */
export const SCRATCH_GROUPS = { first: 0x8000_0000, last: 0xffff_fffe } as const;

/** A group number that refers to links: never 0, the default group every link starts in. */
export function deletableGroup(field: string, v: unknown): number {
  const g = u32(field, v);
  if (g === 0)
    throw invalidArgument(
      field,
      'group 0 is the default group, which holds every link not explicitly grouped; refusing to delete it',
    );
  return g;
}

// ---------------------------------------------------------------------------------------
// Verbs

export class LinkVerbs {
  constructor(private readonly engine: NetlinkEngine) {}

  /**
   * Create a link; for veth, the peer too (in its namespace, under its final name, in the same message).
   * An alias, which the kernel ignores on creation, is set right after (the link is removed if that fails).
   * Equivalent to: ip link add name NAME [link PARENT] [address MAC] [mtu N] [group G] [master M] [netns NS] [up] type KIND [ARGS] [peer name P address … mtu … netns NS]
   */
  async add(options: LinkAddOptions): Promise<void> {
    const o = validateLinkAdd(options);
    const ctx = await this.resolve(refsOf(o));
    await send(this.engine, linkAddRequest(o, ctx));
    // The kernel ignores IFLA_IFALIAS on creation: set it now, and undo the creation if that fails.
    if (o.alias !== undefined && o.alias !== '') {
      try {
        await send(this.engine, linkSetRequest(o.name, { alias: o.alias }, ctx));
      } catch (e) {
        await send(this.engine, linkDelRequest(o.name)).catch(() => undefined);
        throw e;
      }
    }
  }

  /** Equivalent to: ip link set dev DEV [up|down] [mtu N] [address MAC] [name NEW] [master M|nomaster] [netns NS] [group G] [promisc on|off] [alias A] */
  async set(dev: LinkRef, changes: LinkSetOptions): Promise<void> {
    const v = validateLinkSet(dev, changes);
    const refs: LinkRef[] = [];
    if (v.options.name !== undefined && typeof v.ref === 'string') refs.push(v.ref);
    if (v.options.master !== undefined && v.options.master !== null) refs.push(v.options.master);
    const ctx = await this.resolve(refs);
    const ref = v.options.name !== undefined ? ctx.index(v.ref) : v.ref;
    await send(this.engine, linkSetRequest(ref, v.options, ctx));
  }

  /** Equivalent to: ip link show dev DEV */
  async get(dev: LinkRef): Promise<Link> {
    const ref = linkRef('dev', dev);
    const replies = await send(this.engine, linkGetRequest(ref));
    const msg = replies.find((m) => m.type === RTM.RTM_NEWLINK);
    if (msg === undefined)
      throw new NetplumbError(ErrorCode.NOT_FOUND, `link ${describeLinkRef(ref)} not found`, {
        syscall: 'RTM_GETLINK',
      });
    return decodeLink(msg);
  }

  /** Like get, but a missing link is `undefined` instead of NOT_FOUND. Equivalent to: ip link show dev DEV 2>/dev/null */
  async find(dev: LinkRef): Promise<Link | undefined> {
    try {
      return await this.get(dev);
    } catch (e) {
      if (e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND) return undefined;
      throw e;
    }
  }

  /** The ifindex of a link (numbers are returned as they are). Equivalent to: ip -o link show dev DEV | cut -d: -f1 */
  async index(dev: LinkRef): Promise<number> {
    return typeof dev === 'number' ? (linkRef('dev', dev) as number) : (await this.get(dev)).index;
  }

  /** Equivalent to: ip link show [type KIND] [group G] [master M] */
  async list(filter: LinkListFilter = {}): Promise<Link[]> {
    const group = filter.group === undefined ? undefined : u32('group', filter.group);
    const masterRef = filter.master === undefined ? undefined : linkRef('master', filter.master);
    const master = masterRef === undefined ? undefined : await this.index(masterRef);
    const links = (await dump(this.engine, linkDumpRequest()))
      .filter((m) => m.type === RTM.RTM_NEWLINK)
      .map(decodeLink);
    return links.filter(
      (l) =>
        (filter.kind === undefined || l.kind === filter.kind) &&
        (group === undefined || l.group === group) &&
        (master === undefined || l.master === master),
    );
  }

  /** Equivalent to: ip link del dev DEV */
  async del(dev: LinkRef): Promise<void> {
    await send(this.engine, linkDelRequest(linkRef('dev', dev)));
  }

  /** Delete every link of a group in one request. Equivalent to: ip link del group G */
  async delGroup(group: number): Promise<void> {
    await send(this.engine, linkDelGroupRequest(deletableGroup('group', group)));
  }

  /**
   * Delete many links at once: move them into a fresh random group (of SCRATCH_GROUPS), then delete the group
   * (one RTNL pass instead of one RCU grace period per link).
   * Equivalent to: for d in DEVS; do ip link set dev $d group G; done; ip link del group G
   */
  async delMany(devs: readonly LinkRef[], options: LinkDelManyOptions = {}): Promise<void> {
    const refs = devs.map((d, i) => linkRef(`devs[${i}]`, d));
    if (refs.length === 0) return;
    const missingOk = options.missingOk ?? true;
    const group = await this.freshGroup();
    const outcomes = await Promise.allSettled(
      refs.map((ref) => send(this.engine, linkSetRequest(ref, { group }, resolvedContext(new Map())))),
    );
    const failures = outcomes
      .map((o, i) => ({ o, ref: refs[i] }))
      .filter((x): x is { o: PromiseRejectedResult; ref: LinkRef } => x.o.status === 'rejected')
      .filter((x) => !(missingOk && x.o.reason instanceof NetplumbError && x.o.reason.code === ErrorCode.NOT_FOUND));
    // Only links that really joined the group are deleted; an empty group would be ENODEV.
    if (outcomes.some((o) => o.status === 'fulfilled')) await send(this.engine, linkDelGroupRequest(group));
    const first = failures[0];
    if (first !== undefined) {
      const cause = first.o.reason as unknown;
      const code = cause instanceof NetplumbError ? cause.code : ErrorCode.INTERNAL;
      throw new NetplumbError(
        code,
        `link del of ${failures.length} of ${refs.length} links failed; first: ${cause instanceof Error ? cause.message : String(cause)}`,
        {
          failed: failures.map((f) => f.ref),
        },
        { cause },
      );
    }
  }

  /** A random group of SCRATCH_GROUPS no link is in. */
  private async freshGroup(): Promise<number> {
    const used = new Set((await this.list()).map((l) => l.group));
    const { first, last } = SCRATCH_GROUPS;
    for (;;) {
      const g = integer('group', first + Math.floor(Math.random() * (last - first + 1)), first, last);
      if (!used.has(g)) return g;
    }
  }

  /** Resolve names to ifindexes (pipelined), for the builders' context. */
  private async resolve(refs: readonly LinkRef[]): Promise<LinkKindContext> {
    const names = [...new Set(refs.filter((r): r is string => typeof r === 'string'))];
    const indexes = await Promise.all(names.map((n) => this.index(n)));
    return resolvedContext(new Map(names.map((n, i) => [n, indexes[i] ?? 0])));
  }
}
