/**
 * DEL: remove the container's attachment on this interface — found by container id and
 * interface, through its namespace while it exists, by its record once it is gone — then
 * release its address (IPAM DEL). Nothing there, or the namespace gone, is success.
 *
 * Equivalent to: ovs-vsctl --if-exists del-port HOST ; ip link del HOST ; host-local DEL
 */
import type { CommandIo } from '../cli/io.js';
import { cniGuestId } from '../plumb/cni-owner.js';
import type { GuestRef } from '../plumb/spec.js';
import type { CniCall } from './args.js';
import type { NetConf } from './config.js';
import { openCniEngine } from './engine.js';
import { execIpam } from './ipam.js';
import { ipamCallOf } from './ipam-call.js';
import { inSandbox } from './sandbox.js';

export async function cniDel(io: CommandIo, conf: NetConf, call: CniCall): Promise<void> {
  const guest: GuestRef =
    call.netns !== undefined && (await sandboxThere(call.netns)) ? { path: call.netns } : cniGuestId(call.containerId);
  const engine = await openCniEngine(io, conf);
  try {
    await engine.detach({ guest, ifname: call.ifname, cniContainerId: call.containerId });
  } finally {
    await engine.close();
  }
  const ipamCall = ipamCallOf(io, conf);
  if (ipamCall !== undefined) await execIpam(ipamCall, 'DEL');
}

/** Is the namespace still there (a path left after it was torn down is no namespace)? */
async function sandboxThere(path: string): Promise<boolean> {
  try {
    return await inSandbox(path, async () => true);
  } catch {
    return false;
  }
}
