/**
 * The check as text: the connectivity matrix (up to MATRIX_MAX attachments; beyond, the
 * counts), then every difference from the expectation, leaks first, and the verdict.
 */
import type { CheckedAttachment, CheckReport, PairResult } from './model.js';
import { count } from '../topology/words.js';

/** Attachments drawn as a matrix; more are summarised. */
export const MATRIX_MAX = 24;

function where(a: CheckedAttachment): string {
  if (a.network !== undefined) return a.network;
  if (a.vlan !== undefined) return a.vlan === 0 ? 'untagged' : `@${a.vlan}`;
  if (a.trunks !== undefined) return `trunks ${a.trunks.join(',')}`;
  return '@?';
}

function cellMark(r: PairResult | undefined): string {
  if (r === undefined) return '·';
  if (r.verdict === 'skipped') return '-';
  const mark = r.reached === true ? '✓' : '✗';
  return r.verdict === 'ok' ? mark : `${mark}!!`;
}

/** What the segments of the attachments are, in words: `VLANs`, `OVN networks`, or both. */
function segments(rep: CheckReport): string {
  const networks = rep.attachments.some((a) => a.network !== undefined);
  const vlans = !networks || rep.attachments.some((a) => a.network === undefined);
  return networks ? (vlans ? 'VLANs and OVN networks' : 'OVN networks') : 'VLANs';
}

function matrix(rep: CheckReport): string[] {
  const as = rep.attachments;
  const labels = as.map((a) => `${a.guest} ${where(a)}`);
  const w = Math.max(10, ...labels.map((l) => l.length + 2));
  const byPair = new Map(rep.pairs.map((p) => [`${p.from} ${p.to}`, p]));
  const lines = [`  ${'from \\ to'.padEnd(w)}${labels.map((l) => l.padEnd(w)).join('')}`.trimEnd()];
  as.forEach((from, i) => {
    const row = as.map((to) => cellMark(from === to ? undefined : byPair.get(`${from.id} ${to.id}`)).padEnd(w));
    lines.push(`  ${(labels[i] ?? '').padEnd(w)}${row.join('')}`.trimEnd());
  });
  lines.push(
    '',
    `  ✓ reply   ✗ no reply   !! differs from what the ${segments(rep)} say   - not probed (broken attachment)`,
  );
  return lines;
}

const LABEL: Record<string, string> = {
  leak: 'LEAK      ',
  unexpected: 'UNEXPECTED',
  missing: 'MISSING   ',
};

export function checkText(rep: CheckReport): string {
  const byId = new Map(rep.attachments.map((a) => [a.id, a]));
  const name = (id: string): string => {
    const a = byId.get(id);
    return a === undefined ? id : `${a.label} (${a.bridge} ${where(a)})`;
  };
  const s = rep.summary;
  const out = [
    `netplumb check: ${count(s.attachments, 'attachment')}, ${s.probed} of ${s.pairs} pairs probed with ICMP echo from inside the guests in ${(rep.durationMs / 1000).toFixed(1)} s (wait for replies: ${rep.timeoutMs / 1000} s)`,
    '',
  ];
  if (s.attachments === 0) out.push('  no netplumb attachment to check');
  else if (s.attachments <= MATRIX_MAX) out.push(...matrix(rep));
  else
    out.push(
      `  ${s.ok} pairs as expected, ${s.leaks} leaks, ${s.unexpected} unexpected, ${s.missing} missing, ${s.skipped} skipped`,
    );
  const order = ['leak', 'unexpected', 'missing'];
  const diffs = rep.pairs
    .filter((p) => order.includes(p.verdict))
    .sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  if (diffs.length > 0) out.push('');
  for (const d of diffs) {
    const what =
      d.verdict === 'leak'
        ? `a reply came back across bridges or ${segments(rep)}: isolation is broken`
        : d.verdict === 'unexpected'
          ? 'a reply came back between different subnets'
          : `no reply${d.reason !== undefined ? ` (${d.reason})` : ''}, though the records put both in one ${byId.get(d.from)?.network !== undefined ? 'OVN network' : 'VLAN'} and subnet`;
    out.push(`  ${LABEL[d.verdict] ?? d.verdict} ${name(d.from)} → ${name(d.to)} ${d.address ?? ''}: ${what}`);
  }
  const involved = new Set(diffs.flatMap((d) => [d.from, d.to]));
  const causes = rep.attachments.filter((a) => involved.has(a.id) && a.drift !== undefined);
  if (causes.length > 0) out.push('', '  likely cause:');
  for (const a of causes)
    for (const d of a.drift ?? []) out.push(`    ${a.label}: ${d.code}: ${d.reason}`, `      fix: ${d.fix}`);
  const skippedWhy = [
    ...new Set(
      rep.pairs.filter((p) => p.verdict === 'skipped' && p.reason?.includes('see netplumb show')).map((p) => p.reason),
    ),
  ];
  if (skippedWhy.length > 0) out.push('', `  not probed: ${skippedWhy.join('; ')}`);
  out.push(
    '',
    rep.verdict === 'match'
      ? `  MATCH: ${s.ok}/${s.probed} pairs as the ${segments(rep)} say${s.skipped > 0 ? ` (${s.skipped} not probed)` : ''}`
      : rep.verdict === 'leak'
        ? `  LEAK: ${count(s.leaks, 'pair')} reach each other across ${segments(rep)} or bridges`
        : `  DIFFERENT: ${s.missing} missing, ${s.unexpected} unexpected`,
  );
  if (rep.neighboursRemoved > 0)
    out.push(`  (${rep.neighboursRemoved} neighbour entries the probes made were removed again)`);
  return `${out.join('\n')}\n`;
}
