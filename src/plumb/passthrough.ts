/**
 * pipework's `route`, `rule` and `tc` pass-throughs, inside a guest's namespace: `route`
 * and `rule` natively; `tc` runs the tc binary in the namespace, jailed (./jail.ts: it cannot write a host file).
 * Equivalent to: ip netns exec G ip route|ip rule|tc ARGS…
 */
import type { Guest } from '../guest/resolve.js';
import { openRouteTransport } from '../netlink/native-transport.js';
import { Rtnl } from '../rtnl/index.js';
import { runInNetns } from './jail.js';

export type PassthroughTool = 'route' | 'rule' | 'tc';

export async function passthrough(guest: Guest, tool: PassthroughTool, args: string[]): Promise<void> {
  if (tool === 'tc') {
    await runInNetns(guest.netns, ['tc', ...args]);
    return;
  }
  const rtnl = new Rtnl(openRouteTransport(guest.netns.fd, guest.netns.label));
  try {
    // Loaded on use only (CommonJS require: a dynamic import() would go through the ESM loader).
    const { runRoute, runRule } = require('./ip-words.js') as typeof import('./ip-words.js');
    await (tool === 'route' ? runRoute(rtnl, args) : runRule(rtnl, args));
  } finally {
    rtnl.close();
  }
}
