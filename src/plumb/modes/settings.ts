/** Record settings most modes share. */
import { invalidArgument } from '../../errors.js';
import type { AttachPlan } from '../plan.js';
import type { HostTarget, ModeSettings } from './mode.js';

/** The MTU asked for, else the host side's (pipework PR #68). */
export function inheritedMtu(plan: AttachPlan, target: HostTarget): ModeSettings {
  return { mtu: plan.mtu ?? target.mtu };
}

/** Trunk ports are OVS ports: the other modes refuse them. */
export function refuseTrunks(plan: AttachPlan): void {
  if (plan.trunks !== undefined) throw invalidArgument('trunks', 'trunk ports need an Open vSwitch bridge');
}
