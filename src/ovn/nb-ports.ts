/**
 * Logical switch port adds and deletes from concurrent attaches and detaches, coalesced:
 * one northbound transaction per batch. A member that fails, fails alone:
 *  - its static address is held by another port of the switch, or by a member before it
 *    in the batch: CONFLICT, for it alone; the transaction then asserts that the switch's
 *    ports are still those checked (another host adding a port meanwhile fails it, and the
 *    batch is checked again and retried);
 *  - the transaction was refused (a duplicate port name …): nothing was committed, so each
 *    member is retried alone and only the faulty one fails;
 *  - its switch was deleted meanwhile: NOT_FOUND for its members;
 *  - outcome unknown (connection lost): every member fails with that.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { AddedLogicalPort, LogicalPortSpec, Northbound, SwitchPortsRequest } from '../ovsdb/nb.js';
import { Batcher, type Settled } from '../plumb/batcher.js';
import { addressConflict, holderOf } from './ipam.js';

export interface LogicalPortAdd {
  switchUuid: string;
  /** The network's name, for messages. */
  network: string;
  port: LogicalPortSpec;
  /** A static address (no other port of the switch may hold it). */
  staticIp?: string;
}

/** How often a batch is checked again after another writer changed a switch's ports meanwhile. */
const MAX_ATTEMPTS = 8;

const ok = <R>(value: R): Settled<R> => ({ ok: true, value });
const fail = <R>(error: unknown): Settled<R> => ({ ok: false, error });
const isRetry = (e: unknown): boolean => e instanceof NetplumbError && e.details.retry === true;

export class LogicalPortQueue {
  readonly #adds: Batcher<LogicalPortAdd, AddedLogicalPort>;
  readonly #dels: Batcher<string, void>;

  constructor(private readonly northbound: () => Promise<Northbound>) {
    this.#adds = new Batcher((items) => this.#applyAdds(items));
    this.#dels = new Batcher((uuids) => this.#applyDels(uuids));
  }

  /** Equivalent to: ovn-nbctl lsp-add SWITCH PORT -- lsp-set-addresses … -- lsp-set-port-security … */
  add(req: LogicalPortAdd): Promise<AddedLogicalPort> {
    return this.#adds.submit(req);
  }

  /** Equivalent to: ovn-nbctl --if-exists lsp-del PORT (this exact row) */
  del(portUuid: string): Promise<void> {
    return this.#dels.submit(portUuid);
  }

  async #applyAdds(items: LogicalPortAdd[]): Promise<Settled<AddedLogicalPort>[]> {
    const nb = await this.northbound();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(nb, items);
      } catch (e) {
        if (isRetry(e) && attempt < MAX_ATTEMPTS) {
          // Another writer changed a switch: let its update reach the cache, then check again.
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
          continue;
        }
        if (items.length === 1 || (e instanceof NetplumbError && e.code === ErrorCode.OUTCOME_UNKNOWN))
          return items.map(() => fail(e));
        return Promise.all(items.map((it) => this.#applyAdds([it]).then((r) => r[0] ?? fail(e))));
      }
    }
  }

  /** One transaction for the members whose addresses are free; the others fail now. Throws the transaction's error. */
  async #attempt(nb: Northbound, items: readonly LogicalPortAdd[]): Promise<Settled<AddedLogicalPort>[]> {
    const results: Settled<AddedLogicalPort>[] = new Array(items.length);
    const bySwitch = new Map<string, number[]>();
    items.forEach((it, i) => {
      bySwitch.set(it.switchUuid, [...(bySwitch.get(it.switchUuid) ?? []), i]);
    });
    const requests: SwitchPortsRequest[] = [];
    const members: number[][] = [];
    for (const [switchUuid, idx] of bySwitch) {
      const sw = await nb.getSwitch(switchUuid);
      const first = items[idx[0] as number] as LogicalPortAdd;
      if (sw === undefined) {
        for (const i of idx) results[i] = fail(networkGone(first.network, nb.remote));
        continue;
      }
      const ports = await nb.portsOf(sw);
      const taken = new Map<string, string>();
      const live = idx.filter((i) => {
        const it = items[i] as LogicalPortAdd;
        if (it.staticIp === undefined) return true;
        const holder = holderOf(it.staticIp, ports)?.name ?? taken.get(it.staticIp);
        if (holder !== undefined) {
          results[i] = fail(addressConflict(it.staticIp, holder, it.network));
          return false;
        }
        taken.set(it.staticIp, it.port.name);
        return true;
      });
      if (live.length === 0) continue;
      const checked = live.some((i) => items[i]?.staticIp !== undefined);
      requests.push({
        switchUuid,
        ports: live.map((i) => (items[i] as LogicalPortAdd).port),
        ...(checked ? { expectPorts: sw.ports } : {}),
      });
      members.push(live);
    }
    if (requests.length === 0) return results;
    const { added, missing } = await nb.addPorts(requests);
    members.forEach((idx, k) => {
      idx.forEach((i, j) => {
        const port = added[k]?.[j];
        results[i] =
          missing.includes(k) || port === undefined
            ? fail(networkGone((items[i] as LogicalPortAdd).network, nb.remote))
            : ok(port);
      });
    });
    return results;
  }

  async #applyDels(uuids: string[]): Promise<Settled<void>[]> {
    const nb = await this.northbound();
    try {
      await nb.delPortRows(uuids);
      return uuids.map(() => ok(undefined));
    } catch (e) {
      if (uuids.length === 1) return [fail(e)];
      return Promise.all(uuids.map((u) => nb.delPortRows([u]).then(() => ok(undefined), fail<void>)));
    }
  }
}

function networkGone(network: string, remote: string): NetplumbError {
  return new NetplumbError(
    ErrorCode.NOT_FOUND,
    `network "${network}" was deleted from ${remote} during the attach; nothing was added to it`,
    { field: 'network' },
  );
}
