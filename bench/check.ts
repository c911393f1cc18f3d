/**
 * `netplumb check` on many attachments: N guests (namespaces; NETPLUMB_CHECK_N, default 100)
 * on one OVS bridge (userspace datapath) in two VLANs, every ordered pair probed from
 * inside the guests, ROUNDS times (NETPLUMB_CHECK_ROUNDS, default 3). Reported per round:
 * the wall time (reading the host, probing, cleaning up), pairs, echoes sent, the verdict;
 * and that nothing was left: every guest's neighbour table as `ip -json neigh` shows it,
 * and this process's fds, the same before and after. The target: under 10 s for 100.
 *
 *   npm run bench -- check
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkConnectivity } from '../src/check/run.js';
import { HostView } from '../src/topology/read.js';
import { must } from '../sandbox/exec.js';
import { NetnsGuests } from '../sandbox/netns-guests.js';
import { startOvs } from '../sandbox/ovs.js';

const N = Number(process.env.NETPLUMB_CHECK_N ?? 100);
const ROUNDS = Number(process.env.NETPLUMB_CHECK_ROUNDS ?? 3);
const VLANS = [100, 200];
const TARGET_S = 10;

function progress(what: string): void {
  process.stderr.write(`check: ${what}\n`);
}

/** Every guest's neighbour entries (ip -json -n G neigh show), as `guest dev dst`. */
async function neighbourTables(names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names)
    for (const e of JSON.parse(await must(['ip', '-json', '-n', n, 'neigh', 'show'])) as { dst: string; dev: string }[])
      out.push(`${n} ${e.dev} ${e.dst}`);
  return out.sort();
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run it as root (it creates namespaces and an Open vSwitch)');
  const t0 = performance.now();
  const ovs = await startOvs({ withVswitchd: true });
  let guests: NetnsGuests | undefined;
  try {
    guests = await NetnsGuests.create('ck', N, VLANS);
    progress(`${N} namespaces made; attaching`);
    await guests.attach(ovs);
    progress(`attached in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const names = guests.guests.map((g) => g.name);
    const rounds: {
      seconds: number;
      pairs: number;
      probed: number;
      probesSent: number;
      verdict: string;
      neighboursRemoved: number;
    }[] = [];
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const neighBefore = await neighbourTables(names);
    for (let r = 0; r < ROUNDS; r++) {
      const view = HostView.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns } });
      try {
        const t = performance.now();
        const rep = await checkConnectivity(view);
        const seconds = (performance.now() - t) / 1000;
        rounds.push({
          seconds: Math.round(seconds * 100) / 100,
          pairs: rep.summary.pairs,
          probed: rep.summary.probed,
          probesSent: rep.summary.probesSent,
          verdict: rep.verdict,
          neighboursRemoved: rep.neighboursRemoved,
        });
        progress(`round ${r + 1}: ${seconds.toFixed(2)} s, ${rep.summary.probed} pairs, ${rep.verdict}`);
      } finally {
        await view.close();
      }
    }
    const neighAfter = await neighbourTables(names);
    const fdsAfter = readdirSync('/proc/self/fd').length;
    const left = neighAfter.filter((e) => !neighBefore.includes(e));
    const sorted = rounds.map((x) => x.seconds).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const lines = [
      `netplumb check, ${N} attachments (namespaces) on one OVS bridge (netdev), VLANs ${VLANS.join(', ')}:`,
      '',
      '  round  seconds  pairs  probed  echoes sent  verdict  neighbours removed',
      ...rounds.map(
        (x, i) =>
          `  ${String(i + 1).padStart(5)}  ${x.seconds.toFixed(2).padStart(7)}  ${String(x.pairs).padStart(5)}  ${String(x.probed).padStart(6)}  ${String(x.probesSent).padStart(11)}  ${x.verdict.padEnd(7)}  ${String(x.neighboursRemoved).padStart(18)}`,
      ),
      '',
      `  median ${median.toFixed(2)} s (target < ${TARGET_S} s: ${median < TARGET_S ? 'met' : 'NOT met'}); neighbour entries left in the guests: ${left.length}; fds ${fdsBefore} → ${fdsAfter}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(
      `${JSON.stringify({ attachments: N, rounds, medianSeconds: median, targetSeconds: TARGET_S, neighboursLeft: left.length, fdsBefore, fdsAfter })}\n`,
    );
  } finally {
    await guests?.destroy();
    await ovs.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`check bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
