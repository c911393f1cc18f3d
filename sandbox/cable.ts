/**
 * A "physical" cable between two emulated hosts: a veth pair with one end in each host's
 * namespace, both ends up. What a host does with its end (a bridge port, an uplink, an
 * address) is up to it; the cable goes when either namespace is deleted.
 */
import { must } from './exec.js';

export interface CableEnd {
  /** The host's network namespace. */
  netns: string;
  /** The NIC's name there (`eth1`). */
  nic: string;
}

/** Equivalent to: ip -n A link add NA type veth peer name NB netns B ; ip -n A link set NA up ; ip -n B link set NB up */
export async function connectHosts(a: CableEnd, b: CableEnd): Promise<void> {
  await must(['ip', '-n', a.netns, 'link', 'add', a.nic, 'type', 'veth', 'peer', 'name', b.nic, 'netns', b.netns]);
  await must(['ip', '-n', a.netns, 'link', 'set', a.nic, 'up']);
  await must(['ip', '-n', b.netns, 'link', 'set', b.nic, 'up']);
}
