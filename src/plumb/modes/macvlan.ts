/**
 * A macvlan: a MAC-based sub-interface of a host NIC, created straight into the guest.
 * With a VLAN (pipework's `@VID` on a NIC) its parent is the NIC's 802.1Q sub-interface
 * `<nic>.<vid>`, created when absent.
 */
import { ErrorCode, NetplumbError } from '../../errors.js';
import type { VlanId } from '../../validate.js';
import { ignoreMissing } from '../host-services.js';
import { vlanSubinterfaceName } from '../names.js';
import type { Rollback } from '../rollback.js';
import { createInGuest, finishInGuest, findInGuest, removeFromGuest } from './guest-link.js';
import { hostNotFound } from './host-errors.js';
import type { Attaching, Mode } from './mode.js';
import { inheritedMtu, refuseTrunks } from './settings.js';

/** The link type (`/sys/class/net/X/type`) of an InfiniBand NIC, which carries IP as IPoIB. */
const ARPHRD_INFINIBAND = 32;

/**
 * pipework's IPoIB mode (an IPoIB child interface with the @VID as its partition key) is not
 * implemented, and a macvlan cannot sit on an InfiniBand NIC: refused, saying so.
 */
function ipoibUnsupported(name: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.UNSUPPORTED,
    `host interface "${name}" is an InfiniBand (IPoIB) NIC; netplumb does not attach containers to IPoIB (pipework's IPoIB child interfaces are not supported): use an Ethernet NIC, a bridge, or --direct-phys to move the NIC itself`,
    { field: 'host' },
  );
}

/**
 * `<nic>.<vid>` (created if absent) to carry the macvlan.
 * Equivalent to: ip link add link NIC name NIC.VID type vlan id VID ; ip link set NIC.VID up
 */
async function vlanParent(a: Attaching, vid: VlanId, rb: Rollback): Promise<string> {
  const nic = a.target.name;
  const name = vlanSubinterfaceName(nic, vid);
  if ((await a.host.rtnl.link.find(name)) !== undefined) return name;
  await rb.step(
    'vlan sub-interface',
    () => a.host.rtnl.link.add({ name, kind: 'vlan', link: nic, id: vid, up: true }),
    () => ({ what: `VLAN interface "${name}"`, run: () => ignoreMissing(a.host.rtnl.link.del(name)) }),
  );
  return name;
}

export const macvlan: Mode = {
  name: 'macvlan',
  side: 'guest',
  stores: [],

  /** Any other interface that exists: a NIC. */
  async detect(p) {
    return p.link === undefined ? undefined : macvlan.target(p);
  },

  async target(p) {
    if (p.link === undefined) throw hostNotFound(p.name);
    if (p.link.type === ARPHRD_INFINIBAND) throw ipoibUnsupported(p.name);
    return { mode: 'macvlan', name: p.name, link: p.link, mtu: p.link.mtu ?? 1500, created: false };
  },

  settings(plan, target) {
    refuseTrunks(plan);
    return { ...inheritedMtu(plan, target), macvlanMode: plan.macvlanMode ?? 'bridge' };
  },

  async apply(a, rb) {
    const parent = a.plan.vlan !== undefined ? await vlanParent(a, a.plan.vlan, rb) : a.target.name;
    await createInGuest(a, rb, { kind: 'macvlan', link: parent, mode: a.record.macvlanMode ?? 'bridge' });
    await finishInGuest(a, rb);
    return {};
  },

  find: findInGuest,
  remove: removeFromGuest,
};
