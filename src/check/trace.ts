/**
 * No trace in the guests: probes make the kernel resolve neighbours (ARP, NDP), on both
 * ends. The neighbour entries of the probed interfaces are read before; afterwards every
 * entry that was not there, for a probed address or a probed interface's MAC, is deleted
 * — first all of them (which also stops resolutions still retrying), then once more
 * after a moment, for what a late ARP request recreated. Equivalent to:
 * ip -n G neigh show ; … ; ip -n G neigh del DST dev IF
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Netns } from '../netns/index.js';
import { openRouteIn } from '../netns/sockets.js';
import { Rtnl, type Neighbour } from '../rtnl/index.js';

export interface TracedGuest {
  netns: Netns;
  /** The probed interfaces of this guest (ifindex in its namespace). */
  ifindexes: number[];
}

const key = (n: Pick<Neighbour, 'index' | 'dst'>): string => `${n.index} ${n.dst}`;

export class NeighbourTrace {
  readonly #guests: { rtnl: Rtnl; ifindexes: Set<number>; before: Set<string> }[];

  private constructor(guests: { rtnl: Rtnl; ifindexes: Set<number>; before: Set<string> }[]) {
    this.#guests = guests;
  }

  /** Read the neighbours of each guest's probed interfaces. */
  static async begin(guests: readonly TracedGuest[]): Promise<NeighbourTrace> {
    const opened: { rtnl: Rtnl; ifindexes: Set<number>; before: Set<string> }[] = [];
    try {
      for (const g of guests) {
        const rtnl = new Rtnl((await openRouteIn(g.netns)).route);
        const ifindexes = new Set(g.ifindexes);
        opened.push({ rtnl, ifindexes, before: new Set() });
        const entry = opened.at(-1) as (typeof opened)[number];
        for (const n of await rtnl.neigh.list()) if (ifindexes.has(n.index)) entry.before.add(key(n));
      }
    } catch (e) {
      for (const o of opened) o.rtnl.close();
      throw e;
    }
    return new NeighbourTrace(opened);
  }

  /** Delete what the probes added (see above); how many entries were deleted. Closes the sockets. */
  async end(addresses: ReadonlySet<string>, macs: ReadonlySet<string>, settleMs = 150): Promise<number> {
    try {
      let removed = await this.#prune(addresses, macs);
      await new Promise((r) => setTimeout(r, settleMs));
      removed += await this.#prune(addresses, macs);
      return removed;
    } finally {
      for (const g of this.#guests) g.rtnl.close();
    }
  }

  async #prune(addresses: ReadonlySet<string>, macs: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    await Promise.all(
      this.#guests.map(async (g) => {
        for (const n of await g.rtnl.neigh.list()) {
          if (!g.ifindexes.has(n.index) || g.before.has(key(n))) continue;
          if (!addresses.has(n.dst) && !(n.lladdr !== undefined && macs.has(n.lladdr))) continue;
          try {
            await g.rtnl.neigh.del(n.index, n.dst);
            removed++;
          } catch (e) {
            if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) throw e;
          }
        }
      }),
    );
    return removed;
  }
}
