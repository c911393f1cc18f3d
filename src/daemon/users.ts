/**
 * Who may use the daemon's socket: root and the members of its group, read from
 * /etc/group and /etc/passwd when the daemon starts (a change of membership takes effect
 * at the next start, like a login session's groups). No NSS: users that exist only in
 * LDAP/SSSD can be allowed with an explicit uid list instead.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';

export interface GroupInfo {
  name: string;
  gid: number;
  /** Users whose supplementary group this is, plus users whose primary group it is. */
  uids: number[];
}

function rows(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NetplumbError(ErrorCode.NOT_FOUND, `cannot read ${path}: ${(e as Error).message}`);
  }
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The group's gid and member uids; NOT_FOUND when there is no such group. */
export function lookupGroup(name: string, files = { group: '/etc/group', passwd: '/etc/passwd' }): GroupInfo {
  const row = rows(files.group).find((r) => r[0] === name);
  const gid = row === undefined ? NaN : Number(row[2]);
  if (row === undefined || !Number.isSafeInteger(gid)) {
    throw new NetplumbError(
      ErrorCode.NOT_FOUND,
      `group "${name}" does not exist; create it (groupadd ${name}) or leave out --group`,
      { field: 'group' },
    );
  }
  const names = new Set((row[3] ?? '').split(',').filter(Boolean));
  const uids = new Set<number>();
  for (const p of rows(files.passwd)) {
    const uid = Number(p[2]);
    if (!Number.isSafeInteger(uid)) continue;
    if (names.has(p[0] ?? '') || Number(p[3]) === gid) uids.add(uid);
  }
  return { name, gid, uids: [...uids].sort((a, b) => a - b) };
}
