/**
 * Checks made before anything is changed: the process may configure the network.
 * (Reachability of OVSDB and the guest's identity are checked by the steps that need them,
 * still before the first change.)
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/** Effective capabilities of this process (the CapEff line of /proc/self/status). */
export function effectiveCapabilities(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/** Set once this process was seen to hold both: every attach checks, and reading /proc per attach stalled bursts. */
let confirmed = false;

/** Equivalent to: capsh --print | grep cap_net_admin,cap_sys_admin */
export function requireNetworkPrivileges(given?: bigint): void {
  if (given === undefined && confirmed) return;
  const caps = given ?? effectiveCapabilities();
  const missing = [
    ...((caps >> BigInt(CAP_NET_ADMIN)) & 1n ? [] : ['CAP_NET_ADMIN (to change links, addresses and routes)']),
    ...((caps >> BigInt(CAP_SYS_ADMIN)) & 1n ? [] : ['CAP_SYS_ADMIN (to enter network namespaces)']),
  ];
  if (missing.length > 0) {
    throw new NetplumbError(
      ErrorCode.PRIVILEGE,
      `netplumb needs ${missing.join(' and ')}; run it as root (sudo) or grant the capabilities. Nothing was changed`,
      { missing },
    );
  }
  if (given === undefined) confirmed = true;
}
