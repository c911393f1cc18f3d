/**
 * Run a program in a guest's network namespace so that it cannot change a file of the host: a
 * DHCP client and its scripts, `tc`. Entering the network namespace alone (`ip netns exec`
 * without /etc/netns/G) leaves the program the host's files: busybox udhcpc's default script
 * rewrites /etc/resolv.conf, dhclient's and dhcpcd's write their leases, pid files, the
 * hostname. netplumb's jail (libexec/netplumb-jail) adds a private mount and UTS namespace in
 * which every mount of the host is read-only, /run is an empty tmpfs and the attachment's
 * state directory, when there is one, is the only place of the host to write to.
 *
 * Equivalent to: ip netns exec G PROGRAM…, with every mount read-only and a private hostname.
 *
 * The program enters the namespace through the fd we hold, passed to it as its fd 3
 * (`nsenter --net=/proc/self/fd/3`), so a PID reused meanwhile cannot redirect it. argv arrays
 * only, never a shell command line: the jail is a fixed script that uses each argument as one word.
 */
import type * as ChildProcess from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Netns } from '../netns/index.js';

/** The package's scripts: ../../../libexec from dist/src/plumb (bundled modules keep their __dirname). */
export const LIBEXEC_DIR = resolve(__dirname, '..', '..', '..', 'libexec');
export const JAIL_SCRIPT = resolve(LIBEXEC_DIR, 'netplumb-jail');

/** The environment a jailed program gets: nothing of netplumb's own (the daemon's, a user's shell). */
const JAIL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Loaded on first use: most commands never start a process. */
function spawn(...args: Parameters<typeof ChildProcess.spawn>): ReturnType<typeof ChildProcess.spawn> {
  return (require('node:child_process') as typeof ChildProcess).spawn(...args);
}

/**
 * Mounts the jail replaces rather than remounts: /proc (the guest's network sysctls are written
 * there, per namespace), /sys (a sysfs of the guest), /run (a tmpfs).
 */
const REPLACED = ['/proc', '/sys', '/run'];

/** Per-mount flags `mount -o remount,bind` takes; the rest of a mountinfo line's options are the filesystem's. */
const MOUNT_FLAGS = new Set(['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime', 'strictatime']);

/** A mountinfo path: `\040` for a space, `\011`, `\012`, `\134` for a tab, a newline, a backslash. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * `OPTIONS MOUNTPOINT` pairs for the jail, from /proc/self/mountinfo's text: every mount point
 * once, outside the ones the jail replaces, with its own flags and read-only.
 */
export function readOnlyRemounts(mountinfo: string): string[] {
  const seen = new Set<string>();
  const pairs: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const [pathField, optionsField] = [fields[4], fields[5]];
    if (pathField === undefined || optionsField === undefined) continue;
    const path = unescapeMountPath(pathField);
    if (seen.has(path) || REPLACED.some((r) => path === r || path.startsWith(`${r}/`))) continue;
    seen.add(path);
    const flags = optionsField.split(',').filter((o) => MOUNT_FLAGS.has(o));
    pairs.push(['ro', ...flags].join(','), path);
  }
  return pairs;
}

/**
 * The argv that runs `program` jailed in the namespace passed as fd 3. `stateDir` (under /run)
 * is the one directory of the host the program may write to.
 */
export function jailArgv(program: readonly string[], stateDir?: string, mountinfo?: string): string[] {
  const remounts = readOnlyRemounts(mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8'));
  return [
    'nsenter',
    '--net=/proc/self/fd/3',
    '--',
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    JAIL_SCRIPT,
    stateDir ?? '-',
    ...remounts,
    '--',
    ...program,
  ];
}

export interface JailOptions {
  /** The one directory of the host (under /run) the program may write to. */
  stateDir?: string;
  /** Variables for the program, on top of PATH. */
  env?: Record<string, string>;
}

export interface DetachedOptions extends JailOptions {
  /** Where the program's stdout and stderr go. */
  outputFd: number;
}

/** Start a jailed program in the background; it outlives this process. */
export async function spawnJailed(ns: Netns, program: readonly string[], opts: DetachedOptions): Promise<number> {
  const argv = jailArgv(program, opts.stateDir);
  const child = spawn(argv[0] as string, argv.slice(1), {
    detached: true,
    stdio: ['ignore', opts.outputFd, opts.outputFd, ns.fd],
    env: { PATH: JAIL_PATH, ...opts.env },
    shell: false,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  if (child.pid === undefined) throw new NetplumbError(ErrorCode.INTERNAL, `${program[0]} started without a pid`);
  return child.pid;
}

/**
 * Run a jailed program and wait for it; rejects with `failed(what)` on a non-zero exit (with
 * the last lines of its output), a failure to start, or no exit within `timeoutMs` (killed).
 */
export function runJailed(
  ns: Netns,
  program: readonly string[],
  timeoutMs: number,
  failed: (what: string) => NetplumbError,
  opts: JailOptions = {},
): Promise<void> {
  const argv = jailArgv(program, opts.stateDir);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe', ns.fd],
      env: { PATH: JAIL_PATH, ...opts.env },
      shell: false,
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(failed(`${e.message}; are nsenter and unshare (util-linux) installed?`));
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

/** Run a program inside a namespace, jailed, and wait for it. Equivalent to: ip netns exec G ARGV… */
export function runInNetns(ns: Netns, argv: string[], timeoutMs = 30_000): Promise<void> {
  const failed = (what: string) =>
    new NetplumbError(ErrorCode.UNAVAILABLE, `${argv.join(' ')} in ${ns.label} failed: ${what}`, { field: 'args' });
  return runJailed(ns, argv, timeoutMs, failed);
}
