/**
 * What a demo scenario is: emulated hosts, four guests con1..con4 spread over them, each
 * on a segment (a VLAN, or an OVN network), the netplumb commands that prepare the hosts,
 * and which pair's throughput is measured. ./main.ts runs any of them the same way:
 * hosts, guests, attaches, the connectivity matrix (./matrix.ts: same segment reaches,
 * others do not), iperf3, detach, cleanup.
 */
import type { Plumber } from '../src/plumb/plumber.js';
import type { AttachSpec, GuestRef } from '../src/plumb/spec.js';
import { HostView } from '../src/topology/read.js';
import type { RunResult } from '../sandbox/exec.js';

export type ScenarioName = 'seed' | 'trunk' | 'ovn';

export interface ScenarioGuest {
  name: string;
  /** The guest's address, without prefix (the prefix is /24). */
  ip: string;
  /** Its segment as printed: `@100` (a VLAN), `vlan100` (an OVN network). */
  segment: string;
  /** Index of its host in the bed's hosts. */
  host: number;
}

/** One emulated host of a bed, as the engine reaches it. */
export interface BedHost {
  name: string;
  /** OVSDB remote and namespace of the host's own Open vSwitch. */
  ovsDb: string;
  netns: string;
  /** The host's OVN northbound database (OVN beds). */
  ovnNb?: string;
}

/** What a scenario's setup made: its hosts, and what the report and the cleanup need of it. */
export interface Bed {
  hosts: BedHost[];
  /** Every directory, namespace and daemon of it (the report lists them; the e2e test checks they are gone). */
  dirs(): string[];
  netns(): string[];
  pids(): number[];
  /** Objects of ours left after every guest was detached (OVS ports, OVN logical ports). */
  leftovers(): Promise<number>;
  stop(): Promise<void>;
}

/** A guest as the demo reaches it from the host: for the engine, for ping, for iperf3. */
export interface DemoGuest {
  name: string;
  ref: GuestRef;
  /** Run ARGV inside the guest (ping). */
  exec(argv: string[], timeoutMs: number, signal: AbortSignal): Promise<RunResult>;
  /** argv prefix that runs a host binary in the guest's network namespace (iperf3). */
  netnsPrefix(): string[];
}

/**
 * FN with a view of one emulated host as `netplumb show` and `netplumb check` read it
 * there (its OVSDB, its namespace, its OVN northbound database, the guests' container
 * engine), closed afterwards. Equivalent to: ip netns exec HOST netplumb show|check
 */
export async function withHostView<T>(
  host: BedHost,
  dockerHost: string | undefined,
  fn: (view: HostView) => Promise<T>,
): Promise<T> {
  const view = HostView.open({
    ovsDb: host.ovsDb,
    hostNetns: { name: host.netns },
    ...(host.ovnNb !== undefined ? { ovnNb: host.ovnNb } : {}),
    ...(dockerHost !== undefined ? { dockerHost } : {}),
  });
  try {
    return await fn(view);
  } finally {
    await view.close();
  }
}

/** Progress output of the demo: a line, or a timed step. */
export interface DemoOutput {
  line(text?: string): void;
  step<T>(label: string, fn: () => Promise<T>, done?: (v: T) => string): Promise<T>;
}

export interface Scenario {
  name: ScenarioName;
  /** One line: what it shows. */
  title: string;
  guests: readonly ScenarioGuest[];
  /** What a segment is: `VLAN` or `network`. */
  segmentKind: 'VLAN' | 'network';
  /** The label of the setup step. */
  setupLabel: string;
  /** Make the hosts (nothing of netplumb yet); `tag` names what it creates (`np-demo-PID`). */
  setup(tag: string): Promise<Bed>;
  /** What the done setup says (`ok, in namespace …, pids …`). */
  describeBed(bed: Bed): string;
  /** netplumb prepares the hosts (uplinks, networks), one Plumber per host; undone by `unprepare`. */
  prepare?(plumbers: Plumber[], out: DemoOutput): Promise<void>;
  unprepare?(plumbers: Plumber[]): Promise<void>;
  /** The attach of guest `i` (its `guest` reference given). */
  spec(i: number, guest: GuestRef): AttachSpec;
  /** The command a user would type for guest `i`, as printed. */
  command(i: number): string;
  /** The guests whose throughput is measured, by index. */
  throughput: readonly [number, number];
}

/** The seed's guests all share one /24; only their segments differ. */
export function seedGuests(segments: readonly string[], hosts: readonly number[]): ScenarioGuest[] {
  return segments.map((segment, i) => ({
    name: `con${i + 1}`,
    ip: `10.0.0.${i + 1}`,
    segment,
    host: hosts[i] ?? 0,
  }));
}

/** Same segment: the ping must get a reply; another segment: it must not. */
export function expectedReach(s: Scenario, a: number, b: number): boolean {
  return s.guests[a]?.segment === s.guests[b]?.segment;
}

/** `@100` → 100 */
export function vlanOf(g: ScenarioGuest): number {
  return Number(g.segment.slice(1));
}
