/**
 * `npm run bench -- churn`: attach/detach throughput and latency under churn of N containers
 * (attach all, detach all, ROUNDS rounds), side by side in one run:
 *
 *   ours        the library direct (a Plumber in this process); the library through the
 *               daemon (a DaemonClient to `netplumb serve` on the emulated host); the CLI
 *               through the daemon (`netplumb attach|detach --json` as cold processes).
 *               The library and the daemon client have every request in flight at once (the
 *               engine coalesces concurrent attaches into batches; the daemon takes at most
 *               DEFAULT_MAX_CONCURRENT at once and answers "busy" beyond, so that is its
 *               bound); one more library row at concurrency 64; the CLI at concurrency 16.
 *   (a)         the `ip` + `ovs-vsctl` sequence pipework runs, per container (bench/baseline/).
 *   (b) floor   one `ip -batch` creating every veth with its peer in its namespace + one
 *               `ovs-vsctl` transaction adding every port, then the reverse; both orders.
 *               The guest ends stay down without an address: a floor below the real work.
 *   floor live  the same, but each guest end also gets its address and is brought up (the
 *               done-criterion of ours). iproute2 reaches a link in another namespace only
 *               from a process inside it, so that part is one `ip -batch` per guest, started
 *               from the same batch (`netns exec`).
 *
 * An attach counts as done when the guest's interface is up with its address and the OVS
 * port has an ofport: every attach of ours must report its ofport, and after each "attach
 * all" (outside the timing) the bridge must hold one port per attachment and a sample of
 * guests must show the interface up with its address. The floors wait for every ofport.
 * Each of our engines does one small untimed churn first (connections, caches, compilation).
 *
 * Also: attach latency p50/p99/max at concurrency 1, 16, 64 and with 10 vs 2000 ports on the
 * bridge (library direct); event-loop lag during the library churn; child processes started
 * by our hot path (in this process: every spawn counted; the daemon: its children sampled
 * from /proc); the daemon's resident memory with N attachments (after its churns) and, in a
 * fresh daemon, with 2000 (two interfaces, eth1 and eth2, in each of 1000 guests), also after
 * a pause with no request (the daemon trims its memory when idle). Also where the library's
 * event-loop lag comes from: its GC pauses, and the time its main thread was runnable but
 * not running (another thread had the CPU; /proc schedstat).
 *
 * Guests are like Docker's IPv4-only containers: each namespace has IPv6 disabled
 * (`net.ipv6.conf.{all,default}.disable_ipv6=1`), for every method alike. With IPv6 on,
 * every new interface's autoconfiguration multicasts (DAD, RS, MLD) are flooded by the
 * userspace datapath to every port of the VLAN, which would dominate the run.
 *
 * Writes bench/results/churn-<date>.json and .svg; prints tables and, last, one JSON line
 * with every figure and the target checks. Everything happens inside namespaces the
 * benchmark creates (an emulated host running a private Open vSwitch, one namespace per
 * container); nothing is routed in the namespace it runs in. Guests, the daemon and OVS are
 * removed at the end, also on failure.
 *
 * The parts, in bench/churn/: bed (sizes, guests, commands), measure (the churn loop and the
 * done-criterion), ours-library, ours-daemon (the daemon's client and the CLI through it),
 * floors, pipework (baseline a), report (tables, the JSON figures, the SVG chart).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOvs } from '../sandbox/ovs.js';
import { BASELINE_N, BRIDGE, CLI_N, createGuests, deleteGuests, N, RSS_GUESTS, step } from './churn/bed.js';
import { measureFloor } from './churn/floors.js';
import { measureDaemon } from './churn/ours-daemon.js';
import { measureLibrary } from './churn/ours-library.js';
import { measurePipework } from './churn/pipework.js';
import { report } from './churn/report.js';

async function main(): Promise<void> {
  const ovs = await startOvs({ withVswitchd: true });
  const dir = mkdtempSync(join(tmpdir(), 'np-churn-'));
  const guests = Math.max(N, CLI_N, RSS_GUESTS, BASELINE_N);
  let figures: Record<string, unknown>;
  try {
    await ovs.addBridge(BRIDGE);
    step(`creating ${guests} guests`);
    createGuests(guests);
    const lib = await measureLibrary(ovs);
    const daemon = await measureDaemon(ovs, dir);
    step('floor');
    const floor = await measureFloor(ovs, dir, false);
    step('floor (live)');
    const floorLive = await measureFloor(ovs, dir, true);
    step('pipework sequence');
    const pipework = await measurePipework(ovs);
    step('done');
    figures = report({ lib, daemon, floor, floorLive, pipework });
  } finally {
    deleteGuests(guests);
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench churn failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
