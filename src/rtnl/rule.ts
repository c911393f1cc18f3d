/** Policy-routing rule verbs (`ip rule …`) and RTM_NEWRULE decoding. */
import { invalidArgument } from '../errors.js';
import { AttrWriter } from '../netlink/attr-writer.js';
import { attr, attrTable, dec, parseAttrs, type RawAttr } from '../netlink/attr-reader.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import type { NetlinkMessage } from '../netlink/header.js';
import { NLM_F } from '../netlink/constants.js';
import { RTM } from '../netlink/message-types.js';
import { guardParse, parseError } from '../netlink/parse-error.js';
import { hostPrefix, ifName, ipAddress, ipPrefix, u32, type IpFamily, type IpPrefix } from '../validate.js';
import { FIB_RULE, FRA, FR_ACT } from './constants/fib-rules.js';
import { RT_TABLE } from './constants/rtnetlink.js';
import { afOf, familyOf } from './family.js';
import { dump, payload, send, type RtnlRequest } from './request.js';
import { tableName, tableValue, type Table, type TableName } from './route.js';
import { FIB_RULE_HDR } from './structs.js';

const ACTIONS = {
  lookup: FR_ACT.FR_ACT_TO_TBL,
  goto: FR_ACT.FR_ACT_GOTO,
  nop: FR_ACT.FR_ACT_NOP,
  blackhole: FR_ACT.FR_ACT_BLACKHOLE,
  unreachable: FR_ACT.FR_ACT_UNREACHABLE,
  prohibit: FR_ACT.FR_ACT_PROHIBIT,
} as const;
export type RuleAction = keyof typeof ACTIONS;

export interface RuleOptions {
  /** Default: the family of from/to, else 4. */
  family?: IpFamily;
  /** Source selector: a prefix, or an address (a host). */
  from?: string;
  to?: string;
  /** Input interface name (need not exist yet). */
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  /** `lookup TABLE`; on add the default is `main`. */
  table?: Table;
  priority?: number;
  /** Invert the selector (FIB_RULE_INVERT). */
  not?: boolean;
  /** Default `lookup` on add. */
  action?: RuleAction;
}

export interface Rule {
  family: IpFamily;
  priority?: number;
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  table: TableName | number;
  action: RuleAction | number;
  not: boolean;
  unknownAttrs: RawAttr[];
}

const RULE_TABLE = attrTable('FRA', {
  [FRA.FRA_DST]: attr('dst', dec.ip),
  [FRA.FRA_SRC]: attr('src', dec.ip),
  [FRA.FRA_IIFNAME]: attr('iif', dec.string),
  [FRA.FRA_OIFNAME]: attr('oif', dec.string),
  [FRA.FRA_PRIORITY]: attr('priority', dec.u32),
  [FRA.FRA_FWMARK]: attr('fwmark', dec.u32),
  [FRA.FRA_FWMASK]: attr('fwmask', dec.u32),
  [FRA.FRA_TABLE]: attr('table', dec.u32),
});

export function decodeRule(msg: NetlinkMessage): Rule {
  return guardParse('RTM_NEWRULE', () => {
    if (msg.type !== RTM.RTM_NEWRULE) throw parseError('RTM_NEWRULE', `unexpected message type ${msg.type}`);
    const h = FIB_RULE_HDR.decode(msg.payload);
    const a = parseAttrs(msg.payload.subarray(FIB_RULE_HDR.size), RULE_TABLE);
    const action = (Object.entries(ACTIONS) as [RuleAction, number][]).find(([, n]) => n === h.action)?.[0] ?? h.action;
    const out: Rule = {
      family: familyOf(h.family, 'fib_rule_hdr'),
      table: tableName(a.table ?? h.table),
      action,
      not: (h.flags & FIB_RULE.FIB_RULE_INVERT) !== 0,
      unknownAttrs: a.unknown,
    };
    if (a.priority !== undefined) out.priority = a.priority;
    if (a.src !== undefined) out.from = `${a.src}/${h.src_len}`;
    if (a.dst !== undefined) out.to = `${a.dst}/${h.dst_len}`;
    if (a.iif !== undefined) out.iif = a.iif;
    if (a.oif !== undefined) out.oif = a.oif;
    if (a.fwmark !== undefined) out.fwmark = a.fwmark;
    if (a.fwmask !== undefined) out.fwmask = a.fwmask;
    return out;
  });
}

/** A rule selector: `10.1.0.0/16`, or an address meaning that host. */
function selector(field: string, v: string, family: IpFamily | undefined): IpPrefix {
  if (v.includes('/')) return ipPrefix(field, v, family === undefined ? { network: true } : { family, network: true });
  return hostPrefix(ipAddress(field, v, family));
}

export interface ValidRule {
  family: IpFamily;
  from?: IpPrefix;
  to?: IpPrefix;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  table?: number;
  priority?: number;
  not: boolean;
  action?: number;
}

