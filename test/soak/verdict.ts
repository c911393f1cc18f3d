/** What a soak run must show: nothing left, every error typed, fds back where they were. */
import type { SoakReport } from './soak.js';

/** Slack for fds that Node itself opens lazily during a run (worker pipes, inotify…). */
const FD_SLACK = 4;

export function soakVerdict(r: SoakReport): string[] {
  const problems: string[] = [];
  if (r.untyped.length > 0) problems.push(`untyped errors: ${r.untyped.slice(0, 5).join(' | ')}`);
  for (const [what, left] of Object.entries(r.leftovers))
    if (left.length > 0) problems.push(`${what} left: ${left.join(', ')}`);
  if (r.fds.after > r.fds.before + FD_SLACK) problems.push(`fds grew from ${r.fds.before} to ${r.fds.after}`);
  return problems;
}
