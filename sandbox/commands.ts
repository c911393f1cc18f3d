/** The programs a sandbox needs: found on PATH (and the sbin directories), or a clear error. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ALWAYS_SEARCHED = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The names among `names` that no directory of PATH (or of the sbin/bin set) holds. */
export function missingCommands(names: string[]): string[] {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...ALWAYS_SEARCHED].filter((d) => d !== '');
  return names.filter((n) => !dirs.some((d) => existsSync(join(d, n))));
}

/** Throw `<what> needs A, B, not installed here: <hint>` when any of `names` is missing. */
export function requireCommands(names: string[], what: string, hint: string): void {
  const missing = missingCommands(names);
  if (missing.length > 0) throw new Error(`${what} needs ${missing.join(', ')}, not installed here: ${hint}`);
}