export function validateRule(o: RuleOptions): ValidRule {
  const from = o.from === undefined ? undefined : selector('from', o.from, o.family);
  const to = o.to === undefined ? undefined : selector('to', o.to, o.family ?? from?.family);
  const out: ValidRule = { family: o.family ?? from?.family ?? to?.family ?? 4, not: o.not === true };
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (o.iif !== undefined) out.iif = ifName('iif', o.iif);
  if (o.oif !== undefined) out.oif = ifName('oif', o.oif);
  if (o.fwmark !== undefined) out.fwmark = u32('fwmark', o.fwmark);
  if (o.fwmask !== undefined) {
    if (o.fwmark === undefined) throw invalidArgument('fwmask', 'needs fwmark');
    out.fwmask = u32('fwmask', o.fwmask);
  }
  if (o.table !== undefined) out.table = tableValue('table', o.table);
  if (o.priority !== undefined) out.priority = u32('priority', o.priority);
  if (o.action !== undefined) {
    if (!Object.hasOwn(ACTIONS, o.action))
      throw invalidArgument('action', `${JSON.stringify(o.action)} is not one of ${Object.keys(ACTIONS).join(', ')}`);
    out.action = ACTIONS[o.action];
  }
  return out;
}

/**
 * RTM_NEWRULE / RTM_DELRULE, as iproute2 builds them: fib_rule_hdr; FRA_SRC, FRA_DST,
 * FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK, FRA_FWMASK, FRA_TABLE (ids ≥ 256), FRA_PRIORITY.
 * An added rule looks up `main` unless told otherwise; a delete matches only what is given.
 */
export function ruleRequest(type: typeof RTM.RTM_NEWRULE | typeof RTM.RTM_DELRULE, v: ValidRule): RtnlRequest {
  const add = type === RTM.RTM_NEWRULE;
  const table = v.table ?? (add ? RT_TABLE.RT_TABLE_MAIN : 0);
  const hdr = FIB_RULE_HDR.encode({
    family: afOf(v.family),
    dst_len: v.to?.prefixLen ?? 0,
    src_len: v.from?.prefixLen ?? 0,
    table: table < 256 ? table : RT_TABLE.RT_TABLE_UNSPEC,
    action: v.action ?? (add ? FR_ACT.FR_ACT_TO_TBL : FR_ACT.FR_ACT_UNSPEC),
    flags: v.not ? FIB_RULE.FIB_RULE_INVERT : 0,
  });
  const w = new AttrWriter();
  if (v.from !== undefined) w.ip(FRA.FRA_SRC, v.from.bytes);
  if (v.to !== undefined) w.ip(FRA.FRA_DST, v.to.bytes);
  if (v.iif !== undefined) w.string(FRA.FRA_IIFNAME, v.iif);
  if (v.oif !== undefined) w.string(FRA.FRA_OIFNAME, v.oif);
  if (v.fwmark !== undefined) w.u32(FRA.FRA_FWMARK, v.fwmark);
  if (v.fwmask !== undefined) w.u32(FRA.FRA_FWMASK, v.fwmask);
  if (table >= 256) w.u32(FRA.FRA_TABLE, table);
  if (v.priority !== undefined) w.u32(FRA.FRA_PRIORITY, v.priority);
  const parts = [
    v.not ? 'not' : '',
    v.from ? `from ${v.from.cidr}` : '',
    v.to ? `to ${v.to.cidr}` : '',
    v.priority !== undefined ? `priority ${v.priority}` : '',
  ].filter((s) => s !== '');
  return {
    type,
    flags: add ? NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL : 0,
    payload: payload(hdr, w),
    describe: `rule ${add ? 'add' : 'del'} ${parts.join(' ')}`.trimEnd(),
  };
}

export function ruleDumpRequest(family?: IpFamily): RtnlRequest {
  return {
    type: RTM.RTM_GETRULE,
    flags: 0,
    payload: FIB_RULE_HDR.encode({ family: afOf(family) }),
    describe: 'rule show',
  };
}

export class RuleVerbs {
  constructor(private readonly engine: NetlinkEngine) {}

  /** Equivalent to: ip rule add [not] [from P] [to P] [iif I] [oif O] [fwmark M[/MASK]] [lookup T] [priority N] */
  async add(o: RuleOptions): Promise<void> {
    await send(this.engine, ruleRequest(RTM.RTM_NEWRULE, validateRule(o)));
  }

  /** Equivalent to: ip rule del [not] [from P] [to P] [iif I] [oif O] [fwmark M[/MASK]] [lookup T] [priority N] */
  async del(o: RuleOptions): Promise<void> {
    await send(this.engine, ruleRequest(RTM.RTM_DELRULE, validateRule(o)));
  }

  /** Equivalent to: ip [-4|-6] rule show */
  async list(family?: IpFamily): Promise<Rule[]> {
    const replies = await dump(this.engine, ruleDumpRequest(family));
    return replies.filter((m) => m.type === RTM.RTM_NEWRULE).map(decodeRule);
  }
}
