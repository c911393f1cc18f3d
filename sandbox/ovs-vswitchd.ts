/** ovs-vswitchd of an emulated host: the switch, configured from the host's ovsdb-server. */
import type { SandboxNetns } from './netns.js';
import { ovsDaemon, type OvsDaemon } from './ovs-daemon.js';

/** Equivalent to: ip netns exec NETNS ovs-vswitchd --pidfile=DIR/vswitchd.pid --detach … REMOTE (on start()). */
export function ovsVswitchd(o: { dir: string; netns: SandboxNetns; remote: string }): OvsDaemon {
  return ovsDaemon({ name: 'vswitchd', program: 'ovs-vswitchd', args: [o.remote], dir: o.dir, netns: o.netns });
}
