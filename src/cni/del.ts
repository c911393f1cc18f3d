/**
 * DEL: remove the container's attachment on this interface — found by container id and
 * interface, through its namespace while it exists, by its record once it is gone — and
 * release its address (IPAM DEL), the two at once. Nothing there, or the namespace gone, is
 * success.
 *
 * Equivalent to: ovs-vsctl --if-exists del-port HOST ; ip link del HOST ; host-local DEL
 */
import type { CommandIo } from '../cli/io.js';
import type { Engine } from '../engine/engine.js';
import { ErrorCode, NetplumbError } from '../errors.js';
import { cniGuestId } from '../plumb/cni-owner.js';
import { settleAll } from '../plumb/host-services.js';
import type { CniCall } from './args.js';
import type { NetConf } from './config.js';
import { openCniEngine } from './engine.js';
import { execIpam } from './ipam.js';
import { ipamCallOf } from './ipam-call.js';

export async function cniDel(io: CommandIo, conf: NetConf, call: CniCall): Promise<void> {
  // Opened first: a call the daemon hands back must not have released the address.
  const engine = await openCniEngine(io, conf);
  const ipamCall = ipamCallOf(io, conf);
  await settleAll([
    detach(engine, call).finally(() => engine.close()),
    ipamCall === undefined ? Promise.resolve() : execIpam(ipamCall, 'DEL').then(() => undefined),
  ]);
}

/** Through the namespace while it is one; by the record (`cni:<id>`) when it is gone or no namespace any more. */
async function detach(engine: Engine, call: CniCall): Promise<void> {
  const recorded = cniGuestId(call.containerId);
  const byRecord = () => engine.detach({ guest: recorded, ifname: call.ifname, cniContainerId: call.containerId });
  if (call.netns === undefined) return void (await byRecord());
  try {
    await engine.detach({ guest: { path: call.netns }, ifname: call.ifname, cniContainerId: call.containerId });
  } catch (e) {
    // A path left behind after its namespace was torn down (a file, not a namespace).
    if (!(e instanceof NetplumbError && e.code === ErrorCode.INVALID_ARGUMENT && e.details.field === 'netns')) throw e;
    await byRecord();
  }
}
