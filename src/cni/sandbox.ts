/**
 * The container's namespace as netplumb-cni looks into it itself (the ADD's refusal of an
 * interface that exists, the result's MAC, CHECK): netlink in the namespace at CNI_NETNS.
 *
 * Equivalent to: ip -n NETNS -json link show IFNAME ; ip -n NETNS -json addr show IFNAME
 */
import { type CommandIo, RunInCaller } from '../cli/io.js';
import { ErrorCode, NetplumbError } from '../errors.js';
import { type Netns, openNetns, selectorForPath } from '../netns/index.js';
import { openRouteIn } from '../netns/sockets.js';
import { type Address, type Link, Rtnl } from '../rtnl/index.js';
import { openRouteTransport } from '../netlink/native-transport.js';

/** An interface as CHECK and the result need it. */
export interface SeenInterface {
  link: Link;
  addresses: Address[];
}

/**
 * Netlink in the namespace at `path`, for `fn`; NAMESPACE_GONE when it is not there. A
 * `/proc/PID/ns/net` path (what ctr and nerdctl pass) is a magic link that a path open
 * refuses to follow: it is opened as the namespace of PID, as the attach opens it. Run by
 * the daemon for a caller (`io`), a path that is no namespace there may be one in the
 * caller's mount namespace (a runtime that mounted it in a mount namespace of its own): the
 * call is handed back to the caller (RunInCaller), before anything was done.
 */
export async function inSandbox<T>(path: string, fn: (rtnl: Rtnl) => Promise<T>, io?: CommandIo): Promise<T> {
  let ns: Netns;
  try {
    ns = openNetns(selectorForPath(path));
  } catch (e) {
    if (io?.daemon !== undefined && e instanceof NetplumbError && e.code === ErrorCode.INVALID_ARGUMENT)
      throw new RunInCaller(`${path} is no network namespace in the daemon's mount namespace`);
    throw e;
  }
  try {
    const rtnl = new Rtnl((await openRouteIn(ns)).route);
    try {
      return await fn(rtnl);
    } finally {
      rtnl.close();
    }
  } finally {
    ns.close();
  }
}

/** The interface `ifname` and its addresses, if it exists. */
export async function seeInterface(rtnl: Rtnl, ifname: string): Promise<SeenInterface | undefined> {
  const link = await rtnl.link.find(ifname);
  if (link === undefined) return undefined;
  return { link, addresses: await rtnl.addr.list({ dev: link.index }) };
}

/** The MAC of a link of this process's namespace (the host side of a veth), if it is there. */
export async function hostLinkMac(name: string): Promise<string | undefined> {
  const rtnl = new Rtnl(openRouteTransport());
  try {
    return (await rtnl.link.find(name))?.mac;
  } finally {
    rtnl.close();
  }
}
