/**
 * Ours, the library direct (a Plumber in this process): the churn at full and at 64
 * concurrency (child processes counted, event-loop lag watched), attach latency at
 * concurrency 1, 16, 64, and with 10 vs 2000 ports on the bridge beside ovs-vswitchd's
 * apply floor.
 */
import { Vswitch } from '../../src/ovsdb/index.js';
import { Plumber } from '../../src/plumb/plumber.js';
import type { OvsInstance } from '../../sandbox/ovs.js';
import { watchLoop, type LoopFigures } from '../lib/loop-watch.js';
import { countSpawns, round } from '../lib/stats.js';
import { CONCURRENCY, LATENCY_N, N, perPort, ROUNDS, slots, step, vsctl, type Slot, type Summary } from './bed.js';
import { ovsApplyFloor } from './floors.js';
import { apiEngine, attachDone, churn, steadyLatency, warmUp, type ChurnEngine, type Rates } from './measure.js';

export interface LibraryFigures {
  library: Rates;
  libraryC64: Rates;
  childProcesses: number;
  eventLoopLag: LoopFigures;
  rssMbAtN: number;
  attachLatencyMs: Record<string, Summary>;
  portsScaling: { ports10: Summary; ports2000: Summary; p99Ratio: number };
  ovsApplyFloorMs: { ports10: Summary; ports2000: Summary; note: string };
}

/**
 * Attach latency of `n` guests at concurrency `c`, in a steady state: each worker detaches
 * what it attached (untimed) before its next attach, so the bridge holds at most `c` of ours
 * besides what was there. (Attaching all `n` first would time a bridge growing by `n` ports,
 * and ovs-vswitchd's apply cost grows with the ports on the bridge: see the 2000-port figures.)
 */
async function attachLatency(engine: ChurnEngine, n: number, c: number): Promise<Summary> {
  const all = slots(n);
  return steadyLatency(
    n,
    c,
    (k) => attachDone(engine, all[k] as Slot),
    (k) => engine.detach(all[k] as Slot),
  );
}

/** Attach latency (and the OVS apply floor) with `k` other ports on the bridge. */
async function withPorts(
  ovs: OvsInstance,
  vs: Vswitch,
  engine: ChurnEngine,
  k: number,
): Promise<{ ours: Summary; floor: Summary }> {
  const fill = Array.from({ length: k }, (_, i) => `fill${i}`);
  vsctl(
    ovs,
    perPort(fill, 'add-port', (n) => ['--', 'set', 'interface', n, 'type=internal']),
  );
  try {
    const floor = await ovsApplyFloor(ovs, vs);
    return { ours: await attachLatency(engine, Math.min(N, LATENCY_N), 1), floor };
  } finally {
    vsctl(ovs, perPort(fill, 'del-port'));
  }
}

export async function measureLibrary(ovs: OvsInstance): Promise<LibraryFigures> {
  const plumber = Plumber.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns } });
  const engine = apiEngine(plumber);
  try {
    let spawns = 0;
    const watch = async <T>(fn: () => Promise<T>): Promise<T> => {
      const r = await countSpawns(fn);
      spawns += r.spawns;
      return r.result;
    };
    let rssMbAtN = NaN;
    await warmUp(engine, ovs);
    step('library direct');
    const loop = watchLoop();
    const library = await churn(engine, ovs, {
      slots: slots(N),
      concurrency: N,
      rounds: ROUNDS,
      watch,
      atPeak: () => {
        rssMbAtN = process.memoryUsage().rss / 2 ** 20;
      },
    });
    const libraryC64 = await churn(engine, ovs, { slots: slots(N), concurrency: 64, rounds: ROUNDS, watch });
    const eventLoopLag = loop.stop();

    step('attach latency');
    const attachLatencyMs: Record<string, Summary> = {};
    for (const c of CONCURRENCY)
      attachLatencyMs[`c${c}`] = await attachLatency(engine, Math.min(N, c === 1 ? LATENCY_N : c * 10), c);

    step('10 vs 2000 ports');
    const vs = await Vswitch.connect({ remote: ovs.remote });
    try {
      const p10 = await withPorts(ovs, vs, engine, 10);
      const p2000 = await withPorts(ovs, vs, engine, 2000);
      return {
        library,
        libraryC64,
        childProcesses: spawns,
        eventLoopLag,
        rssMbAtN: round(rssMbAtN, 1),
        attachLatencyMs,
        portsScaling: { ports10: p10.ours, ports2000: p2000.ours, p99Ratio: round(p2000.ours.p99 / p10.ours.p99, 2) },
        ovsApplyFloorMs: {
          ports10: p10.floor,
          ports2000: p2000.floor,
          note: 'one add-port transaction of a ready veth + wait for ofport, sequential: the part of every attach that ovs-vswitchd owns',
        },
      };
    } finally {
      await vs.close();
    }
  } finally {
    await plumber.close();
  }
}
