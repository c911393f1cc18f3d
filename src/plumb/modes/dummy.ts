/** A dummy interface in the guest: an address holder with no host side (`dummy*` hosts, or asked for). */
import { createInGuest, finishInGuest, findInGuest, removeFromGuest } from './guest-link.js';
import type { Mode } from './mode.js';
import { inheritedMtu, refuseTrunks } from './settings.js';

export const dummy: Mode = {
  name: 'dummy',
  side: 'guest',
  stores: [],

  /** A `dummy*` name that is no interface: nothing on the host to attach to. */
  async detect(p) {
    return p.link === undefined && p.name.startsWith('dummy') ? dummy.target(p) : undefined;
  },

  async target(p) {
    return { mode: 'dummy', name: p.name, mtu: 1500, created: false };
  },

  settings(plan, target) {
    refuseTrunks(plan);
    return inheritedMtu(plan, target);
  },

  async apply(a, rb) {
    await createInGuest(a, rb, { kind: 'dummy' });
    await finishInGuest(a, rb);
    return {};
  },

  find: findInGuest,
  remove: removeFromGuest,
};
