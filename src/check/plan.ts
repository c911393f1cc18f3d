/**
 * Which pairs to probe and what each should give, from the topology: two attachments in
 * the same segment and each inside the other's subnet reach each other; every other pair
 * must not. A segment is a bridge's VLAN (the recorded access tag; untagged is VLAN 0; a
 * trunk port's untagged interface is in no VLAN unless it carries every VLAN) — or, for an
 * attachment to an OVN network (mode `ovn`), that network, whatever port of br-int it has:
 * OVN, not the VLAN tag, decides what it reaches. The expectation comes from netplumb's
 * records (what was asked for), so a port moved to another VLAN behind netplumb's back
 * shows as a leak. Pure: no I/O.
 */
import { bridgePorts } from '../topology/build.js';
import type { Port, Topology } from '../topology/model.js';
import { ipPrefix, type IpPrefix } from '../validate.js';
import type { CheckedAttachment } from './model.js';

export interface Participant extends CheckedAttachment {
  /** The topology port, for the guest's interface name. */
  port: Port;
  prefixes: IpPrefix[];
  /**
   * What it reaches within (`BRIDGE vlan N`, `network NAME`), or undefined for none: a trunk
   * port with a VLAN list, an OVN attachment whose network is not recorded.
   */
  segment: string | undefined;
}

export interface PlannedPair {
  from: Participant;
  to: Participant;
  expected: boolean;
  /** Across bridges or VLANs: a reply here is a leak. */
  crossSegment: boolean;
  /** The destination address, and the source's prefix of the same family. */
  target?: IpPrefix;
  skip?: string;
}

function prefixesOf(addresses: readonly string[]): IpPrefix[] {
  const out: IpPrefix[] = [];
  for (const a of addresses) {
    try {
      out.push(ipPrefix('address', a));
    } catch {
      // an address netplumb cannot parse is not probed
    }
  }
  return out;
}

/** Does `p` (address/len) contain `addr`? */
export function contains(p: IpPrefix, addr: IpPrefix): boolean {
  if (p.family !== addr.family) return false;
  for (let bit = 0; bit < p.prefixLen; bit++) {
    const mask = 0x80 >> (bit & 7);
    if (((p.bytes[bit >> 3] ?? 0) & mask) !== ((addr.bytes[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * netplumb's attachments of the topology, with what check needs of each; `networks`: the
 * OVN network of each OVN attachment, by attachment id, as its record says.
 */
export function participants(t: Topology, networks: ReadonlyMap<string, string> = new Map()): Participant[] {
  const out: Participant[] = [];
  for (const b of t.bridges)
    for (const port of bridgePorts(b)) {
      const a = port.attachment;
      if (a === undefined) continue;
      const addresses = a.interface?.addresses.length ? a.interface.addresses : a.recorded.addresses;
      const trunks = a.recorded.trunks;
      const ovn = a.mode === 'ovn';
      const network = ovn ? networks.get(a.id) : undefined;
      const vlan = ovn
        ? undefined
        : (a.recorded.vlan ??
          (trunks !== undefined && trunks.length > 0 ? undefined : a.recorded.complete ? 0 : undefined));
      const broken = port.issues.find((i) => i.severity === 'broken');
      const drift = port.issues
        .filter((i) => i.severity === 'drift')
        .map(({ code, reason, fix }) => ({ code, reason, fix }));
      out.push({
        id: a.id,
        label: `${a.guest.name ?? a.guest.id.slice(0, 12)} ${a.ifname}`,
        guest: a.guest.name ?? a.guest.id,
        ifname: a.ifname,
        bridge: a.recorded.bridge,
        ...(vlan !== undefined ? { vlan } : {}),
        ...(network !== undefined ? { network } : {}),
        ...(trunks !== undefined ? { trunks } : {}),
        addresses: [...addresses],
        ...(broken !== undefined ? { broken: broken.code } : {}),
        ...(drift.length > 0 ? { drift } : {}),
        port,
        prefixes: prefixesOf(addresses),
        segment: ovn
          ? network !== undefined
            ? `network ${network}`
            : undefined
          : vlan !== undefined
            ? `${a.recorded.bridge} vlan ${vlan}`
            : undefined,
      });
    }
  return out.sort((x, y) => x.label.localeCompare(y.label, undefined, { numeric: true }));
}

/** Every ordered pair of distinct participants, with its expectation, or why it is not probed. */
export function planPairs(ps: readonly Participant[], opts: { strict?: boolean } = {}): PlannedPair[] {
  const pairs: PlannedPair[] = [];
  for (const from of ps)
    for (const to of ps) {
      if (from === to) continue;
      const sameSegment = from.segment !== undefined && from.segment === to.segment;
      // The destination: its first address of a family the source has too.
      const target = to.prefixes.find((d) => from.prefixes.some((s) => s.family === d.family));
      const source = target === undefined ? undefined : from.prefixes.find((s) => s.family === target.family);
      const expected =
        sameSegment &&
        target !== undefined &&
        source !== undefined &&
        contains(source, target) &&
        contains(target, source);
      const base = { from, to, expected, crossSegment: !sameSegment, ...(target !== undefined ? { target } : {}) };
      const broken = from.broken ?? to.broken;
      if (from.guest === to.guest && from.port.attachment?.guest.id === to.port.attachment?.guest.id)
        pairs.push({ ...base, skip: 'the same guest: its own addresses are local' });
      else if (broken !== undefined && opts.strict !== true)
        pairs.push({
          ...base,
          skip: `${from.broken !== undefined ? from.label : to.label}: ${broken} (see netplumb show)`,
        });
      else if (target === undefined) pairs.push({ ...base, skip: 'no address of a common family' });
      else pairs.push(base);
    }
  return pairs;
}
