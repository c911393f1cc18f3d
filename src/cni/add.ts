/**
 * ADD: refuse an interface that exists, ask the IPAM plugin for the addresses, attach through
 * the engine (its rollback undoes a failed attach) with the first, add the others and the
 * other routes, and print the result. A failure after the IPAM plugin gave addresses
 * detaches what was made and releases them (IPAM DEL), so nothing is left.
 *
 * Equivalent to: host-local ADD ; ip link add … type veth peer … ; ovs-vsctl add-port BR HOST tag=VLAN ; ip -n NS addr add …
 */
import type { CommandIo } from '../cli/io.js';
import { ErrorCode, EXIT_CODES } from '../errors.js';
import { specOf } from '../plumb/plan.js';
import type { CniCall } from './args.js';
import { attachPlan } from './attach-plan.js';
import type { NetConf } from './config.js';
import { openCniEngine } from './engine.js';
import { CniError, NETPLUMB_CODE_BASE } from './errors.js';
import { execIpam } from './ipam.js';
import { ipamCallOf } from './ipam-call.js';
import { ipamPlan, parseIpamResult, type IpamResult } from './ipam-result.js';
import { addMoreAddressing } from './more-addressing.js';
import { addResult, type CniResult } from './result.js';
import { hostLinkMac, inSandbox } from './sandbox.js';

export async function cniAdd(io: CommandIo, conf: NetConf, call: CniCall): Promise<CniResult> {
  const sandbox = call.netns as string;
  await refuseExisting(io, sandbox, call.ifname);
  // Opened before the IPAM plugin runs: a call the daemon hands back must not have asked for an address.
  const engine = await openCniEngine(io, conf);
  try {
    const ipamCall = ipamCallOf(io, conf);
    const ipam: IpamResult | undefined =
      ipamCall === undefined ? undefined : parseIpamResult(ipamCall.type, await execIpam(ipamCall, 'ADD'));
    try {
      const { ip, more } = ipamPlan(ipam);
      const attached = await engine.attach(specOf(attachPlan(conf, call, ip)));
      if (!attached.changed) throw alreadyThere(call.ifname, sandbox);
      await addMoreAddressing(sandbox, call.ifname, more).catch(async (e: unknown) => {
        await engine.detach({ guest: { path: sandbox }, ifname: call.ifname, cniContainerId: call.containerId });
        throw e;
      });
      const [guestLink, hostMac] = await Promise.all([
        inSandbox(sandbox, (rtnl) => rtnl.link.get(call.ifname)),
        attached.hostLink === undefined ? undefined : hostLinkMac(attached.hostLink),
      ]);
      return addResult(
        conf.cniVersion,
        {
          ...(attached.hostLink !== undefined
            ? { host: { name: attached.hostLink, ...(hostMac !== undefined ? { mac: hostMac } : {}) } }
            : {}),
          container: {
            name: call.ifname,
            mac: guestLink.mac ?? attached.record.mac,
            sandbox,
            ...(guestLink.mtu !== undefined ? { mtu: guestLink.mtu } : {}),
          },
        },
        ipam,
      );
    } catch (e) {
      // The address goes back: nothing of this ADD is left.
      if (ipamCall !== undefined) await execIpam(ipamCall, 'DEL').catch(() => undefined);
      throw e;
    }
  } finally {
    await engine.close();
  }
}

/** ADD fails when the container already has an interface of that name. */
async function refuseExisting(io: CommandIo, sandbox: string, ifname: string): Promise<void> {
  if ((await inSandbox(sandbox, (rtnl) => rtnl.link.find(ifname), io)) !== undefined)
    throw alreadyThere(ifname, sandbox);
}

function alreadyThere(ifname: string, sandbox: string): CniError {
  return new CniError(
    NETPLUMB_CODE_BASE + EXIT_CODES[ErrorCode.ALREADY_EXISTS],
    `the container (${sandbox}) already has an interface "${ifname}": DEL it first, or choose another CNI_IFNAME`,
    'CNI_IFNAME',
  );
}
