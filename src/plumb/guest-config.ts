/**
 * Configure the interface inside the guest: link up, addresses, gateway — each undoable —
 * then announce the addresses (gratuitous ARP / unsolicited neighbour advertisement).
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Rtnl } from '../rtnl/index.js';
import type { Route } from '../rtnl/index.js';
import { hostPrefix, inPrefix, type IpAddress, type IpPrefix } from '../validate.js';
import type { IpPlan } from './plan.js';
import type { Rollback } from './rollback.js';

/** The guest interface's addresses and gateway, as parsed (./plan.ts). */
export interface GuestIpPlan {
  addresses: readonly IpPrefix[];
  gateway?: IpAddress;
}

/** The addresses an attach plan's addressing configures (none for DHCP: the client does it). */
export function guestIpPlan(ip: IpPlan): GuestIpPlan {
  if (ip.kind !== 'static') return { addresses: [] };
  return ip.gateway === undefined ? { addresses: [ip.address] } : { addresses: [ip.address], gateway: ip.gateway };
}

/** Is `g` inside the subnet of one of the addresses (same family)? */
function onSubnet(g: IpAddress, addresses: readonly IpPrefix[]): boolean {
  return addresses.some((a) => inPrefix(a, g));
}

/**
 * Equivalent to:
 *   ip -n G link set dev IF up [alias RECORD]
 *   ip -n G addr add A/N [brd +] dev IF          (IPv6: nodad)
 *   ip -n G route add GW dev IF scope link        (only if GW is outside every subnet)
 *   ip -n G route replace default via GW dev IF
 */
export async function configureGuest(
  rtnl: Rtnl,
  ifname: string,
  plan: GuestIpPlan,
  rb: Rollback,
  log?: Logger,
  alias?: string,
): Promise<void> {
  // The alias (netplumb's record) rides along with "up": it lets detach find the attachment from inside the guest.
  await rb.step('guest link up', () => rtnl.link.set(ifname, { up: true, ...(alias !== undefined ? { alias } : {}) }));
  // Addresses and routes die with the interface; only the replaced default route needs an undo.
  await Promise.all(
    plan.addresses.map((a) =>
      rtnl.addr.add({ dev: ifname, address: a.cidr, ...(a.family === 6 ? { nodad: true } : {}) }),
    ),
  );
  const gw = plan.gateway;
  if (gw === undefined) return;
  if (!onSubnet(gw, plan.addresses)) {
    // pipework PR #100: a gateway outside the subnet is reached through an on-link host route.
    await rtnl.route.add({ dst: hostPrefix(gw).cidr, dev: ifname, scope: 'link' });
  }
  const previous = (await rtnl.route.list({ family: gw.family })).filter((r) => r.dst === 'default');
  await rb.step(
    'guest default route',
    () => rtnl.route.replace({ dst: 'default', via: gw.address, dev: ifname }),
    () => ({
      what: `default route via ${gw.address} in the guest`,
      run: () => restoreDefault(rtnl, previous, gw.family, log),
    }),
  );
}

async function restoreDefault(rtnl: Rtnl, previous: Route[], family: 4 | 6, log?: Logger): Promise<void> {
  const old = previous[0];
  if (old === undefined) {
    await rtnl.route.del({ dst: 'default', family }).catch((e: unknown) => {
      if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) throw e;
    });
    return;
  }
  log?.debug({ gateway: old.gateway }, 'restoring the previous default route');
  await rtnl.route.replace({
    dst: 'default',
    ...(old.gateway ? { via: old.gateway } : { family }),
    ...(old.oif ? { dev: old.oif } : {}),
  });
}
