/**
 * `npm run bench -- persist`: declared attachments made again after `podman restart`, with
 * real podman (its Docker-compatible API service) and `netplumb serve` following its events.
 *
 *   declared   200 restarts (NETPLUMB_BENCH_PERSIST_RESTARTS), one at a time, round-robin
 *              over 10 containers attached with --persist: from the engine's start event
 *              (its own timestamp) to the interface up and announced in the new namespace
 *              (the daemon's reconcile done: attach returned after the gratuitous ARP), p50/p99;
 *              and how much of it is only waiting for the engine's event stream: the start
 *              event's timestamp vs when an observer of the same stream (this process) saw
 *              it, and vs when `podman restart` returned.
 *   by hand    the baseline: what a pipework user does, `podman restart X && netplumb attach …`
 *              (through the same daemon), 50 restarts: from the start event to the attach's return.
 *
 * PERSIST_BURST=CxN (e.g. 30x300): instead, the burst soak: N restarts of C containers, each
 * container restarted N/C times back to back, all at once; then every container must be
 * attached exactly once (ip -json in each namespace, one OVS port each); prints the time and
 * the daemon's warnings. Too long for CI, where the test runs 40 restarts of 8 containers.
 *
 * Benchmarks are not tests: no assertion on times; every restart's attachment is checked.
 */
import { loadavg as osLoadavg } from 'node:os';
import { openEventStream, type ContainerEvent } from '../src/guest/docker-events.js';
import { uniqueContainerName } from '../sandbox/podman.js';
import { PersistBed, eventually } from '../test/helpers/persist-bed.js';
import { attachedOnce, restartBurst } from '../test/helpers/persist-burst.js';
import { printTable, round, summary } from './lib/stats.js';

const CONTAINERS = 10;
const RESTARTS = Number(process.env.NETPLUMB_BENCH_PERSIST_RESTARTS ?? 200);
const BY_HAND = Number(process.env.NETPLUMB_BENCH_PERSIST_BY_HAND ?? 50);

/** Start events as this process sees them on the engine's stream: the engine's time and ours. */
class StartEvents {
  readonly #seen: (ContainerEvent & { seenAt: number })[] = [];

  push(e: ContainerEvent): void {
    if (e.engineAction === 'start') this.#seen.push({ ...e, seenAt: Date.now() });
  }

  /** The first start of `id` stamped after `after` (ms since the epoch), once seen. */
  next(id: string, after: number): Promise<ContainerEvent & { seenAt: number }> {
    return eventually(`start event of ${id.slice(0, 12)}`, async () =>
      this.#seen.find((e) => e.id === id && e.timeMs >= after),
    );
  }
}

/** The daemon's first reconcile of `id` that applied and finished after `after`. */
function appliedAfter(
  bed: PersistBed,
  id: string,
  after: number,
): Promise<{ doneAt: number; trigger?: string; triggerSeenAt?: number }> {
  return eventually(`reconcile of ${id.slice(0, 12)}`, async () => {
    const l = bed
      .log()
      .find(
        (x) =>
          x.msg === 'declared attachments applied' &&
          x.container === id &&
          typeof x.doneAt === 'number' &&
          x.doneAt >= after &&
          typeof x.applied === 'number' &&
          x.applied > 0,
      );
    if (l === undefined) return undefined;
    return {
      doneAt: l.doneAt as number,
      ...(typeof l.event === 'string' ? { trigger: l.event } : {}),
      ...(typeof l.seenAt === 'number' ? { triggerSeenAt: l.seenAt } : {}),
    };
  });
}

async function containers(bed: PersistBed, n: number, prefix: string, subnet: number, persist: boolean) {
  const out: { name: string; id: string; ip: string; mac: string }[] = [];
  for (let i = 0; i < n; i++) {
    const name = uniqueContainerName(`${prefix}${i}`);
    const c = await bed.podman.runContainer(name);
    const ip = `10.${subnet}.0.${i + 1}/16`;
    const r = JSON.parse(
      await bed.ok([
        'attach',
        '--bridge',
        'ovs0',
        '--container',
        name,
        '--ip',
        ip,
        '--vlan',
        '100',
        // Declared: the MAC derived for it; by hand: a stable one given, as a script would.
        ...(persist ? ['--persist'] : ['--mac', `U:${name}`]),
        '--json',
      ]),
    ) as { record: { mac: string } };
    out.push({ name, id: c.id, ip, mac: r.record.mac });
  }
  return out;
}

