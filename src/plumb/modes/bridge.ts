/** A Linux bridge port: a veth whose host end is enslaved to the bridge in its create message. */
import { ErrorCode, NetplumbError, invalidArgument } from '../../errors.js';
import { bridgeNotFound } from './host-errors.js';
import { addVeth, completeOnHost, configureGuestEnd, findOnHost, removeHostEnd } from './host-veth.js';
import type { Mode } from './mode.js';
import { inheritedMtu, refuseTrunks } from './settings.js';

export const bridge: Mode = {
  name: 'bridge',
  side: 'host',
  stores: [],

  /** A Linux bridge (/sys/class/net/X/bridge), or a new `br*` one when bridges may be created. */
  async detect(p) {
    const isBridge = p.link?.kind === 'bridge' || (p.link === undefined && p.createBridge && p.name.startsWith('br'));
    return isBridge ? bridge.target(p) : undefined;
  },

  /** Equivalent to: ip link add NAME type bridge ; ip link set NAME up (when absent and asked to) */
  async target(p) {
    if (p.link !== undefined) {
      if (p.link.kind !== 'bridge')
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `host interface "${p.name}" is a ${p.link.kind ?? 'device'}, not a Linux bridge`,
          { field: 'host' },
        );
      return { mode: 'bridge', name: p.name, link: p.link, mtu: p.link.mtu ?? 1500, created: false };
    }
    if (!p.createBridge) throw bridgeNotFound(p.name, 'Linux bridge');
    await p.host.rtnl.link.add({ name: p.name, kind: 'bridge', up: true });
    return { mode: 'bridge', name: p.name, link: await p.host.rtnl.link.get(p.name), mtu: 1500, created: true };
  },

  settings(plan, target) {
    if (plan.vlan !== undefined)
      throw invalidArgument(
        'vlan',
        'VLAN configuration is not supported for a Linux bridge; use an Open vSwitch bridge',
      );
    refuseTrunks(plan);
    return inheritedMtu(plan, target);
  },

  async apply(a, rb) {
    await addVeth(a, rb, a.record.host);
    const guestLink = await configureGuestEnd(a, rb);
    return guestLink !== undefined ? { guestLink } : {};
  },

  complete: completeOnHost,
  find: findOnHost,
  remove: removeHostEnd,
};
