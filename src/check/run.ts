/**
 * `netplumb check`: read the topology (guests' namespaces held), plan the pairs, probe
 * them all at once from inside the guests, remove the neighbour entries the probes made,
 * compare with the expectation. Read-only for the wiring; the guests keep nothing.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildTopology } from '../topology/build.js';
import type { Netns } from '../netns/index.js';
import { releaseSnapshot, type HostView } from '../topology/read.js';
import { scopeFor, type Selection } from '../topology/scope.js';
import { selectScope } from '../topology/select.js';
import { CHECK_SCHEMA, type CheckReport, type CheckVerdict, type PairResult, type PairVerdict } from './model.js';
import { participants, planPairs, type Participant, type PlannedPair } from './plan.js';
import { probeAll, type ProbeSource, type ProbeTarget } from './probe.js';
import { NeighbourTrace, type MadeEntry, type TracedGuest } from './trace.js';

export interface CheckOptions {
  selections?: readonly Selection[];
  /** How long to wait for replies (default 3000 ms). */
  timeoutMs?: number;
  /** Probe broken attachments too, and count their pairs (default: skip them). */
  strict?: boolean;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 3000;
/** Groups under way at once when the unanswered ones are probed again. */
const RETRY_WINDOW = 32;

/** The kernel's hard limit of neighbour entries, for all namespaces together (net.ipv4.neigh.default.gc_thresh3). */
function neighbourLimit(): number {
  try {
    const n = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/**
 * Pairs of guests probed at once: each makes two neighbour entries, the table is shared with
 * every other namespace of the host, and a deleted entry still counts until the kernel has
 * freed it (after an RCU grace period; measured: at most 1.6 × the live ones): at most a
 * quarter of the limit above the first 256 (the default 1024 → 192 pairs, 384 entries).
 */
export function pairsAtOnce(limit = neighbourLimit()): number {
  return Math.max(16, Math.floor((limit - 256) / 4));
}

function verdictOf(p: PlannedPair, reached: boolean): PairVerdict {
  if (reached && !p.expected) return p.crossSegment ? 'leak' : 'unexpected';
  if (!reached && p.expected) return 'missing';
  return 'ok';
}

export async function checkConnectivity(view: HostView, opts: CheckOptions = {}): Promise<CheckReport> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const snap = await view.snapshot({ hold: true });
  try {
    const whole = buildTopology(snap);
    const networks = new Map(
      snap.attachments.flatMap((a) =>
        a.record.network !== undefined ? [[a.record.id, a.record.network] as const] : [],
      ),
    );
    const selections = opts.selections ?? [];
    const picked = new Map<string, Participant>();
    for (const t of selections.length === 0 ? [whole] : selections.map((s) => selectScope(whole, scopeFor(s, whole))))
      for (const p of participants(t, networks)) picked.set(p.id, p);
    const ps = [...picked.values()].sort((x, y) => x.label.localeCompare(y.label, undefined, { numeric: true }));
    const pairs = planPairs(ps, { ...(opts.strict === true ? { strict: true } : {}) });

    // Sources: each participant that sends, from its guest's interface; its guest held by the snapshot.
    // Pairs expected to answer are grouped by pair of guests, both directions together (see
    // probe.ts), and started in an order that spreads the guests: every guest's first pair,
    // then every guest's second … (by distance in the list), never all of one guest's at once.
    const position = new Map(ps.map((p, i) => [p.id, i]));
    const unordered = [
      ...new Set(
        pairs.filter((p) => p.expected && p.skip === undefined).map((p) => [p.from.id, p.to.id].sort().join(' ')),
      ),
    ].map((k) => {
      const [a, b] = k.split(' ').map((id) => position.get(id) ?? 0) as [number, number];
      return { k, d: Math.abs(b - a), first: Math.min(a, b) };
    });
    unordered.sort((x, y) => x.d - y.d || x.first - y.first);
    const groups = new Map(unordered.map((u, i) => [u.k, i]));
    const groupOf = (p: PlannedPair): number | undefined =>
      p.expected ? groups.get([p.from.id, p.to.id].sort().join(' ')) : undefined;
    const sources = new Map<string, ProbeSource>();
    const unprobeable = new Map<number, string>();
    const made = new Map<number, MadeEntry[]>();
    pairs.forEach((p, key) => {
      if (p.skip !== undefined || p.target === undefined) return;
      const g = snap.guests.get(p.from.id);
      const iface = p.from.port.attachment?.interface;
      const mac = p.to.port.attachment?.interface?.mac;
      if (g?.netns === undefined || iface === undefined) {
        unprobeable.set(key, `cannot probe from ${p.from.label}: guest ${g?.state ?? 'unknown'}`);
        return;
      }
      if (mac === undefined) {
        unprobeable.set(key, `${p.to.label}: its interface could not be read`);
        return;
      }
      const group = groupOf(p);
      const s = sources.get(p.from.id) ?? {
        netns: g.netns,
        ifname: iface.name,
        ifindex: iface.index,
        addresses: p.from.prefixes,
        ...(iface.mac !== undefined ? { mac: iface.mac } : {}),
        targets: [],
      };
      s.targets.push({ key, address: p.target, mac, ...(group !== undefined ? { group } : {}) });
      sources.set(p.from.id, s);
      // What an answered probe makes: the destination's entry for the source, and the source's for the destination.
      const to = snap.guests.get(p.to.id)?.netns;
      const toIndex = p.to.port.attachment?.interface?.index;
      const source = p.from.prefixes.find((a) => a.family === p.target?.family);
      if (group !== undefined && to !== undefined && toIndex !== undefined && source !== undefined) {
        const list = made.get(group) ?? [];
        list.push(
          { netns: g.netns, index: iface.index, dst: p.target.address },
          { netns: to, index: toIndex, dst: source.address },
        );
        made.set(group, list);
      }
    });

    // Every guest a probe touches, for the neighbour trace: by namespace, with its probed interfaces.
    const traced = new Map<Netns, TracedGuest>();
    const addresses = new Set<string>();
    const macs = new Set<string>();
    for (const p of ps) {
      const g = snap.guests.get(p.id);
      const iface = p.port.attachment?.interface;
      if (g?.netns === undefined || iface === undefined) continue;
      const entry = traced.get(g.netns) ?? { netns: g.netns, ifindexes: [] };
      entry.ifindexes.push(iface.index);
      traced.set(g.netns, entry);
      for (const pr of p.prefixes) addresses.add(pr.address);
      if (iface.mac !== undefined) macs.add(iface.mac);
    }
    const trace = await NeighbourTrace.begin([...traced.values()]);
    const options = {
      timeoutMs,
      window: pairsAtOnce(),
      onGroupDone: async (group: number) => {
        await trace.drop(made.get(group) ?? []);
      },
    };
    let probed: Awaited<ReturnType<typeof probeAll>>;
    let neighboursRemoved: number;
    try {
      probed = await probeAll([...sources.values()], options);
      // "Missing" is a claim that something is broken: a probe expected to be answered that was
      // not is probed once more, on its own, before it is believed (a reply proves a leak at once).
      const missed = (t: ProbeTarget): boolean => t.group !== undefined && probed.outcomes.get(t.key)?.reached !== true;
      const again = [...sources.values()]
        .map((src) => ({ ...src, targets: src.targets.filter(missed) }))
        .filter((src) => src.targets.length > 0);
      if (again.length > 0) {
        const second = await probeAll(again, { ...options, window: Math.min(options.window, RETRY_WINDOW) });
        for (const [key, o] of second.outcomes) if (o.reached) probed.outcomes.set(key, o);
        probed.sent += second.sent;
      }
    } finally {
      neighboursRemoved = await trace.end(addresses, macs);
    }

    const results: PairResult[] = pairs.map((p, key) => {
      const base = {
        from: p.from.id,
        to: p.to.id,
        ...(p.target !== undefined ? { address: p.target.address } : {}),
        expected: p.expected,
      };
      if (p.skip !== undefined) return { ...base, verdict: 'skipped', reason: p.skip };
      const o = probed.outcomes.get(key);
      const reached = o?.reached === true;
      const reason = unprobeable.get(key) ?? o?.error;
      return {
        ...base,
        reached,
        ...(o?.rttMs !== undefined ? { rttMs: o.rttMs } : {}),
        verdict: verdictOf(p, reached),
        ...(reason !== undefined ? { reason } : {}),
      };
    });
    const count = (v: PairVerdict): number => results.filter((r) => r.verdict === v).length;
    const summary = {
      attachments: ps.length,
      pairs: results.length,
      probed: results.length - count('skipped'),
      ok: count('ok'),
      leaks: count('leak'),
      unexpected: count('unexpected'),
      missing: count('missing'),
      skipped: count('skipped'),
      probesSent: probed.sent,
    };
    const verdict: CheckVerdict =
      summary.leaks > 0 ? 'leak' : summary.missing + summary.unexpected > 0 ? 'missing' : 'match';
    return {
      schema: CHECK_SCHEMA,
      verdict,
      attachments: ps.map(({ port: _port, prefixes: _prefixes, segment: _segment, ...a }) => a),
      pairs: results,
      summary,
      timeoutMs,
      durationMs: Math.round(performance.now() - t0),
      neighboursRemoved,
    };
  } finally {
    releaseSnapshot(snap);
  }
}
