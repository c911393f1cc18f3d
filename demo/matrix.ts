/**
 * The demo's connectivity matrix: every ordered pair of guests, judged once.
 *
 * - A pair on one host is judged by `netplumb check` on that host — its library call,
 *   checkConnectivity, over a view of the host, printing what
 *   `ip netns exec HOST netplumb check` prints: an ICMP echo sent natively from inside each
 *   guest (no ping process), the expectation from that host's records (same bridge and
 *   VLAN, or same OVN network, and same subnet). In the seed every pair is such a pair.
 * - A pair across hosts is judged by the scenario: its segments say whether the pair should
 *   reach (the same VLAN across the trunk, the same OVN network), a ping from inside the
 *   source guest measures it. check reads one host's records and probes from that host's
 *   guests: a real host cannot enter another host's guests, and its records do not say
 *   what a cable joins, so check is not stretched across hosts.
 *
 * Each cell says which of the two judged it (`by`); so does the printed matrix.
 */
import type { CheckReport, CheckVerdict } from '../src/check/model.js';
import { checkText } from '../src/check/report.js';
import { checkConnectivity } from '../src/check/run.js';
import {
  expectedReach,
  withHostView,
  type BedHost,
  type DemoGuest,
  type DemoOutput,
  type Scenario,
} from './scenario.js';

export interface MatrixCell {
  from: string;
  to: string;
  /** Should reach: for `check`, as the host's records say; for `ping`, as the scenario's segments say. */
  expected: boolean;
  reached: boolean;
  /** Reached as expected (for `check`: its verdict is ok, and its expectation is the scenario's too). */
  ok: boolean;
  /** `check`: netplumb check on `host`, both guests' host; `ping`: a pair across hosts, pinged. */
  by: 'check' | 'ping';
  host?: string;
}

/** One host's `netplumb check`, in brief (its pairs are cells of the matrix). */
export interface HostCheck {
  host: string;
  verdict: CheckVerdict;
  attachments: number;
  pairs: number;
  probed: number;
  durationMs: number;
}

export interface Matrix {
  ok: boolean;
  mismatches: number;
  /** Every ordered pair of distinct guests, in the scenario's order. */
  cells: MatrixCell[];
  /** The hosts where check ran: those with two guests or more. */
  checks: HostCheck[];
}

export interface MatrixInput {
  scenario: Scenario;
  hosts: readonly BedHost[];
  guests: readonly DemoGuest[];
  /** Each guest's attachment id, as its attach returned it. */
  attachmentIds: readonly string[];
  dockerHost: string | undefined;
  /** How ping runs in a guest, as printed (`podman exec … ping`). */
  pingHow: string;
  out: DemoOutput;
  signal: AbortSignal;
}

const key = (a: number, b: number): string => `${a} ${b}`;

/** Ordered pairs of distinct guests, in the scenario's order. */
function orderedPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) out.push([a, b]);
  return out;
}

function asExpected(cells: readonly [string, MatrixCell][]): string {
  return `${cells.filter(([, c]) => c.ok).length}/${cells.length} as expected`;
}

/** check's pairs among the guests `on` one host, as cells by pair key; a pair it did not report is a mismatch. */
function checkCells(m: MatrixInput, on: readonly number[], rep: CheckReport, host: string): [string, MatrixCell][] {
  const pairs = new Map(rep.pairs.map((p) => [`${p.from} ${p.to}`, p]));
  return on.flatMap((a) =>
    on
      .filter((b) => b !== a)
      .map((b): [string, MatrixCell] => {
        const p = pairs.get(`${m.attachmentIds[a]} ${m.attachmentIds[b]}`);
        const want = expectedReach(m.scenario, a, b);
        const cell: MatrixCell = {
          from: m.guests[a]?.name as string,
          to: m.guests[b]?.name as string,
          expected: p?.expected ?? want,
          reached: p?.reached === true,
          ok: p !== undefined && p.verdict === 'ok' && p.expected === want,
          by: 'check',
          host,
        };
        return [key(a, b), cell];
      }),
  );
}

/** All pings at once, each from inside the source guest, as cells by pair key: a reply within 2 s counts as reached. */
async function pingCells(m: MatrixInput, pairs: readonly [number, number][]): Promise<[string, MatrixCell][]> {
  return Promise.all(
    pairs.map(async ([a, b]): Promise<[string, MatrixCell]> => {
      const from = m.guests[a] as DemoGuest;
      // busybox ping (containers) and iputils ping (namespaces) both take these; exit 0 = a reply came.
      const r = await from.exec(['ping', '-c', '1', '-W', '2', m.scenario.guests[b]?.ip as string], 20_000, m.signal);
      const expected = expectedReach(m.scenario, a, b);
      const reached = r.code === 0;
      return [
        key(a, b),
        { from: from.name, to: m.guests[b]?.name as string, expected, reached, ok: reached === expected, by: 'ping' },
      ];
    }),
  );
}