function loadavg(): string {
  return osLoadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function latency(bed: PersistBed): Promise<Record<string, unknown>> {
  const starts = new StartEvents();
  const stream = await openEventStream({ socketPath: bed.podman.socketPath, onEvent: (e) => starts.push(e) });
  try {
    const declared = await containers(bed, CONTAINERS, 'pb', 9, true);
    const total: number[] = [];
    const streamWait: number[] = [];
    const podmanReturn: number[] = [];
    const afterReturn: number[] = [];
    /** When the daemon saw the event whose reconcile made the interface, after the start event (< 0: before it). */
    const triggerSeen: number[] = [];
    const triggers: Record<string, number> = {};
    for (let i = 0; i < RESTARTS; i++) {
      const c = declared[i % declared.length] as (typeof declared)[number];
      const before = Date.now();
      await bed.podman.podman(['restart', '-t', '0', c.name]);
      const returned = Date.now();
      const start = await starts.next(c.id, before);
      const done = await appliedAfter(bed, c.id, start.timeMs);
      total.push(done.doneAt - start.timeMs);
      streamWait.push(start.seenAt - start.timeMs);
      podmanReturn.push(returned - start.timeMs);
      afterReturn.push(done.doneAt - returned);
      const trigger = done.trigger ?? 'reconcile';
      triggers[trigger] = (triggers[trigger] ?? 0) + 1;
      if (done.triggerSeenAt !== undefined) triggerSeen.push(done.triggerSeenAt - start.timeMs);
    }
    await attachedOnce(bed, new Map(declared.map((c) => [c.name, { ip: c.ip, mac: c.mac }])));

    // The baseline: restart, then attach again by hand (through the same daemon).
    const manual = await containers(bed, Math.min(CONTAINERS, BY_HAND), 'ph', 10, false);
    const byHand: number[] = [];
    for (let i = 0; i < BY_HAND; i++) {
      const c = manual[i % manual.length] as (typeof manual)[number];
      const before = Date.now();
      await bed.podman.podman(['restart', '-t', '0', c.name]);
      await bed.ok([
        'attach',
        '--bridge',
        'ovs0',
        '--container',
        c.name,
        '--ip',
        c.ip,
        '--mac',
        c.mac,
        '--vlan',
        '100',
      ]);
      const attached = Date.now();
      const start = await starts.next(c.id, before);
      byHand.push(attached - start.timeMs);
    }
    const t = summary(total);
    const w = summary(streamWait);
    const h = summary(byHand);
    printTable(
      ['measure (ms, from the engine start event)', 'p50', 'p99', 'max', 'n'],
      [
        ['declared: interface up in the new namespace', t.p50, t.p99, t.max, t.n],
        ['  the event stream delivering the start event', w.p50, w.p99, w.max, w.n],
        ['  the daemon saw the event it acted on', ...Object.values(summary(triggerSeen))],
        ['  podman restart returned', ...Object.values(summary(podmanReturn))],
        ['  interface up after podman restart returned', ...Object.values(summary(afterReturn))],
        ['by hand: podman restart && netplumb attach', h.p50, h.p99, h.max, h.n],
      ],
    );
    process.stdout.write(
      `targets: p50 <= 50 ms, p99 <= 250 ms; the start event's own stream delay is ${round((w.p50 / t.p50) * 100, 1)} % of the p50; reconciles that made the interface, by the event that began them: ${JSON.stringify(triggers)}; load: ${loadavg()}\n`,
    );
    return {
      restarts: RESTARTS,
      containers: CONTAINERS,
      declared: t,
      eventStreamWait: w,
      eventStreamShareOfP50: round(w.p50 / t.p50, 3),
      triggerSeenAfterStart: summary(triggerSeen),
      triggers,
      podmanReturnedAfterStart: summary(podmanReturn),
      upAfterPodmanReturned: summary(afterReturn),
      byHand: h,
      byHandOverDeclaredP50: round(h.p50 / t.p50, 2),
      targetsMet: t.p50 <= 50 && t.p99 <= 250,
      load: loadavg(),
    };
  } finally {
    stream.close();
  }
}

async function burst(spec: string, bed: PersistBed): Promise<Record<string, unknown>> {
  const m = /^(\d+)x(\d+)$/.exec(spec);
  if (m === null) throw new Error(`PERSIST_BURST=${spec}: expected CONTAINERSxRESTARTS, e.g. 30x300`);
  const [n, restarts] = [Number(m[1]), Number(m[2])];
  const declared = await containers(bed, n, 'pz', 11, true);
  const logBefore = bed.log().length;
  const t0 = Date.now();
  await restartBurst(
    bed,
    declared.map((c) => c.name),
    Math.ceil(restarts / n),
  );
  const restarted = Date.now();
  await attachedOnce(bed, new Map(declared.map((c) => [c.name, { ip: c.ip, mac: c.mac }])), 600_000);
  const settled = Date.now();
  const during = bed.log().slice(logBefore);
  const warnings = during.filter((l) => l.level === 40).length;
  const errors = during.filter((l) => l.level >= 50).length;
  printTable(
    ['burst', 'containers', 'restarts', 'restarts took (s)', 'settled after (s)', 'warnings', 'errors'],
    [[spec, n, n * Math.ceil(restarts / n), (restarted - t0) / 1000, (settled - restarted) / 1000, warnings, errors]],
  );
  return {
    burst: spec,
    containers: n,
    restarts: n * Math.ceil(restarts / n),
    restartsSeconds: (restarted - t0) / 1000,
    settledAfterSeconds: (settled - restarted) / 1000,
    everyContainerAttachedOnce: true,
    warnings,
    errors,
    load: loadavg(),
  };
}

async function main(): Promise<void> {
  const bed = await PersistBed.create();
  let result: Record<string, unknown>;
  try {
    await bed.startDaemon({ NETPLUMB_LOG: 'info' });
    const spec = process.env.PERSIST_BURST;
    result = spec !== undefined && spec !== '' ? await burst(spec, bed) : await latency(bed);
  } finally {
    await bed.destroy();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
