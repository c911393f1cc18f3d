/**
 * The one ethtool setting netplumb needs: TX checksum offload.
 *
 * Open vSwitch's userspace datapath (`datapath_type=netdev`, used where the kernel has no
 * OVS module) reads frames from a veth with an AF_PACKET socket and forwards them as they
 * are; a TCP segment whose checksum the sender left to "hardware" reaches the other guest
 * with a wrong checksum and is dropped (ping works, TCP does not). With TX checksum
 * offload off on the guest's side, the guest's stack computes every checksum itself.
 */
import { fromSysError } from './errors.js';
import { native } from './native.js';
import type { Netns } from './netns/index.js';
import { ifName } from './validate.js';

/** Equivalent to: ip netns exec G ethtool -K IF tx on|off */
export function setTxChecksum(ns: Netns | undefined, ifname: string, on: boolean): void {
  const err = native().setTxChecksum(ns?.fd ?? -1, ifName('ifname', ifname), on);
  if (err) throw fromSysError(err, `ethtool -K ${ifname} tx ${on ? 'on' : 'off'} in ${ns?.label ?? 'this namespace'}`, { field: 'ifname' });
}
