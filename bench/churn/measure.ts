/**
 * The churn itself, for every method alike: attach every slot, check, detach every slot,
 * check, `rounds` times, each phase timed with ovs-vswitchd's CPU time beside it; and the
 * done-criterion an attach of ours must meet (ofport reported, guest up with its address).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetachRequest } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import type { OvsInstance } from '../../sandbox/ovs.js';
import { nowMs, percentile, round, summary } from '../lib/stats.js';
import { address, BRIDGE, detachRequest, guestName, N, run, slots, spec, type Slot, type Summary } from './bed.js';

/** What the churn drives: the library direct, through the daemon, or the CLI. */
export interface ChurnEngine {
  attach(s: Slot): Promise<{ ofport?: number }>;
  detach(s: Slot): Promise<unknown>;
}

/** Throughput of one method: per second from the median round, and every round's time. */
export interface Rates {
  containers: number;
  concurrency: number;
  attachPerSec: number;
  detachPerSec: number;
  attachMs: number[];
  detachMs: number[];
  /** CPU time ovs-vswitchd used per attach and per detach (median round), ms: its share of the work. */
  vswitchdCpuMsPerAttach: number;
  vswitchdCpuMsPerDetach: number;
}

/** One timed phase: its wall time and the CPU time ovs-vswitchd used meanwhile, ms. */
export interface Phase {
  ms: number;
  vswitchdCpuMs: number;
}

/** Run `fn(i)` for i in [0, n) with at most `c` in flight; per-call latencies in ms. */
async function pool(n: number, c: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const lat: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = nowMs();
        await fn(i);
        lat[i] = nowMs() - t0;
      }
    }),
  );
  return lat;
}

/** Rates from timed rounds of `n` attaches and `n` detaches. */
export function rates(n: number, concurrency: number, attach: Phase[], detach: Phase[]): Rates {
  const ms = (ps: Phase[]) => ps.map((p) => round(p.ms, 1));
  const perSec = (ps: Phase[]) =>
    round(
      (n * 1000) /
        percentile(
          ps.map((p) => p.ms),
          50,
        ),
      1,
    );
  const cpuPerOp = (ps: Phase[]) =>
    round(
      percentile(
        ps.map((p) => p.vswitchdCpuMs),
        50,
      ) / n,
      2,
    );
  return {
    containers: n,
    concurrency,
    attachPerSec: perSec(attach),
    detachPerSec: perSec(detach),
    attachMs: ms(attach),
    detachMs: ms(detach),
    vswitchdCpuMsPerAttach: cpuPerOp(attach),
    vswitchdCpuMsPerDetach: cpuPerOp(detach),
  };
}

