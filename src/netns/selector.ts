/**
 * How a caller names a network namespace, and the validation of those names.
 *
 *   { name: 'blue' }            → /run/netns/blue        (ip netns add blue)
 *   { path: '/run/netns/blue' } → any nsfs file, never through a symlink
 *   { pid: 1234 }               → the namespace of process 1234 (/proc/1234/ns/net)
 */
import { invalidArgument } from '../errors.js';

export type NetnsSelector = { name: string } | { path: string } | { pid: number; startTime?: number };

export const NETNS_RUN_DIR = '/run/netns';

/** Names `ip netns` accepts, made stricter: no path syntax, printable, short. */
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export function validateNetnsName(name: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw invalidArgument('netns', 'a namespace name must not be empty');
  if (name === '.' || name === '..' || !NETNS_NAME.test(name)) {
    throw invalidArgument(
      'netns',
      `"${printable(name)}" is not a namespace name (letters, digits, "_", "-", "." only; at most 255)`,
    );
  }
  return name;
}

export function validatePid(pid: number): number {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 4194304)
    throw invalidArgument('pid', `"${String(pid)}" is not a process id`);
  return pid;
}

export function validateNetnsPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0') || path.length > 4096) {
    throw invalidArgument('netnsPath', `"${printable(String(path))}" is not an absolute path`);
  }
  return path;
}

/** `/proc/PID/ns/net` is a magic link: route it through the race-free pid opener. */
const PROC_NS_PATH = /^\/proc\/(\d+)\/ns\/net$/;

/** Parse a CLI-style guest word into a selector, or null if it is not a namespace reference. */
export function parseNetnsSelector(word: string): NetnsSelector | null {
  if (word.startsWith('pid:')) return { pid: validatePid(Number(word.slice(4))) };
  if (word.startsWith('netns:')) return { name: validateNetnsName(word.slice(6)) };
  if (word.startsWith('/')) return selectorForPath(word);
  return null;
}

export function selectorForPath(path: string): NetnsSelector {
  const m = PROC_NS_PATH.exec(path);
  if (m) return { pid: validatePid(Number(m[1])) };
  return { path: validateNetnsPath(path) };
}

export function describeSelector(sel: NetnsSelector): string {
  if ('name' in sel) return `netns "${sel.name}"`;
  if ('pid' in sel) return `the network namespace of pid ${sel.pid}`;
  return `namespace file ${sel.path}`;
}

function printable(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s).slice(1, -1);
}
