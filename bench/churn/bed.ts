/**
 * The churn benchmark's bed: its sizes (NETPLUMB_CHURN_* in the environment), the guests
 * (one namespace each, IPv6 off), the attachment every slot stands for, and the commands
 * the baselines and checks run (`ip -batch`, `ovs-vsctl`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DetachRequest } from '../../src/plumb/plumber.js';
import type { AttachSpec } from '../../src/plumb/spec.js';
import type { OvsInstance } from '../../sandbox/ovs.js';
import { nowMs, round, type summary } from '../lib/stats.js';

const envNumber = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
export const N = envNumber('NETPLUMB_CHURN_N', 1000);
export const ROUNDS = envNumber('NETPLUMB_CHURN_ROUNDS', 3);
export const BASELINE_N = envNumber('NETPLUMB_CHURN_BASELINE_N', 60);
export const CLI_N = envNumber('NETPLUMB_CHURN_CLI_N', 200);
export const CLI_CONCURRENCY = 16;
/** Guests with two interfaces each for the daemon's memory at 2 × this many attachments. */
export const RSS_GUESTS = envNumber('NETPLUMB_CHURN_RSS_GUESTS', 1000);
export const LATENCY_N = 200;
export const CONCURRENCY = [1, 16, 64];
export const BRIDGE = 'ovs0';
export const VLAN = 100;
export const GUESTS = 'IPv6 disabled, as Docker does for IPv4-only containers';
export const ROOT = join(__dirname, '..', '..', '..');
export const NETPLUMB = join(ROOT, 'bin', 'netplumb');

export type Summary = ReturnType<typeof summary>;
type Ifname = 'eth1' | 'eth2';

/** One attachment: interface `ifname` in guest number `guest`. */
export interface Slot {
  guest: number;
  ifname: Ifname;
}

export const guestName = (i: number): string => `np-ch${process.pid}-${i}`;

/** An address unique to (guest, interface): eth1 in 10.64.0.0/10 (prefix /8), eth2 in 172.16.0.0/12. */
export function address(s: Slot): string {
  const h = s.guest + 1;
  const [a, b, len] = s.ifname === 'eth1' ? [10, 64, 8] : [172, 16, 12];
  return `${a}.${b + (h >> 16)}.${(h >> 8) & 255}.${h & 255}/${len}`;
}

export const spec = (s: Slot): AttachSpec => ({
  host: BRIDGE,
  guest: { netns: guestName(s.guest) },
  ifname: s.ifname,
  vlan: VLAN,
  ip: { kind: 'static', address: address(s) },
});
export const detachRequest = (s: Slot): DetachRequest => ({ guest: { netns: guestName(s.guest) }, ifname: s.ifname });

/** eth1 in guests 0 … n-1. */
export const slots = (n: number): Slot[] => Array.from({ length: n }, (_, guest) => ({ guest, ifname: 'eth1' }));
/** eth1 and eth2 in guests 0 … n-1. */
export const twoEach = (n: number): Slot[] => slots(n).flatMap((s) => [s, { ...s, ifname: 'eth2' as const }]);

export const started = nowMs();
/** Progress on stderr (stdout carries the report). */
export function step(what: string): void {
  process.stderr.write(`churn: ${what} (${round((nowMs() - started) / 1000, 1)} s)\n`);
}

/** Run argv to completion; its stdout. Its stderr is kept out of the report (a failure's error carries it). */
export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0] as string, argv.slice(1), {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

/** `ip [-n NETNS] [-force] -batch -` with `lines` on stdin. */
export function ipBatch(lines: string[], opts: { netns?: string; force?: boolean } = {}): void {
  sh(
    ['ip', ...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'],
    `${lines.join('\n')}\n`,
  );
}

export function vsctl(ovs: OvsInstance, args: string[]): string {
  return sh(['ovs-vsctl', `--db=${ovs.remote}`, '--timeout=600', ...args]);
}

/** `-- VERB ovs0 NAME …` for every name, for one ovs-vsctl transaction. */
export const perPort = (
  names: string[],
  verb: 'add-port' | 'del-port',
  extra: (name: string) => string[] = () => [],
): string[] => names.flatMap((n) => ['--', verb, BRIDGE, n, ...extra(n)]);

/** Delete host-side links in one batch: put them in a link group, delete the group. */
export function deleteHostLinks(ovs: OvsInstance, names: string[], group: number): void {
  ipBatch([...names.map((n) => `link set ${n} group ${group}`), `link del group ${group}`], { netns: ovs.netns });
}

/** Guest namespaces 0 … n-1, each with IPv6 disabled, in one `ip -batch`. */
export function createGuests(n: number): void {
  const sysctl = 'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1';
  ipBatch(
    Array.from({ length: n }, (_, i) => [`netns add ${guestName(i)}`, `netns exec ${guestName(i)} ${sysctl}`]).flat(),
  );
}

export function deleteGuests(n: number): void {
  try {
    ipBatch(
      Array.from({ length: n }, (_, i) => `netns del ${guestName(i)}`),
      { force: true },
    );
  } catch {
    /* the ones that were never created */
  }
}

/** Run argv to completion; its stdout, or an error with its output when it fails. */
export function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`${argv.join(' ')} exited ${code}: ${stdout}${stderr}`)),
    );
  });
}
