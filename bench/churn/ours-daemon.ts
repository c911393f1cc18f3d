/**
 * Ours through `netplumb serve` on the emulated host: the library's API through a
 * DaemonClient, and the CLI (`netplumb attach|detach --json`, cold processes) through the
 * daemon; the daemon's child processes and resident memory, and a fresh daemon holding
 * 2 × RSS_GUESTS attachments (also after its idle trim).
 */
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { DEFAULT_MAX_CONCURRENT } from '../../src/daemon/server.js';
import type { OvsInstance } from '../../sandbox/ovs.js';
import { procStatusMb, startDaemon, stopDaemon, watchChildren, type DaemonProcess } from '../lib/daemon.js';
import { round } from '../lib/stats.js';
import {
  address,
  BRIDGE,
  CLI_CONCURRENCY,
  CLI_N,
  guestName,
  N,
  NETPLUMB,
  ROUNDS,
  RSS_GUESTS,
  run,
  slots,
  step,
  twoEach,
  VLAN,
  type Slot,
} from './bed.js';
import { apiEngine, churn, warmUp, type ChurnEngine, type Rates } from './measure.js';

/** `netplumb attach|detach --json` as a cold process on the emulated host; `env` points it at the daemon. */
function cliEngine(ovs: OvsInstance, env: NodeJS.ProcessEnv): ChurnEngine {
  const netplumb = async (args: string[]) =>
    JSON.parse((await run(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, ...args, '--json'], env)).stdout) as {
      ofport?: number;
    };
  const target = (s: Slot) => ['--container', `netns:${guestName(s.guest)}`, '--ifname', s.ifname];
  return {
    attach: (s) => netplumb(['attach', '--bridge', BRIDGE, ...target(s), '--ip', address(s), '--vlan', String(VLAN)]),
    detach: (s) => netplumb(['detach', ...target(s)]),
  };
}

export interface DaemonFigures {
  daemonClient: Rates;
  cli: Rates;
  childProcesses: number;
  rssMbAtN: number;
  at2000: {
    attachments: number;
    guests: number;
    vmRssMb: number;
    vmHwmMb: number;
    idleVmRssMb: number;
    attachPerSec: number;
    detachPerSec: number;
  };
}

/** One CLI attach with debug logging, outside the timing: it must say it went through the daemon. */
async function checkCliUsesDaemon(ovs: OvsInstance, env: NodeJS.ProcessEnv): Promise<void> {
  const s: Slot = { guest: 0, ifname: 'eth1' };
  const { stderr } = await run(
    [
      'ip',
      'netns',
      'exec',
      ovs.netns,
      NETPLUMB,
      'attach',
      '--bridge',
      BRIDGE,
      '--container',
      `netns:${guestName(0)}`,
      '--ip',
      address(s),
      '--vlan',
      String(VLAN),
    ],
    { ...env, NETPLUMB_LOG: 'debug' },
  );
  await run(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, 'detach', '--container', `netns:${guestName(0)}`], env);
  if (!stderr.includes('"via":"daemon"')) throw new Error(`netplumb attach did not use the daemon: ${stderr}`);
}

/** A running `netplumb serve`: its socket, its pid (from its identity), the environment that points the CLI at it. */
interface ServeContext {
  socket: string;
  pid: number;
  env: NodeJS.ProcessEnv;
}

/**
 * `netplumb serve` on the emulated host for the length of `fn`; stopped also when `fn`
 * fails, and then what it wrote to stderr is part of the error.
 */
