/**
 * The addresses and routes of an IPAM result beyond the engine's one address and default
 * route (a second family's address and default route, other routes), added in the
 * container once the attach is made. They go with the interface: nothing to undo but it.
 *
 * Equivalent to: ip -n NETNS addr add A dev IF ; ip -n NETNS route add DST [via GW] dev IF
 */
import type { MoreAddressing } from './ipam-result.js';
import { inSandbox } from './sandbox.js';

export async function addMoreAddressing(sandbox: string, ifname: string, more: MoreAddressing): Promise<void> {
  if (more.addresses.length === 0 && more.routes.length === 0) return;
  await inSandbox(sandbox, async (rtnl) => {
    for (const a of more.addresses)
      await rtnl.addr.add({ dev: ifname, address: a.cidr, ...(a.family === 6 ? { nodad: true } : {}) });
    for (const r of more.routes)
      await rtnl.route.add({
        dst: r.dst.prefixLen === 0 ? 'default' : r.dst.cidr,
        family: r.dst.family,
        dev: ifname,
        ...(r.via !== undefined ? { via: r.via.address } : {}),
      });
  });
}
