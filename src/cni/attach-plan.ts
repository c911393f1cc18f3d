/**
 * A CNI call as the engine's attach plan: the configuration's target, the call's
 * namespace, interface and container id, the IPAM plugin's address — every value already
 * parsed (config.ts, args.ts, ipam-result.ts), so the engine takes the plan as it is.
 */
import { parseGuestRef } from '../guest/ref.js';
import type { AttachPlan, IpPlan } from '../plumb/plan.js';
import type { CniCall } from './args.js';
import type { NetConf } from './config.js';
import { invalidEnv } from './errors.js';

/** The plan of an ADD: `conf` for `call`, with the address `ip`. */
export function attachPlan(conf: NetConf, call: CniCall, ip: IpPlan): AttachPlan {
  const t = conf.target;
  const mac = call.args.mac ?? conf.mac;
  const common = {
    guest: sandboxRef(call),
    ifname: call.ifname,
    ip,
    ...(mac !== undefined ? { mac } : {}),
    ...(conf.mtu !== undefined ? { mtu: conf.mtu } : {}),
    cni: { containerId: call.containerId, network: conf.name },
  };
  if (t.mode === 'macvlan')
    return {
      host: { name: t.master },
      mode: 'macvlan',
      ...common,
      ...(t.macvlanMode ? { macvlanMode: t.macvlanMode } : {}),
    };
  if (t.mode === 'bridge') return { host: { name: t.bridge }, mode: 'bridge', ...common };
  return {
    host: { name: t.bridge },
    mode: 'ovs',
    ...common,
    ...(t.vlan !== undefined ? { vlan: t.vlan } : {}),
    ...(t.trunks !== undefined ? { trunks: t.trunks } : {}),
    ...(t.ofportRequest !== undefined ? { ofportRequest: t.ofportRequest } : {}),
  };
}

/** CNI_NETNS as the guest (a namespace file); code 4 when it is not a usable path. */
function sandboxRef(call: CniCall): AttachPlan['guest'] {
  if (call.netns === undefined) throw invalidEnv('CNI_NETNS', "not set (the container's network namespace)");
  try {
    return parseGuestRef({ path: call.netns });
  } catch (e) {
    throw invalidEnv('CNI_NETNS', (e as Error).message);
  }
}
