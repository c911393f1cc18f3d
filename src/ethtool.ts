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
import { ifName } from './validate.js';

/**
 * Equivalent to: ip netns exec G ethtool -K IF tx on|off — through an inet socket made in
 * the namespace (see netns/sockets.ts), off the event loop.
 */
export async function setTxChecksum(
  sockets: { inetFd: number; label: string },
  ifname: string,
  on: boolean,
): Promise<void> {
  const err = await native().ethtoolTxChecksum(sockets.inetFd, ifName('ifname', ifname), on);
  if (err)
    throw fromSysError(err, `ethtool -K ${ifname} tx ${on ? 'on' : 'off'} in ${sockets.label}`, { field: 'ifname' });
}
