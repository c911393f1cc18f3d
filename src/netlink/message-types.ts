/**
 * rtnetlink message types (linux/rtnetlink.h) and their names, which netplumb reports as
 * the `syscall` of a failed request (`RTM_NEWLINK: EEXIST: …`).
 */
import { NLMSG } from './constants.js';

export const RTM = {
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_SETLINK: 19,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_GETADDR: 22,
  RTM_NEWROUTE: 24,
  RTM_DELROUTE: 25,
  RTM_GETROUTE: 26,
  RTM_NEWNEIGH: 28,
  RTM_DELNEIGH: 29,
  RTM_GETNEIGH: 30,
  RTM_NEWRULE: 32,
  RTM_DELRULE: 33,
  RTM_GETRULE: 34,
  RTM_NEWNSID: 88,
  RTM_DELNSID: 89,
  RTM_GETNSID: 90,
} as const;

const NAMES = new Map<number, string>();
for (const [name, value] of [...Object.entries(NLMSG), ...Object.entries(RTM)]) {
  // NLMSG_MIN_TYPE is a bound, not a type (it equals RTM_NEWLINK).
  if (name !== 'NLMSG_MIN_TYPE') NAMES.set(value, name);
}

/** `RTM_NEWLINK` for 16; `NLMSG_<n>` for a type with no known name. */
export function messageTypeName(type: number): string {
  return NAMES.get(type) ?? `NLMSG_${type}`;
}
