/**
 * The host side of an attach: the interface named (or the NIC with the MAC given), taken by
 * the mode asked for or, as pipework detects it, by the first mode that recognises it
 * (./modes/index.ts); a bridge is created when the plan allows it.
 */
import { existsSync } from 'node:fs';
import { ErrorCode, NetplumbError } from '../errors.js';
import type { Rtnl } from '../rtnl/index.js';
import type { HostServices } from './host-services.js';
import { hostNotFound } from './modes/host-errors.js';
import { targetOf } from './modes/index.js';
import type { HostTarget } from './modes/mode.js';
import type { AttachPlan } from './plan.js';

export type { HostTarget } from './modes/mode.js';

/** `netdev` (userspace) when the kernel has no Open vSwitch datapath module. */
export function defaultDatapathType(): string {
  return existsSync('/sys/module/openvswitch') ? 'system' : 'netdev';
}

export async function resolveHostTarget(plan: AttachPlan, host: HostServices): Promise<HostTarget> {
  const name = await hostName(plan, host.rtnl);
  const probe = {
    name,
    link: await host.rtnl.link.find(name),
    createBridge: plan.createBridge === true,
    ...(plan.network !== undefined ? { network: plan.network } : {}),
    host,
  };
  const target = await targetOf(probe, plan.mode);
  if (target === undefined) throw hostNotFound(name);
  return target;
}

/** The host interface's name: as given, or the one of the NIC with the given MAC. */
async function hostName(plan: AttachPlan, rtnl: Rtnl): Promise<string> {
  const host = plan.host;
  if ('name' in host) return host.name;
  const found = (await rtnl.link.list()).find((l) => l.mac === host.mac);
  if (found === undefined)
    throw new NetplumbError(ErrorCode.NOT_FOUND, `no host interface has MAC ${host.mac}`, { field: 'hostMac' });
  return found.name;
}
