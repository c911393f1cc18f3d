/**
 * The registry of attach modes, as src/rtnl/kinds/ is of link kinds: adding a mode is one
 * module and one line here; nothing else in the engine knows about individual modes.
 */
import { ErrorCode, NetplumbError } from '../../errors.js';
import type { AttachMode } from '../spec.js';
import { bridge } from './bridge.js';
import { dummy } from './dummy.js';
import { macvlan } from './macvlan.js';
import type { HostProbe, HostTarget, Mode, RemoteStore } from './mode.js';
import { ovn } from './ovn.js';
import { ovs } from './ovs.js';
import { phys } from './phys.js';

/** Every mode, by the name attachments record (`satisfies`: each AttachMode has its module). */
export const MODES = { ovs, bridge, macvlan, dummy, phys, ovn } as const satisfies Readonly<Record<AttachMode, Mode>>;

/**
 * The order in which modes look at a host interface nobody named a mode for, as pipework
 * does: a Linux bridge, an OVS bridge, a `dummy*` name, a NIC. A moved NIC is only ever asked for.
 */
const DETECTION_ORDER: readonly Mode[] = [bridge, ovs, dummy, macvlan];

/** Every store a mode keeps objects in, once each. */
export const REMOTE_STORES: readonly RemoteStore[] = [...new Set(Object.values(MODES).flatMap((m) => m.stores))];

/** The mode of that name, or undefined for a name this netplumb does not know (a record written by another version). */
export function modeOf(name: string): Mode | undefined {
  return Object.hasOwn(MODES, name) ? MODES[name as AttachMode] : undefined;
}

/** The mode an attachment was made with, or UNSUPPORTED when this netplumb does not know it. */
export function modeOfRecord(r: { id: string; mode: string }): Mode {
  const mode = modeOf(r.mode);
  if (mode === undefined)
    throw new NetplumbError(
      ErrorCode.UNSUPPORTED,
      `attachment ${r.id} was made in mode "${r.mode}", which this version of netplumb does not know; remove it with the netplumb that made it`,
      { field: 'mode', attachment: r.id },
    );
  return mode;
}

/** The host side: the mode asked for takes it (or refuses it); else the first mode that recognises it. */
export async function targetOf(probe: HostProbe, asked: AttachMode | undefined): Promise<HostTarget | undefined> {
  if (asked !== undefined) return MODES[asked].target(probe);
  for (const mode of DETECTION_ORDER) {
    const target = await mode.detect?.(probe);
    if (target !== undefined) return target;
  }
  return undefined;
}
