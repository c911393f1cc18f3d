/**
 * The `ip route …` and `ip rule …` words pipework passes through (`pipework route <guest> …`),
 * parsed into rtnl requests so they run natively inside the guest's namespace.
 */
import { invalidArgument } from '../errors.js';
import type { RouteOptions, RuleOptions, Rtnl } from '../rtnl/index.js';

type Verb = 'add' | 'del' | 'replace' | 'change' | 'append';
const VERBS: Record<string, Verb> = {
  add: 'add',
  a: 'add',
  del: 'del',
  delete: 'del',
  d: 'del',
  replace: 'replace',
  change: 'replace',
  append: 'add',
};

function verbOf(tool: string, words: string[]): Verb {
  const v = VERBS[words[0] ?? ''];
  if (v === undefined)
    throw invalidArgument(
      tool,
      `expected add, del or replace, got ${JSON.stringify(words[0] ?? '')}; e.g. "pipework ${tool} con1 add 10.2.0.0/16 via 10.0.0.254"`,
    );
  return v;
}

/** Walk `key value` pairs (and lone flags), rejecting what is not understood. */
function pairs(
  tool: string,
  words: string[],
  flags: readonly string[],
  onPair: (k: string, v: string) => boolean,
): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const k = words[i] as string;
    if (flags.includes(k)) {
      seen.add(k);
      continue;
    }
    const v = words[i + 1];
    if (v === undefined || !onPair(k, v))
      throw invalidArgument(
        tool,
        `cannot use ${JSON.stringify(k)}${v === undefined ? ' without a value' : ''} here; netplumb understands ${tool === 'route' ? 'to/PREFIX via dev metric table scope src proto onlink' : 'from to iif oif fwmark table/lookup priority/pref not'}`,
      );
    i++;
  }
  return seen;
}

const ROUTE_KEYS = ['to', 'via', 'dev', 'metric', 'table', 'scope', 'src', 'proto', 'protocol'];

/** Equivalent to: ip route add|del|replace PREFIX [via GW] [dev IF] [metric N] [table T] [scope S] [src A] [onlink] */
export async function runRoute(rtnl: Rtnl, words: string[]): Promise<void> {
  const verb = verbOf('route', words);
  let rest = words.slice(1);
  const o: RouteOptions = { dst: '' };
  // `ip route add PREFIX …`: the prefix may stand alone, without `to`.
  if (rest[0] !== undefined && !ROUTE_KEYS.includes(rest[0]) && rest[0] !== 'onlink') {
    o.dst = rest[0];
    rest = rest.slice(1);
  }
  const flags = pairs('route', rest, ['onlink'], (k, v) => {
    switch (k) {
      case 'to':
        o.dst = v;
        return true;
      case 'via':
        o.via = v;
        return true;
      case 'dev':
        o.dev = v;
        return true;
      case 'metric':
        o.metric = Number(v);
        return true;
      case 'table':
        o.table = /^\d+$/.test(v) ? Number(v) : (v as RouteOptions['table'] & string);
        return true;
      case 'scope':
        o.scope = v as RouteOptions['scope'] & string;
        return true;
      case 'src':
        o.src = v;
        return true;
      case 'proto':
      case 'protocol':
        o.protocol = Number(v);
        return true;
      default:
        return false;
    }
  });
  if (flags.has('onlink')) o.onlink = true;
  if (o.dst === '') throw invalidArgument('route', 'no destination prefix (or "default") given');
  if (verb === 'del') await rtnl.route.del(o);
  else if (verb === 'replace') await rtnl.route.replace(o);
  else await rtnl.route.add(o);
}

/** Equivalent to: ip rule add|del [not] [from P] [to P] [iif IF] [oif IF] [fwmark M[/MASK]] [table T] [priority N] */
export async function runRule(rtnl: Rtnl, words: string[]): Promise<void> {
  const verb = verbOf('rule', words);
  const o: RuleOptions = {};
  const flags = pairs('rule', words.slice(1), ['not'], (k, v) => {
    switch (k) {
      case 'from':
        o.from = v;
        return true;
      case 'to':
        o.to = v;
        return true;
      case 'iif':
      case 'dev':
        o.iif = v;
        return true;
      case 'oif':
        o.oif = v;
        return true;
      case 'fwmark': {
        const [mark, mask] = v.split('/');
        o.fwmark = Number(mark);
        if (mask !== undefined) o.fwmask = Number(mask);
        return true;
      }
      case 'table':
      case 'lookup':
        o.table = /^\d+$/.test(v) ? Number(v) : (v as RuleOptions['table'] & string);
        return true;
      case 'priority':
      case 'pref':
      case 'preference':
        o.priority = Number(v);
        return true;
      default:
        return false;
    }
  });
  if (flags.has('not')) o.not = true;
  if (verb === 'del') await rtnl.rule.del(o);
  else await rtnl.rule.add(o);
}