async function withDaemon<T>(ovs: OvsInstance, dir: string, fn: (d: ServeContext) => Promise<T>): Promise<T> {
  const socket = join(dir, 'netplumb.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: ovs.dir };
  delete env.NETPLUMB_LOG;
  let daemon: DaemonProcess | undefined;
  try {
    daemon = await startDaemon(['ip', 'netns', 'exec', ovs.netns, NETPLUMB, 'serve', '--socket', socket], env, socket);
    const pid = await withClient(socket, async (c) => (await c.version()).pid);
    if (!readlinkSync(`/proc/${pid}/exe`).includes('node')) throw new Error(`daemon pid ${pid} is not a node process`);
    return await fn({ socket, pid, env: { ...env, NETPLUMB_SOCKET: socket } });
  } catch (e) {
    const c = daemon?.child;
    throw c && (c.exitCode !== null || c.signalCode !== null)
      ? new Error(`netplumb serve ended (${c.exitCode ?? c.signalCode}): ${daemon?.stderr()}`, { cause: e })
      : e;
  } finally {
    await stopDaemon(daemon);
  }
}

/** A DaemonClient for the length of `fn` (the daemon closes connections that stay silent, so one a phase). */
async function withClient<T>(socket: string, fn: (c: DaemonClient) => Promise<T>): Promise<T> {
  const client = await DaemonClient.connect(socket);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function measureDaemon(ovs: OvsInstance, dir: string): Promise<DaemonFigures> {
  const churns = await withDaemon(ovs, dir, async (d) => {
    await checkCliUsesDaemon(ovs, d.env);
    const children = watchChildren(d.pid);
    try {
      const figures = await daemonChurns(ovs, d);
      return { ...figures, childProcesses: children.stop().length };
    } finally {
      children.stop();
    }
  });
  step(`daemon memory with ${2 * RSS_GUESTS} attachments (a fresh daemon)`);
  return { ...churns, at2000: await withDaemon(ovs, dir, (d) => daemonMemory(ovs, d)) };
}

/** The daemon's churns: through a client and through the CLI. */
async function daemonChurns(
  ovs: OvsInstance,
  d: ServeContext,
): Promise<Omit<DaemonFigures, 'childProcesses' | 'at2000'>> {
  let rssMbAtN = NaN;
  step('library through the daemon');
  const daemonClient = await withClient(d.socket, async (c) => {
    await warmUp(apiEngine(c), ovs);
    return churn(apiEngine(c), ovs, {
      slots: slots(N),
      concurrency: Math.min(N, DEFAULT_MAX_CONCURRENT),
      rounds: ROUNDS,
      atPeak: () => {
        rssMbAtN = procStatusMb(d.pid, 'VmRSS');
      },
    });
  });
  step('CLI through the daemon');
  const cli = await churn(cliEngine(ovs, d.env), ovs, {
    slots: slots(CLI_N),
    concurrency: CLI_CONCURRENCY,
    rounds: ROUNDS,
  });
  return { daemonClient, cli, rssMbAtN: round(rssMbAtN, 1) };
}

/** How long the bench holds the attachments with no request, so that the daemon's idle trim (memory.ts) has run. */
export const IDLE_PAUSE_MS = 3000;

/**
 * A daemon that did nothing else holds 2 × RSS_GUESTS attachments: its resident memory once
 * they are all attached (and its peak), then again after a pause with no request.
 */
async function daemonMemory(ovs: OvsInstance, d: ServeContext): Promise<DaemonFigures['at2000']> {
  const mem = { vmRssMb: NaN, vmHwmMb: NaN, idleVmRssMb: NaN };
  const many = twoEach(RSS_GUESTS);
  const held = await withClient(d.socket, (c) =>
    churn(apiEngine(c), ovs, {
      // Memory is the figure here: at concurrency 64, so that no one batch of ports keeps ovs-vswitchd
      // reconfiguring past the engine's apply timeout on a loaded machine (seen at 256 with 2000 veths).
      slots: many,
      concurrency: 64,
      rounds: 1,
      atPeak: async () => {
        Object.assign(mem, {
          vmRssMb: round(procStatusMb(d.pid, 'VmRSS'), 1),
          vmHwmMb: round(procStatusMb(d.pid, 'VmHWM'), 1),
        });
        await new Promise((r) => setTimeout(r, IDLE_PAUSE_MS));
        mem.idleVmRssMb = round(procStatusMb(d.pid, 'VmRSS'), 1);
      },
    }),
  );
  return {
    attachments: many.length,
    guests: RSS_GUESTS,
    ...mem,
    attachPerSec: held.attachPerSec,
    detachPerSec: held.detachPerSec,
  };
}
