/**
 * The processes a sandbox starts, watched from outside through /proc: alive or not, waited
 * for, signalled, found by what their command line names.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** True while the process exists and is not a zombie (state field of /proc/PID/stat). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until the process is gone; SIGKILL it after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > end) {
      process.kill(pid, 'SIGKILL');
      await delay(50);
      if (isAlive(pid)) throw new Error(`process ${pid} did not exit`);
      return;
    }
    await delay(20);
  }
}

/** Equivalent to: kill -SIG PID, where a process already gone is no error. */
export function signalIfAlive(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** The process's command line, arguments joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Live processes (this one excluded) whose command line contains `text`, e.g. a sandbox's dir. */
export function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== process.pid && commandLine(pid).includes(text) && isAlive(pid)) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

/** `<pid> <start time>` while the process lives, else undefined (start time: field 22 of /proc/PID/stat). */
export function processStamp(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''}`;
  } catch {
    return undefined;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
