/**
 * The host-namespace guard: a guest that turns out to be the caller's own network
 * namespace, or init's, is refused before anything is changed (faults B7). A container
 * run with `--net host` or a reused PID would otherwise plumb the machine itself.
 */
import { statSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import { hostNetnsIdentity, type NetnsIdentity } from '../netns/index.js';

const INIT_NETNS = '/proc/1/ns/net';

let known: NetnsIdentity[] | undefined;

/**
 * The namespaces that count as "the host": this process's and init's (when readable).
 * Read once: neither changes while the process runs (netplumb never moves its own threads).
 */
export function hostNamespaces(): NetnsIdentity[] {
  if (known) return known;
  const own = hostNetnsIdentity();
  try {
    const st = statSync(INIT_NETNS);
    known = [own, { dev: st.dev, ino: st.ino }];
  } catch {
    // Not readable (no privilege, hidepid, a protected init): this process's namespace is still checked.
    known = [own];
  }
  return known;
}

/** Throws HOST_NAMESPACE_REFUSED when `id` is a host namespace. */
export function refuseHostNamespace(id: NetnsIdentity, what: string): void {
  if (!hostNamespaces().some((h) => h.dev === id.dev && h.ino === id.ino)) return;
  throw new NetplumbError(
    ErrorCode.HOST_NAMESPACE_REFUSED,
    `${what} is the host's own network namespace (net:[${id.ino}]); refusing to plumb it, nothing was changed. If that is really meant, pass allowHostNetns: true`,
    { field: 'guest', ino: id.ino },
  );
}
