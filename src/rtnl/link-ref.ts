/** How callers name a link: by interface name or by ifindex. */
import { invalidArgument } from '../errors.js';
import { ifName, integer } from '../validate.js';

/** An interface name (`"eth0"`) or an ifindex (`2`). */
export type LinkRef = string | number;

export function linkRef(field: string, v: unknown): LinkRef {
  if (typeof v === 'number') return integer(field, v, 1, 0x7fffffff);
  if (typeof v === 'string') return ifName(field, v);
  throw invalidArgument(field, `${String(v)} is neither an interface name nor an ifindex`);
}

/** `"eth0"` or `ifindex 2`, for messages. */
export function describeLinkRef(ref: LinkRef): string {
  return typeof ref === 'number' ? `ifindex ${ref}` : JSON.stringify(ref);
}
