/**
 * No trace in the guests: a probe that is answered makes both ends resolve each other
 * (ARP, NDP). The neighbour entries of the probed interfaces are read before; each wave's
 * entries are deleted when the wave is done (drop), and at the end every entry that was not
 * there, for a probed address or a probed interface's MAC, is deleted — then once more after
 * a moment, for what a late ARP request recreated. Equivalent to:
 * ip -n G neigh show ; … ; ip -n G neigh del DST dev IF
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Netns } from '../netns/index.js';
import { eachLimited } from '../limit.js';
import { openRouteIn } from '../netns/sockets.js';
import { Rtnl, type Neighbour } from '../rtnl/index.js';

export interface TracedGuest {
  netns: Netns;
  /** The probed interfaces of this guest (ifindex in its namespace). */
  ifindexes: number[];
}

const key = (n: Pick<Neighbour, 'index' | 'dst'>): string => `${n.index} ${n.dst}`;

interface Traced {
  rtnl: Rtnl;
  ifindexes: Set<number>;
  before: Set<string>;
}

/** One neighbour entry a probe made: in which guest, on which interface, for which address. */
export interface MadeEntry {
  netns: Netns;
  index: number;
  dst: string;
}

export class NeighbourTrace {
  readonly #guests: Map<Netns, Traced>;
  #removed = 0;

  private constructor(guests: Map<Netns, Traced>) {
    this.#guests = guests;
  }

  /** Read the neighbours of each guest's probed interfaces. */
  static async begin(guests: readonly TracedGuest[]): Promise<NeighbourTrace> {
    const opened = new Map<Netns, Traced>();
    try {
      await eachLimited(guests, 16, async (g) => {
        const rtnl = new Rtnl((await openRouteIn(g.netns)).route);
        const entry: Traced = { rtnl, ifindexes: new Set(g.ifindexes), before: new Set() };
        opened.set(g.netns, entry);
        for (const n of await rtnl.neigh.list()) if (entry.ifindexes.has(n.index)) entry.before.add(key(n));
      });
    } catch (e) {
      for (const o of opened.values()) o.rtnl.close();
      throw e;
    }
    return new NeighbourTrace(opened);
  }

  /** Delete these entries, each unless it was there before (gone already is fine). Equivalent to: ip -n G neigh del DST dev IF */
  async drop(entries: readonly MadeEntry[]): Promise<number> {
    let removed = 0;
    await eachLimited(entries, 32, async (e) => {
      const g = this.#guests.get(e.netns);
      if (g === undefined || g.before.has(key(e))) return;
      if (await deleteEntry(g.rtnl, e.index, e.dst)) removed++;
    });
    this.#removed += removed;
    return removed;
  }

  /** Delete what the probes added (see above); how many entries were deleted in all, drops included. Closes the sockets. */
  async end(addresses: ReadonlySet<string>, macs: ReadonlySet<string>, settleMs = 150): Promise<number> {
    try {
      this.#removed += await this.#prune(addresses, macs);
      await new Promise((r) => setTimeout(r, settleMs));
      this.#removed += await this.#prune(addresses, macs);
      return this.#removed;
    } finally {
      for (const g of this.#guests.values()) g.rtnl.close();
    }
  }

  async #prune(addresses: ReadonlySet<string>, macs: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    await eachLimited([...this.#guests.values()], 16, async (g) => {
      for (const n of await g.rtnl.neigh.list()) {
        if (!g.ifindexes.has(n.index) || g.before.has(key(n))) continue;
        if (!addresses.has(n.dst) && !(n.lladdr !== undefined && macs.has(n.lladdr))) continue;
        if (await deleteEntry(g.rtnl, n.index, n.dst)) removed++;
      }
    });
    return removed;
  }
}

/** Delete one entry; false when it was not there. */
async function deleteEntry(rtnl: Rtnl, index: number, dst: string): Promise<boolean> {
  try {
    await rtnl.neigh.del(index, dst);
    return true;
  } catch (e) {
    if (e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND) return false;
    throw e;
  }
}
