/**
 * OVS port adds and deletes from concurrent attaches/detaches, coalesced: one transaction
 * (and one datapath-applied wait) per batch and bridge. A member that fails, fails alone:
 *  - the transaction was refused (duplicate name, bridge gone…): nothing was committed,
 *    so each member is retried alone and only the faulty one fails;
 *  - committed but not applied by ovs-vswitchd: each member is judged by its own
 *    interface's ofport/error;
 *  - outcome unknown (connection lost): every member fails with that, and each attach's
 *    rollback deletes its port if it was written.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { AddedPort, PortSpec, Vswitch } from '../ovsdb/index.js';
import { Batcher, type Settled } from './batcher.js';

interface AddRequest {
  bridge: string;
  spec: PortSpec;
}

/**
 * ovs-vswitchd applies a batch in one pass whose cost grows with the ports in it (on the
 * userspace datapath, measured: 3–15 ms a port with a thousand ports on the bridge), so a
 * batch of n gets the apply timeout plus this much per port: a stuck ovs-vswitchd is still
 * reported after about the timeout, a busy one is not mistaken for a stuck one.
 */
const APPLY_MS_PER_PORT = 40;

const ok = <R>(value: R): Settled<R> => ({ ok: true, value });
const fail = <R>(error: unknown): Settled<R> => ({ ok: false, error });
const hasCode = (e: unknown, c: string): boolean => e instanceof NetplumbError && e.code === c;

export class OvsPortQueue {
  readonly #adds: Batcher<AddRequest, AddedPort>;
  readonly #dels: Batcher<string, void>;

  constructor(
    private readonly vswitch: () => Promise<Vswitch>,
    private readonly applyTimeoutMs: number,
  ) {
    this.#adds = new Batcher((items) => this.#applyAdds(items));
    this.#dels = new Batcher((names) => this.#applyDels(names));
  }

  /** Equivalent to: ovs-vsctl add-port BRIDGE NAME [tag=…] (waits for ovs-vswitchd; reports ofport). */
  add(bridge: string, spec: PortSpec): Promise<AddedPort> {
    return this.#adds.submit({ bridge, spec });
  }

  /** Equivalent to: ovs-vsctl --if-exists del-port NAME */
  del(name: string): Promise<void> {
    return this.#dels.submit(name);
  }

  /**
   * Delete the port only if it is the one this attachment wrote (its external_ids say so):
   * a rollback must never remove a same-named port that belongs to someone else.
   */
  async delOwned(name: string, attachmentId: string): Promise<void> {
    const port = await (await this.vswitch()).getPort(name);
    if (port === undefined || port.externalIds['netplumb.attachment'] !== attachmentId) return;
    await this.del(name);
  }

  async #applyAdds(items: AddRequest[]): Promise<Settled<AddedPort>[]> {
    const vs = await this.vswitch();
    const results: Settled<AddedPort>[] = new Array(items.length);
    const byBridge = new Map<string, number[]>();
    items.forEach((it, i) => {
      byBridge.set(it.bridge, [...(byBridge.get(it.bridge) ?? []), i]);
    });
    await Promise.all(
      [...byBridge].map(async ([bridge, idx]) => {
        const specs = idx.map((i) => (items[i] as AddRequest).spec);
        const settled = await this.#addGroup(vs, bridge, specs);
        idx.forEach((i, k) => {
          results[i] = settled[k] as Settled<AddedPort>;
        });
      }),
    );
    return results;
  }

  /** The apply deadline of a batch of n ports. */
  #wait(n: number): number {
    return this.applyTimeoutMs + (n - 1) * APPLY_MS_PER_PORT;
  }

  async #addGroup(vs: Vswitch, bridge: string, specs: PortSpec[]): Promise<Settled<AddedPort>[]> {
    const wait = this.#wait(specs.length);
    try {
      return (await vs.addPorts(bridge, specs, { wait })).ports.map(ok);
    } catch (e) {
      if (specs.length === 1 || hasCode(e, ErrorCode.OUTCOME_UNKNOWN)) return specs.map(() => fail(e));
      if (hasCode(e, ErrorCode.DATAPLANE_APPLY_FAILED))
        return Promise.all(specs.map((s) => this.#judgeApplied(vs, s.name, e)));
      return Promise.all(specs.map((s) => vs.addPort(bridge, s, { wait: this.#wait(1) }).then(ok, fail<AddedPort>)));
    }
  }

  /** After a committed batch was not fully applied: did this member's interface come up? */
  async #judgeApplied(vs: Vswitch, name: string, batchError: unknown): Promise<Settled<AddedPort>> {
    const [port, iface] = await Promise.all([vs.getPort(name), vs.getInterface(name)]);
    if (port && iface && iface.ofport !== undefined && iface.ofport > 0 && iface.error === undefined) {
      return ok({ name, portUuid: port.uuid, interfaceUuid: iface.uuid, ofport: iface.ofport, existed: false });
    }
    if (iface?.error !== undefined || iface?.ofport === -1) {
      return fail(
        new NetplumbError(
          ErrorCode.DATAPLANE_APPLY_FAILED,
          `ovs-vswitchd could not set up interface "${name}": ${iface.error ?? 'ofport -1'}`,
          { port: name, interfaceError: iface.error },
        ),
      );
    }
    return fail(batchError);
  }

  async #applyDels(names: string[]): Promise<Settled<void>[]> {
    const vs = await this.vswitch();
    // Wait for ovs-vswitchd to apply the delete, as ovs-vsctl does: a port of the same name
    // added before it has would be merged with the old one and keep its dead device. The
    // delete is committed either way: a vswitchd that does not apply it is not an error here.
    const del = (ns: string[]) =>
      vs.delPort(ns, { ifExists: true, wait: this.#wait(ns.length) }).catch((e: unknown) => {
        if (!hasCode(e, ErrorCode.DATAPLANE_APPLY_FAILED)) throw e;
      });
    try {
      await del(names);
      return names.map(() => ok(undefined));
    } catch (e) {
      if (names.length === 1) return [fail(e)];
      return Promise.all(names.map((n) => del([n]).then(() => ok(undefined), fail<void>)));
    }
  }
}
