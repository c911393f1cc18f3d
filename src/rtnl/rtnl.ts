/**
 * The rtnetlink entry point: one object per namespace-bound socket.
 *
 *   const rtnl = new Rtnl(openRouteTransport(nsFd));
 *   await rtnl.link.add({ name: 'h1', kind: 'veth', peer: { name: 'eth1', netnsFd } });
 *   await rtnl.link.set('h1', { up: true });
 *   rtnl.close();
 */
import { NetlinkEngine, type EngineOptions } from '../netlink/engine.js';
import type { NetlinkTransport } from '../netlink/transport.js';
import { AddressVerbs } from './address.js';
import { LinkVerbs } from './link.js';
import { NeighVerbs } from './neigh.js';
import { RouteVerbs } from './route.js';
import { RuleVerbs } from './rule.js';

export class Rtnl {
  readonly engine: NetlinkEngine;
  readonly link: LinkVerbs;
  readonly addr: AddressVerbs;
  readonly route: RouteVerbs;
  readonly rule: RuleVerbs;
  readonly neigh: NeighVerbs;

  constructor(transport: NetlinkTransport | NetlinkEngine, options: EngineOptions = {}) {
    this.engine = transport instanceof NetlinkEngine ? transport : new NetlinkEngine(transport, options);
    this.link = new LinkVerbs(this.engine);
    const index = (dev: string | number): Promise<number> => this.link.index(dev);
    this.addr = new AddressVerbs(this.engine, index);
    this.route = new RouteVerbs(this.engine, index);
    this.rule = new RuleVerbs(this.engine);
    this.neigh = new NeighVerbs(this.engine);
  }

  /** Close the socket; pending requests reject. */
  close(): void {
    this.engine.close();
  }
}