/** CPU time (user + system) ovs-vswitchd has used so far, ms: /proc/PID/stat, in clock ticks of 10 ms. */
function vswitchdCpuMs(ovs: OvsInstance): number {
  const pid = readFileSync(join(ovs.dir, 'vswitchd.pid'), 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Time `fn`, and count ovs-vswitchd's CPU meanwhile. */
export async function phase(ovs: OvsInstance, fn: () => Promise<unknown> | undefined): Promise<Phase> {
  const cpu0 = vswitchdCpuMs(ovs);
  const t0 = nowMs();
  await fn();
  return { ms: nowMs() - t0, vswitchdCpuMs: vswitchdCpuMs(ovs) - cpu0 };
}

/** An attach of ours is done only with the port's ofport (the guest side is checked by checkAttached). */
export async function attachDone(engine: ChurnEngine, s: Slot): Promise<void> {
  const r = await engine.attach(s);
  if (!(typeof r.ofport === 'number' && r.ofport > 0))
    throw new Error(`attach of ${s.ifname} in ${guestName(s.guest)} returned without an ofport: ${JSON.stringify(r)}`);
}

/** The guest's interface is up with its address (asynchronous: the library's event loop is being watched). */
async function checkGuest(s: Slot): Promise<void> {
  const { stdout } = await run(['ip', '-json', '-n', guestName(s.guest), 'addr', 'show', 'dev', s.ifname], process.env);
  const links = JSON.parse(stdout) as {
    flags: string[];
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  const l = links[0];
  if (
    !l?.flags.includes('UP') ||
    !l.addr_info.some((a) => a.family === 'inet' && `${a.local}/${a.prefixlen}` === address(s))
  ) {
    throw new Error(`${s.ifname} in ${guestName(s.guest)} is not up with ${address(s)}: ${stdout}`);
  }
}

/** Up to 16 slots spread evenly over `all`: their guests are checked. */
export async function checkGuests(all: Slot[]): Promise<void> {
  const k = Math.min(16, all.length);
  for (let j = 0; j < k; j++) await checkGuest(all[Math.floor((j * all.length) / k)] as Slot);
}

async function portCount(ovs: OvsInstance): Promise<number> {
  // Asynchronous, so the check does not stall the event loop whose lag is being measured.
  return (await ovs.vsctl(['list-ports', BRIDGE])).split('\n').filter(Boolean).length;
}

/** After "attach all", outside the timing: one port per attachment, sampled guests up with their address. */
async function checkAttached(ovs: OvsInstance, all: Slot[]): Promise<void> {
  const ports = await portCount(ovs);
  if (ports !== all.length) throw new Error(`expected ${all.length} ports after attach, found ${ports}`);
  await checkGuests(all);
}

interface ChurnOptions {
  slots: Slot[];
  concurrency: number;
  rounds: number;
  /** Wraps each timed phase (the library's is watched for child processes). */
  watch?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Called in the last round with every attachment in place (memory is read there). */
  atPeak?: () => void | Promise<void>;
}

/** Attach every slot, check, detach every slot, check; `rounds` times. */
export async function churn(engine: ChurnEngine, ovs: OvsInstance, o: ChurnOptions): Promise<Rates> {
  const watch = o.watch ?? (<T>(fn: () => Promise<T>) => fn());
  const n = o.slots.length;
  const attach: Phase[] = [];
  const detach: Phase[] = [];
  for (let r = 0; r < o.rounds; r++) {
    attach.push(
      await phase(ovs, () => watch(() => pool(n, o.concurrency, (k) => attachDone(engine, o.slots[k] as Slot)))),
    );
    await checkAttached(ovs, o.slots);
    if (r === o.rounds - 1) await o.atPeak?.();
    detach.push(await phase(ovs, () => watch(() => pool(n, o.concurrency, (k) => engine.detach(o.slots[k] as Slot)))));
    if ((await portCount(ovs)) !== 0) throw new Error('ports left after detach');
  }
  return rates(n, o.concurrency, attach, detach);
}

/** One small untimed churn first, so that no method's figures include its start (connections, caches, compilation). */
export async function warmUp(engine: ChurnEngine, ovs: OvsInstance): Promise<void> {
  await churn(engine, ovs, { slots: slots(Math.min(N, 16)), concurrency: 16, rounds: 1 });
}

/** The library direct, or through the daemon: both take an AttachSpec and a DetachRequest. */
export function apiEngine(api: {
  attach(spec: AttachSpec): Promise<{ ofport?: number }>;
  detach(req: DetachRequest): Promise<unknown>;
}): ChurnEngine {
  return { attach: (s) => api.attach(spec(s)), detach: (s) => api.detach(detachRequest(s)) };
}

/** Latency of `timed(i)` for i in [0, n), `c` at once, each undone (`undo(i)`, untimed) before its worker's next call. */
export async function steadyLatency(
  n: number,
  c: number,
  timed: (i: number) => Promise<unknown>,
  undo: (i: number) => Promise<unknown>,
): Promise<Summary> {
  const lat: number[] = [];
  await pool(n, c, async (i) => {
    const t0 = nowMs();
    await timed(i);
    lat.push(nowMs() - t0);
    await undo(i);
  });
  return summary(lat);
}
