/** IP family ↔ AF_* number. */
import { parseError } from '../netlink/parse-error.js';
import type { IpFamily } from '../validate.js';
import { AF } from './constants/socket.js';

export function afOf(family: IpFamily | undefined): number {
  return family === 4 ? AF.AF_INET : family === 6 ? AF.AF_INET6 : AF.AF_UNSPEC;
}

export function familyOf(af: number, what: string): IpFamily {
  if (af === AF.AF_INET) return 4;
  if (af === AF.AF_INET6) return 6;
  throw parseError(what, `address family ${af} is neither AF_INET nor AF_INET6`);
}