/** The matrix: check on each host with two guests or more (its report printed), then the pairs across hosts pinged. */
export async function measureMatrix(m: MatrixInput): Promise<Matrix> {
  const s = m.scenario;
  const hostOf = (i: number): number => s.guests[i]?.host ?? 0;
  const several = m.hosts.length > 1;
  const cells = new Map<string, MatrixCell>();
  const checks: HostCheck[] = [];
  for (const [h, host] of m.hosts.entries()) {
    const on = s.guests.flatMap((_, i) => (hostOf(i) === h ? [i] : []));
    if (on.length < 2) continue;
    if (m.signal.aborted) throw m.signal.reason;
    const { rep, judged } = await m.out.step(
      `connectivity${several ? ` on ${host.name}` : ''}: netplumb check (an ICMP echo from inside each guest to every other${several ? ' on this host' : ''}, no ping process)`,
      async () => {
        // Equivalent to: ip netns exec HOST netplumb check
        const r = await withHostView(host, m.dockerHost, (view) => checkConnectivity(view));
        return { rep: r, judged: checkCells(m, on, r, host.name) };
      },
      (v) => asExpected(v.judged),
    );
    for (const [k, c] of judged) cells.set(k, c);
    checks.push({
      host: host.name,
      verdict: rep.verdict,
      attachments: rep.summary.attachments,
      pairs: rep.summary.pairs,
      probed: rep.summary.probed,
      durationMs: rep.durationMs,
    });
    m.out.line();
    for (const l of checkText(rep).trimEnd().split('\n')) m.out.line(l === '' ? '' : `  ${l}`);
    m.out.line();
  }
  const across = orderedPairs(s.guests.length).filter(([a, b]) => hostOf(a) !== hostOf(b));
  if (across.length > 0) {
    if (m.signal.aborted) throw m.signal.reason;
    const pinged = await m.out.step(
      `connectivity across hosts: ping from inside each guest (${m.pingHow}), expected as the scenario's ${s.segmentKind === 'VLAN' ? 'VLANs' : 'networks'} say`,
      () => pingCells(m, across),
      asExpected,
    );
    for (const [k, c] of pinged) cells.set(k, c);
  }
  const all = orderedPairs(s.guests.length).map(([a, b]) => cells.get(key(a, b)) as MatrixCell);
  const mismatches = all.filter((c) => !c.ok).length;
  return { ok: mismatches === 0, mismatches, cells: all, checks };
}

/**
 * The whole matrix, each cell with who judged it — when the guests are on several hosts
 * (on one, check's own matrix above is the whole) — and whether it matches.
 */
export function printMatrix(out: DemoOutput, scenario: Scenario, m: Matrix): void {
  const guests = scenario.guests;
  const several = new Set(guests.map((g) => g.host)).size > 1;
  if (several) {
    const label = (i: number): string => `${guests[i]?.name} h${(guests[i]?.host ?? 0) + 1} ${guests[i]?.segment}`;
    const w = Math.max(11, ...guests.map((_, i) => label(i).length + 2));
    const byPair = new Map(m.cells.map((c) => [`${c.from} ${c.to}`, c]));
    out.line();
    out.line(`    ${'from \\ to'.padEnd(w)}${guests.map((_, i) => label(i).padEnd(w)).join('')}`.trimEnd());
    guests.forEach((from, a) => {
      const row = guests.map((to, b) => {
        const c = a === b ? undefined : byPair.get(`${from.name} ${to.name}`);
        return (c === undefined ? '·' : `${c.reached ? '✓' : '✗'} ${c.by}${c.ok ? '' : ' !!'}`).padEnd(w);
      });
      out.line(`    ${label(a).padEnd(w)}${row.join('')}`.trimEnd());
    });
    out.line();
    out.line('    ✓ a reply came back   ✗ no reply   !! differs from the expectation');
    out.line('    check: netplumb check on the host of both (above)   ping: across hosts, ping from inside the guest');
  }
  const pairs = guests
    .flatMap((g, a) => guests.slice(a + 1).flatMap((h) => (g.segment === h.segment ? [`${g.name} ↔ ${h.name}`] : [])))
    .join(', ');
  out.line(`    expected: the same ${scenario.segmentKind} reaches (${pairs}), another does not`);
  const checked = m.cells.filter((c) => c.by === 'check').length;
  const judged =
    checked === m.cells.length
      ? `${m.cells.length} pairs, all by netplumb check`
      : `${m.cells.length} pairs: ${checked} by netplumb check, ${m.cells.length - checked} by ping across hosts`;
  const differ = m.cells.filter((c) => !c.ok).map((c) => `${c.from} → ${c.to} (${c.by})`);
  out.line(
    `    ${m.ok ? `the matrix matches the expectation (${judged})` : `the matrix does NOT match the expectation: ${differ.join(', ')} (${judged})`}`,
  );
  out.line();
}
