/** pipework's `--wait`, and an attach's `waitUpMs`: until the interface is up with carrier (pipework#243: existence is not enough). */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Link, Rtnl } from '../rtnl/index.js';

export async function waitUp(rtnl: Rtnl, ifname: string, timeoutMs: number): Promise<Link> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await rtnl.link.find(ifname);
    if (l?.flags.up && l.carrier !== false && (l.operstate === 'up' || l.operstate === 'unknown')) return l;
    if (Date.now() >= deadline) {
      throw new NetplumbError(
        ErrorCode.UNAVAILABLE,
        `interface "${ifname}" is ${l === undefined ? 'absent' : `not up (operstate ${l.operstate})`} after ${timeoutMs} ms`,
        { field: 'ifname' },
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
