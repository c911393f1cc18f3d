/**
 * Run a DHCP client inside the guest's network namespace (pipework's `dhcp`, `udhcpc`,
 * `dhclient`, `dhcpcd` forms). This is the one place netplumb starts a long-lived process: a
 * DHCP client is a program, not a syscall. argv arrays only, never a shell.
 *
 * Equivalent to: ip netns exec G udhcpc -i IF -n -q -t 5 -T 2 -s netplumb-dhcp-hook
 * where /etc/netns/G/resolv.conf is the attachment's own file and every other file read-only.
 *
 * The client runs in netplumb's jail (./jail.ts): a client's own scripts would write the
 * lease's name servers to the host's /etc/resolv.conf, its hostname to the host's. Ours
 * (libexec/netplumb-dhcp-hook, `udhcpc -s`, `dhclient -sf`, `dhcpcd -c`) configures the
 * interface and writes the name servers to the attachment's directory,
 * /run/netplumb/dhcp/<attachment>/ (resolv.conf; the client's pid, log and leases), the one
 * place of the host the client can write to. Without `foreground` the client exits once it
 * has a lease (or fails within the timeout); with it, it stays to renew the lease, its pid in
 * that directory so that detach can stop it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Netns } from '../netns/index.js';
import { LIBEXEC_DIR, runJailed, spawnJailed } from './jail.js';
import type { IpConfig } from './spec.js';

export const DHCP_RUN_DIR = '/run/netplumb/dhcp';
export const DHCP_HOOK = resolve(LIBEXEC_DIR, 'netplumb-dhcp-hook');

type DhcpConfig = Extract<IpConfig, { kind: 'dhcp' }>;

/** The attachment's directory: the client's pid, log, leases and the lease's resolv.conf. */
export function dhcpDir(attachmentId: string): string {
  return `${DHCP_RUN_DIR}/${attachmentId}`;
}

/**
 * The client's argv. Our options come first, the user's after them: a user's own script
 * (`-s`, `-sf`, `-c`) wins, and still runs jailed.
 */
export function clientArgv(cfg: DhcpConfig, ifname: string, hostname: string | undefined, dir: string): string[] {
  // dhclient and dhcpcd give their script a fresh environment: the hook's variables go through -e.
  const hookEnv = [`NETPLUMB_DHCP_DIR=${dir}`, `NETPLUMB_DHCP_CLIENT=${cfg.client}`].flatMap((v) => ['-e', v]);
  switch (cfg.client) {
    case 'udhcpc':
      // -n: exit if no lease; -q: quit after obtaining one (unless foreground); -t/-T: 5 tries 2 s apart.
      return [
        'udhcpc',
        '-i',
        ifname,
        '-s',
        DHCP_HOOK,
        '-n',
        '-t',
        '5',
        '-T',
        '2',
        // The search domains too (option 119), recorded with the name servers.
        '-O',
        'search',
        ...(cfg.foreground ? ['-f'] : ['-q']),
        ...(hostname ? ['-x', `hostname:${hostname}`] : []),
        ...cfg.options,
      ];
    case 'dhclient':
      // -lf/-pf: its leases and pid in the attachment's directory, not /var/lib/dhcp and /run.
      return [
        'dhclient',
        '-1',
        '-sf',
        DHCP_HOOK,
        ...hookEnv,
        '-lf',
        `${dir}/dhclient.leases`,
        '-pf',
        `${dir}/pid`,
        ...(cfg.foreground ? ['-d'] : []),
        ...cfg.options,
        ifname,
      ];
    case 'dhcpcd':
      return [
        'dhcpcd',
        '-c',
        DHCP_HOOK,
        ...hookEnv,
        '-t',
        '10',
        // The name servers and domains, recorded by the hook (dhcpcd asks for them only if its configuration says so).
        ...['domain_name_servers', 'domain_name', 'domain_search'].flatMap((o) => ['-o', o]),
        ...(hostname ? ['-h', hostname] : []),
        ...(cfg.foreground ? ['-B'] : ['-1']),
        ...cfg.options,
        ifname,
      ];
  }
}

export interface DhcpResult {
  /** The client's pid, when it keeps running to renew the lease. */
  pid?: number;
  /** The lease's name servers and search domains, once it has one (a renewing client's comes later). */
  resolv?: LeaseResolv;
}

export interface LeaseResolv {
  /** The attachment's resolv.conf, as the DHCP server's lease has it (never the host's). */
  file: string;
  nameservers: string[];
  search: string[];
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
  // A client left from an earlier attach of this attachment goes first, with its directory.
  stopDhcp(attachmentId);
  const dir = dhcpDir(attachmentId);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const program = clientArgv(cfg, ifname, hostname, dir);
  const jail = { stateDir: dir, env: { NETPLUMB_DHCP_DIR: dir, NETPLUMB_DHCP_CLIENT: cfg.client } };
  try {
    if (!cfg.foreground) {
      await runJailed(ns, program, timeoutMs, (what) => dhcpError(cfg.client, what), jail);
      const resolv = readLeaseResolv(attachmentId);
      return resolv ? { resolv } : {};
    }
    // A foreground client: detached, its output to a log file, its pid recorded for detach.
    const logFd = openSync(`${dir}/log`, 'a');
    try {
      const pid = await spawnJailed(ns, program, { ...jail, outputFd: logFd }).catch((e: Error) => {
        throw dhcpError(cfg.client, e.message);
      });
      writeFileSync(`${dir}/pid`, `${pid}\n`);
      return { pid };
    } finally {
      closeSync(logFd);
    }
  } catch (e) {
    // No lease: nothing of this attempt stays (a daemonized dhclient would have left its pid).
    stopDhcp(attachmentId);
    throw e;
  }
}

/** The name servers of the attachment's current lease, as its client's script recorded them. */
export function readLeaseResolv(attachmentId: string): LeaseResolv | undefined {
  const file = `${dhcpDir(attachmentId)}/resolv.conf`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const nameservers: string[] = [];
  const search: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') search.push(...values.filter((v) => !search.includes(v)));
  }
  return { file, nameservers, search };
}

/** Stop a renewing client started for this attachment, if any, and remove its directory. */
export function stopDhcp(attachmentId: string): void {
  const dir = dhcpDir(attachmentId);
  // Most attachments have none: one access(2), not a failed read whose error is built and thrown.
  if (existsSync(dir)) {
    killPidfile(`${dir}/pid`);
    rmSync(dir, { recursive: true, force: true });
  }
  // A client started by an earlier netplumb version recorded its pid next to the directory.
  const legacy = `${dir}.pid`;
  if (existsSync(legacy)) {
    killPidfile(legacy);
    rmSync(legacy, { force: true });
  }
}

function killPidfile(pidfile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidfile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

function dhcpError(client: string, what: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.UNAVAILABLE,
    `DHCP client ${client} failed: ${what}; is ${client} installed, and a DHCP server reachable on the bridge?`,
    { field: 'ip' },
  );
}
