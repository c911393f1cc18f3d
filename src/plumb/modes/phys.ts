/**
 * The NIC itself (pipework's --direct-phys): moved into the guest under the guest's name,
 * and moved back under its own name when detached. Only when asked for: never detected.
 */
import { ignoreMissing } from '../host-services.js';
import { finishInGuest, findInGuest } from './guest-link.js';
import type { Mode } from './mode.js';
import { refuseTrunks } from './settings.js';

export const phys: Mode = {
  name: 'phys',
  side: 'guest',
  stores: [],

  /** The NIC; absent from the host, it may already be in its guest (an earlier --direct-phys: found there). */
  async target(p) {
    return p.link !== undefined
      ? { mode: 'phys', name: p.name, link: p.link, mtu: p.link.mtu ?? 1500, created: false }
      : { mode: 'phys', name: p.name, mtu: 0, created: false };
  },

  /** A moved NIC keeps its own MTU unless one is asked for (0: unchanged). */
  settings(plan) {
    refuseTrunks(plan);
    return { mtu: plan.mtu ?? 0 };
  },

  /** Equivalent to: ip link set dev NIC netns G name IF (one message) ; then its MTU, MAC, addresses */
  async apply(a, rb) {
    const r = a.record;
    await rb.step(
      'move nic',
      () => a.host.rtnl.link.set(a.target.name, { netnsFd: a.guest.netns.fd, name: r.ifname }),
      () => ({
        what: `NIC "${a.target.name}" (now "${r.ifname}" in ${a.guest.label})`,
        run: () => phys.remove(r, { host: a.host, guest: a.guest.rtnl, done: async () => undefined }),
      }),
    );
    await finishInGuest(a, rb, { ...(r.mtu ? { mtu: r.mtu } : {}), ...(r.mac ? { mac: r.mac } : {}) });
    return {};
  },

  find: findInGuest,

  /** Back to the host under its own name. Equivalent to: ip -n G link set IF down alias "" netns HOST name NIC */
  async remove(r, at) {
    const guest = at.guest;
    if (guest === undefined) return;
    await at.host.inHostNetns((hostNs) =>
      ignoreMissing(guest.link.set(r.ifname, { up: false, alias: '', netnsFd: hostNs.fd, name: r.host })),
    );
  },
};
