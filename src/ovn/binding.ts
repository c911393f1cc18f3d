/**
 * Waiting for OVN to take up a logical port: ovn-northd allocating its dynamic address,
 * ovn-controller binding it on this chassis (`external_ids:ovn-installed=true` on the OVS
 * interface, once its flows are installed) and ovn-northd reporting it `up` in the
 * northbound database. Each wait is bounded; a timeout names the side that did not converge.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Northbound } from '../ovsdb/nb.js';
import type { Vswitch } from '../ovsdb/vswitch.js';
import { allocatedIpv4 } from './ipam.js';
import type { Chassis } from './services.js';

/** Equivalent to: ovn-nbctl wait-until Logical_Switch_Port PORT dynamic_addresses!=[] ; then its IPv4 */
export async function waitAllocated(
  nb: Northbound,
  port: { uuid: string; name: string },
  network: string,
  timeoutMs: number,
): Promise<string> {
  await nb.waitPort(
    port.uuid,
    (row) => row === undefined || allocatedIpv4(row) !== undefined,
    timeoutMs,
    () =>
      new NetplumbError(
        ErrorCode.DATAPLANE_APPLY_FAILED,
        `ovn-northd did not allocate an address to logical port ${port.name} of network "${network}" within ${timeoutMs} ms: is ovn-northd running, and has the network's subnet a free address?`,
        { side: 'ovn-northd', port: port.name, timeoutMs },
      ),
  );
  const ip = allocatedIpv4(await nb.getPortRow(port.uuid));
  if (ip === undefined)
    throw new NetplumbError(
      ErrorCode.NOT_FOUND,
      `logical port ${port.name} was removed from the northbound database during the attach`,
      { port: port.name },
    );
  return ip;
}

/**
 * Both sides at once: ovn-controller's `ovn-installed` on the interface, and the port `up`
 * in the northbound database. Returns the time waited (ms).
 * Equivalent to: ovs-vsctl wait-until Interface IF external_ids:ovn-installed=true ;
 *                ovn-nbctl wait-until Logical_Switch_Port PORT up=true
 */
export async function waitBound(
  vs: Vswitch,
  nb: Northbound,
  chassis: Chassis,
  bound: { hostIfname: string; port: { uuid: string; name: string } },
  timeoutMs: number,
): Promise<number> {
  const t0 = performance.now();
  const { hostIfname, port } = bound;
  const [installed, up] = await Promise.allSettled([
    vs.waitInterface(
      hostIfname,
      (row) => row?.externalIds['ovn-installed'] === 'true',
      timeoutMs,
      () =>
        new NetplumbError(
          ErrorCode.DATAPLANE_APPLY_FAILED,
          `ovn-controller on chassis ${chassis.systemId} did not bind logical port ${port.name} within ${timeoutMs} ms (no external_ids:ovn-installed on interface ${hostIfname}): is it running and connected to the southbound database${chassis.southbound !== undefined ? ` ${chassis.southbound}` : ''}?`,
          { side: 'ovn-controller', port: port.name, timeoutMs },
        ),
    ),
    nb.waitPort(
      port.uuid,
      (row) => row === undefined || row.up === true,
      timeoutMs,
      () =>
        new NetplumbError(
          ErrorCode.DATAPLANE_APPLY_FAILED,
          `the northbound database did not show logical port ${port.name} up within ${timeoutMs} ms: is ovn-northd running?`,
          { side: 'ovn-northd', port: port.name, timeoutMs },
        ),
    ),
  ]);
  // Without ovn-controller's binding the port is never up either: that side is named first.
  if (installed.status === 'rejected') throw installed.reason;
  if (up.status === 'rejected') throw up.reason;
  return performance.now() - t0;
}
