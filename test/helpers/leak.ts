/**
 * The leak oracle: what a test may leave behind is nothing.
 *
 * Before and after each test: links in the root namespace, named namespaces, this
 * process's open fds, child processes, the network namespace of every thread, and the host's
 * files a program run in a namespace could change: the name-service files in /etc (a DHCP
 * client's script rewrites /etc/resolv.conf unless it is kept from it) and the hostname.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, beforeEach } from './privileged.js';
import { deepStrictEqual } from 'node:assert/strict';
import { must } from '../../sandbox/exec.js';

export interface Snapshot {
  rootLinks: string[];
  namedNetns: string[];
  fds: number;
  nsFds: string[];
  children: number[];
  /** SHA-256 of each of HOST_FILES (or `absent`), and the hostname. */
  hostFiles: Record<string, string>;
}

/** The host's files a DHCP client, its scripts or a tool run in a guest's namespace could rewrite. */
export const HOST_FILES = ['/etc/resolv.conf', '/etc/hosts', '/etc/hostname'];

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** `net:[…]` inode of every thread of this process: all must be the original one. */
export function threadNetns(): string[] {
  return listDir('/proc/self/task').map((tid) => readlinkOrEmpty(`/proc/self/task/${tid}/ns/net`));
}

export const ORIGINAL_NETNS = readlinkSync('/proc/self/ns/net');

function childPids(): number[] {
  const pids: number[] = [];
  for (const tid of listDir('/proc/self/task')) {
    try {
      const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    } catch {
      /* thread exited */
    }
  }
  return pids.sort((a, b) => a - b);
}

/** Each host file's content hash, and the UTS hostname (a dhclient or dhcpcd hook sets it). */
export function hostFiles(): Record<string, string> {
  const state: Record<string, string> = { hostname: hostname() };
  for (const path of HOST_FILES) {
    try {
      state[path] = createHash('sha256').update(readFileSync(path)).digest('hex');
    } catch (e) {
      state[path] = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : `unreadable: ${(e as Error).message}`;
    }
  }
  return state;
}

export async function snapshot(): Promise<Snapshot> {
  const links = JSON.parse(await must(['ip', '-json', 'link', 'show'])) as { ifname: string }[];
  const fdNames = listDir('/proc/self/fd');
  return {
    rootLinks: links.map((l) => l.ifname).sort(),
    namedNetns: listDir('/run/netns'),
    fds: fdNames.length,
    nsFds: fdNames
      .map((fd) => readlinkOrEmpty(`/proc/self/fd/${fd}`))
      .filter((t) => t.startsWith('net:'))
      .sort(),
    children: childPids(),
    hostFiles: hostFiles(),
  };
}

/** Compare with a snapshot; async closes (child pipes, sockets) get a short grace period. */
export async function assertNoLeak(before: Snapshot, what = 'test'): Promise<void> {
  let now = await snapshot();
  for (let i = 0; i < 20 && (now.fds !== before.fds || now.children.length > before.children.length); i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await snapshot();
  }
  deepStrictEqual(now.rootLinks, before.rootLinks, `${what} left links in the root namespace`);
  deepStrictEqual(now.namedNetns, before.namedNetns, `${what} left named network namespaces`);
  deepStrictEqual(now.nsFds, before.nsFds, `${what} left namespace fds open`);
  deepStrictEqual(now.fds, before.fds, `${what} left fds open`);
  deepStrictEqual(now.children, before.children, `${what} left child processes`);
  deepStrictEqual(now.hostFiles, before.hostFiles, `${what} changed the host's ${HOST_FILES.join(', ')} or hostname`);
  for (const ns of threadNetns())
    deepStrictEqual(ns, ORIGINAL_NETNS, `a thread of this process is in another network namespace`);
}

/** Register the leak oracle around every test of the calling file. */
export function useLeakCheck(): void {
  let before: Snapshot | undefined;
  beforeEach(async () => {
    before = await snapshot();
  });
  afterEach(async (t) => {
    if (before) await assertNoLeak(before, `test "${t.name}"`);
  });
}
