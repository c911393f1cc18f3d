/**
 * Baseline (a): the `ip` + `ovs-vsctl` sequence pipework runs, one container after another
 * (bench/baseline/pipework-ovs.sh), and its detach (del-port, link del) per container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OvsInstance } from '../../sandbox/ovs.js';
import { round, timeIt } from '../lib/stats.js';
import { address, BASELINE_N, BRIDGE, guestName, ROOT, sh, VLAN } from './bed.js';

/** A process in each of the first `n` guests: pipework finds a container's namespace by such a pid. */
async function holders(n: number): Promise<ChildProcess[]> {
  const ps = Array.from({ length: n }, (_, i) =>
    spawn('ip', ['netns', 'exec', guestName(i), 'sleep', '600'], { stdio: 'ignore' }),
  );
  await new Promise((r) => setTimeout(r, 300));
  return ps;
}

export async function measurePipework(
  ovs: OvsInstance,
): Promise<{ containers: number; attachPerSec: number; detachPerSec: number }> {
  const script = join(ROOT, 'bench', 'baseline', 'pipework-ovs.sh');
  const sleepers = await holders(BASELINE_N);
  try {
    const attachMs = await timeIt(async () => {
      for (const [i, p] of sleepers.entries())
        sh([
          'ip',
          'netns',
          'exec',
          ovs.netns,
          'sh',
          script,
          BRIDGE,
          String(p.pid),
          address({ guest: i, ifname: 'eth1' }),
          String(VLAN),
          ovs.remote,
        ]);
    });
    const hostVeths = (
      JSON.parse(sh(['ip', '-json', '-n', ovs.netns, 'link', 'show', 'type', 'veth'])) as { ifname: string }[]
    ).map((l) => l.ifname);
    const detachMs = await timeIt(async () => {
      for (const name of hostVeths) {
        sh(['ovs-vsctl', `--db=${ovs.remote}`, 'del-port', BRIDGE, name]);
        sh(['ip', '-n', ovs.netns, 'link', 'del', name]);
      }
    });
    return {
      containers: BASELINE_N,
      attachPerSec: round((BASELINE_N * 1000) / attachMs, 2),
      detachPerSec: round((BASELINE_N * 1000) / detachMs, 2),
    };
  } finally {
    for (const p of sleepers) p.kill('SIGKILL');
    // pipework's own netns links (/var/run/netns/<NSPID>), should a failed run have left any.
    for (const p of sleepers) if (p.pid !== undefined) rmSync(`/var/run/netns/${p.pid}`, { force: true });
  }
}
