/**
 * Fuzzing both command lines from valid ones outwards (the word-soup properties are in
 * netplumb-args.test.ts and pipework-args.test.ts). Valid command lines must parse, to
 * the same AttachSpec whichever way they are spelled (`--opt value` or `--opt=value`, any
 * option order, pipework's or netplumb's syntax); valid lines with words dropped,
 * repeated, swapped or replaced by hostile ones must parse or be refused with
 * INVALID_ARGUMENT naming a field, the same way each time.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNetplumbArgs } from '../../src/cli/netplumb-args.js';
import { parsePipeworkArgs } from '../../src/cli/pipework-args.js';
import { returnsOrThrows } from './support/assert-error.js';
import { fuzz, hostileString } from './support/fuzz.js';

interface Attach {
  host: string;
  container: string;
  ip: string;
  ifname?: string;
  hostIfname?: string;
  mac?: string;
  vlan?: number;
}

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/).filter((n) => !['route', 'rule', 'tc', 'dhcp'].includes(n));
const octet = fc.integer({ min: 1, max: 254 });
const ip = fc.oneof(
  fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}/24`),
  fc.tuple(octet, octet).map(([a, b]) => `10.${a}.${b}.1/24@10.${a}.${b}.254`),
  fc.integer({ min: 1, max: 0xfffe }).map((h) => `2001:db8::${h.toString(16)}/64`),
  fc.constantFrom('0/0', 'dhcp', 'udhcpc', 'dhclient-f', 'dhcpcd-f:-4'),
);
const mac = fc
  .uint8Array({ minLength: 5, maxLength: 5 })
  .map((b) => ['02', ...Array.from(b, (x) => x.toString(16).padStart(2, '0'))].join(':'));

const attach: fc.Arbitrary<Attach> = fc.record(
  { host: name, container: name, ip, ifname: name, hostIfname: name, mac, vlan: fc.integer({ min: 1, max: 4094 }) },
  { requiredKeys: ['host', 'container', 'ip'] },
);

/** `netplumb attach` options for `a`, as [option, value] pairs. */
function netplumbOptions(a: Attach): [string, string][] {
  const o: [string, string | undefined][] = [
    ['bridge', a.host],
    ['container', a.container],
    ['ip', a.ip],
    ['ifname', a.ifname],
    ['host-ifname', a.hostIfname],
    ['mac', a.mac],
    ['vlan', a.vlan?.toString()],
  ];
  return o.filter((p): p is [string, string] => p[1] !== undefined);
}

/** The pipework command line for `a`. */
function pipeworkArgv(a: Attach): string[] {
  const macVlan =
    a.mac !== undefined || a.vlan !== undefined ? [`${a.mac ?? ''}${a.vlan !== undefined ? `@${a.vlan}` : ''}`] : [];
  return [
    a.host,
    ...(a.ifname !== undefined ? ['-i', a.ifname] : []),
    ...(a.hostIfname !== undefined ? ['-l', a.hostIfname] : []),
    a.container,
    a.ip,
    ...macVlan,
  ];
}

function attachSpecOf(argv: readonly string[]): unknown {
  const c = parseNetplumbArgs(argv);
  assert.equal(c.command, 'attach');
  return c.command === 'attach' ? c.spec : undefined;
}

fuzz(
  'cli',
  'valid attach lines parse to one AttachSpec: --opt value, --opt=value, any option order, and the pipework syntax',
  fc
    .tuple(attach, fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }))
    .chain(([a, joined]) =>
      fc.tuple(
        fc.constant(a),
        fc.constant(joined),
        fc.shuffledSubarray(netplumbOptions(a), { minLength: netplumbOptions(a).length }),
      ),
    ),
  ([a, joined, shuffled]) => {
    const spelled = (pairs: [string, string][], eq: readonly boolean[]): string[] => [
      'attach',
      ...pairs.flatMap(([o, v], i) => (eq[i] === true ? [`--${o}=${v}`] : [`--${o}`, v])),
    ];
    const spec = attachSpecOf(spelled(netplumbOptions(a), []));
    assert.deepEqual(attachSpecOf(spelled(netplumbOptions(a), joined)), spec);
    assert.deepEqual(attachSpecOf(spelled(shuffled, joined)), spec);
    const fromPipework = parsePipeworkArgs(pipeworkArgv(a));
    assert.equal(fromPipework.kind, 'attach');
    assert.deepEqual(fromPipework.kind === 'attach' ? fromPipework.spec : undefined, spec);
    const s = spec as { host: string; vlan?: number; ifname?: string; hostIfname?: string };
    assert.deepEqual([s.host, s.vlan, s.ifname, s.hostIfname], [a.host, a.vlan, a.ifname, a.hostIfname]);
  },
);

type Edit =
  | { op: 'drop' | 'repeat'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'replace' | 'insert'; at: number; word: string };

const hostileWord = fc.oneof(
  hostileString(16),
  fc.constantFrom(
    '-',
    '--',
    '-i',
    '-l',
    '-a',
    '--wait',
    '--direct-phys',
    '--help',
    '-h',
    '=',
    '--=',
    '--ip=',
    '--vlan=0x10',
    '--__proto__',
    '--constructor=1',
    '--valueOf',
    '@',
    '@@',
    'U:',
    'mac:',
    'netns:',
    'pid:',
    '0/0@',
    'dhcp:',
    '4',
    '6',
  ),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop' as const, 'repeat' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constantFrom('replace' as const, 'insert' as const), at: fc.nat(), word: hostileWord }),
);

function applyEdit(argv: readonly string[], e: Edit): string[] {
  const out = [...argv];
  const at = out.length === 0 ? 0 : e.at % out.length;
  if (e.op === 'drop') out.splice(at, 1);
  else if (e.op === 'repeat') out.splice(at, 0, out[at] ?? '');
  else if (e.op === 'swap') {
    const j = out.length === 0 ? 0 : e.with % out.length;
    [out[at], out[j]] = [out[j] ?? '', out[at] ?? ''];
  } else if (e.op === 'replace') out[at] = e.word;
  else if (e.op === 'insert') out.splice(e.at % (out.length + 1), 0, e.word);
  return out;
}

fuzz(
  'cli',
  'valid lines of both parsers with words dropped, repeated, swapped or hostile parse or fail with INVALID_ARGUMENT, deterministically',
  fc.tuple(attach, fc.array(edit, { minLength: 1, maxLength: 4 })),
  ([a, edits]) => {
    const lines: [(argv: readonly string[]) => unknown, string[]][] = [
      [parseNetplumbArgs, ['attach', ...netplumbOptions(a).flatMap(([o, v]) => [`--${o}`, v])]],
      [parsePipeworkArgs, pipeworkArgv(a)],
    ];
    for (const [parse, valid] of lines) {
      const argv = edits.reduce(applyEdit, valid);
      if (returnsOrThrows(() => parse(argv), 'INVALID_ARGUMENT') === 'ok') assert.deepEqual(parse(argv), parse(argv));
    }
  },
);
