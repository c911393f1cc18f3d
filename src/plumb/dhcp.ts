/**
 * Run a DHCP client inside the guest's network namespace (pipework's `dhcp`, `udhcpc`,
 * `dhclient`, `dhcpcd` forms). This is the one place netplumb starts a process: a DHCP
 * client is a long-lived program, not a syscall. argv arrays only, never a shell.
 *
 * Equivalent to: ip netns exec G udhcpc -i IF -n -q -t 5 -T 2 [-f]
 *
 * The client enters the namespace through the fd we hold, passed to it as its fd 3
 * (`nsenter --net=/proc/self/fd/3`), so a PID reused meanwhile cannot redirect it. Without `foreground` the client exits once
 * it has a lease (or fails within the timeout); with it, it stays to renew the lease, its
 * pid recorded in /run/netplumb/dhcp/<attachment>.pid so detach can stop it.
 */
import type * as ChildProcess from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Netns } from '../netns/index.js';
import type { IpConfig } from './spec.js';

export const DHCP_RUN_DIR = '/run/netplumb/dhcp';

/** Loaded on first use: an attach with a static address never starts a process. */
function spawn(...args: Parameters<typeof ChildProcess.spawn>): ReturnType<typeof ChildProcess.spawn> {
  return (require('node:child_process') as typeof ChildProcess).spawn(...args);
}
type DhcpConfig = Extract<IpConfig, { kind: 'dhcp' }>;

function clientArgv(cfg: DhcpConfig, ifname: string, hostname: string | undefined, pidfile: string): string[] {
  switch (cfg.client) {
    case 'udhcpc':
      // -n: exit if no lease; -q: quit after obtaining one (unless foreground); -t/-T: 5 tries 2 s apart.
      return [
        'udhcpc',
        '-i',
        ifname,
        '-n',
        '-t',
        '5',
        '-T',
        '2',
        ...(cfg.foreground ? ['-f'] : ['-q']),
        ...(hostname ? ['-x', `hostname:${hostname}`] : []),
        ...cfg.options,
      ];
    case 'dhclient':
      return ['dhclient', '-1', '-pf', pidfile, ...(cfg.foreground ? ['-d'] : []), ...cfg.options, ifname];
    case 'dhcpcd':
      return ['dhcpcd', '-t', '10', ...(cfg.foreground ? ['-B'] : ['-1']), ...cfg.options, ifname];
  }
}

export interface DhcpResult {
  /** The client's pid, when it keeps running to renew the lease. */
  pid?: number;
}

/** Obtain a lease; with `foreground`, leave the client running (detached) to renew it. */
export async function runDhcp(
  cfg: DhcpConfig,
  ns: Netns,
  ifname: string,
  attachmentId: string,
  hostname: string | undefined,
  timeoutMs = 20_000,
): Promise<DhcpResult> {
  mkdirSync(DHCP_RUN_DIR, { recursive: true, mode: 0o750 });
  const pidfile = `${DHCP_RUN_DIR}/${attachmentId}.pid`;
  const argv = ['nsenter', '--net=/proc/self/fd/3', '--', ...clientArgv(cfg, ifname, hostname, pidfile)];
  if (!cfg.foreground) {
    await runToCompletion(argv, ns.fd, timeoutMs, (what) => dhcpError(cfg.client, what));
    return {};
  }
  // A foreground client: detached, its output to a log file, its pid recorded for detach.
  const logFd = openSync(`${DHCP_RUN_DIR}/${attachmentId}.log`, 'a');
  try {
    const child = spawn(argv[0] as string, argv.slice(1), {
      detached: true,
      stdio: ['ignore', logFd, logFd, ns.fd],
      shell: false,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(dhcpError(cfg.client, e.message)));
    });
    child.unref();
    writeFileSync(pidfile, `${child.pid}\n`);
    return child.pid === undefined ? {} : { pid: child.pid };
  } finally {
    closeSync(logFd);
  }
}

/** Stop a renewing client started for this attachment, if any. */
export function stopDhcp(attachmentId: string): void {
  const pidfile = `${DHCP_RUN_DIR}/${attachmentId}.pid`;
  // Most attachments have none: one access(2), not a failed read whose error is built and thrown.
  if (!existsSync(pidfile)) return;
  let pid: number;
  try {
    pid = Number(readFileSync(pidfile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    if (pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  try {
    unlinkSync(pidfile);
  } catch {
    /* already gone */
  }
}

/** Run a program inside a namespace and wait for it. Equivalent to: ip netns exec G ARGV… */
export function runInNetns(ns: Netns, argv: string[], timeoutMs = 30_000): Promise<void> {
  const failed = (what: string) =>
    new NetplumbError(ErrorCode.UNAVAILABLE, `${argv.join(' ')} in ${ns.label} failed: ${what}`, { field: 'args' });
  return runToCompletion(['nsenter', '--net=/proc/self/fd/3', '--', ...argv], ns.fd, timeoutMs, failed);
}

function runToCompletion(
  argv: string[],
  nsFd: number,
  timeoutMs: number,
  failed: (what: string) => NetplumbError,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', nsFd], shell: false });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(failed(`${e.message}; is ${argv[3] ?? argv[0]} installed?`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          failed(
            signal
              ? `no result within ${timeoutMs} ms`
              : `exited ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`,
          ),
        );
    });
  });
}

function dhcpError(client: string, what: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.UNAVAILABLE,
    `DHCP client ${client} failed: ${what}; is a DHCP server reachable on the bridge?`,
    { field: 'ip' },
  );
}
