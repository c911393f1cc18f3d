/**
 * Oracles for OVN, read with ovn-nbctl, ovn-sbctl and ovs-vsctl only: the logical switch
 * ports of the northbound database, the southbound port bindings, what is left of ours.
 */
import type { OvnBed } from '../../sandbox/ovn-bed.js';
import type { OvnCentral } from '../../sandbox/ovn-central.js';
import { hostLinks, ourPorts } from './ours.js';

type Cell = string | number | boolean | [string, unknown];

function cellMap(c: Cell | undefined): Record<string, string> {
  return Array.isArray(c) && c[0] === 'map' ? Object.fromEntries(c[1] as [string, string][]) : {};
}

function cellSet(c: Cell | undefined): unknown[] {
  if (Array.isArray(c)) return c[0] === 'set' ? (c[1] as unknown[]) : [c[1]];
  return c === undefined ? [] : [c];
}

async function rows(ctl: (args: string[]) => Promise<string>, table: string, columns: string[]): Promise<Cell[][]> {
  return (
    JSON.parse(await ctl(['--format=json', `--columns=${columns.join(',')}`, 'list', table])) as { data: Cell[][] }
  ).data;
}

export interface NbPort {
  name: string;
  type: string;
  addresses: string[];
  portSecurity: string[];
  up: boolean;
  externalIds: Record<string, string>;
}

/** Equivalent to: ovn-nbctl list Logical_Switch_Port */
export async function nbPorts(central: OvnCentral): Promise<NbPort[]> {
  return (
    await rows(central.nbctl, 'Logical_Switch_Port', [
      'name',
      'type',
      'addresses',
      'port_security',
      'up',
      'external_ids',
    ])
  ).map((r) => ({
    name: String(r[0]),
    type: String(r[1]),
    addresses: cellSet(r[2]).map(String),
    portSecurity: cellSet(r[3]).map(String),
    up: cellSet(r[4])[0] === true,
    externalIds: cellMap(r[5]),
  }));
}

/** The northbound ports netplumb made for attachments. */
export async function ourNbPorts(central: OvnCentral): Promise<NbPort[]> {
  return (await nbPorts(central)).filter((p) => p.externalIds['netplumb.owner'] === 'netplumb' && p.type === '');
}

/** Equivalent to: ovn-sbctl list Port_Binding ; ovn-sbctl list Chassis: logical port → the chassis name it is bound on. */
export async function sbBindings(central: OvnCentral): Promise<Map<string, string | undefined>> {
  const chassis = new Map(
    (await rows(central.sbctl, 'Chassis', ['_uuid', 'name'])).map((r) => [String(cellSet(r[0])[0]), String(r[1])]),
  );
  return new Map(
    (await rows(central.sbctl, 'Port_Binding', ['logical_port', 'chassis'])).map((r) => {
      const c = cellSet(r[1])[0];
      return [String(r[0]), c === undefined ? undefined : chassis.get(String(c))];
    }),
  );
}

/** Everything of ours in the bed: NB logical ports, SB bindings of them, every host's OVS ports and host veths. */
export async function leftovers(bed: OvnBed): Promise<string[]> {
  const out: string[] = [];
  const nb = await ourNbPorts(bed.central);
  out.push(...nb.map((p) => `NB ${p.name}`));
  for (const [port] of await sbBindings(bed.central))
    if (port.startsWith('np-') && !port.startsWith('np-localnet-')) out.push(`SB ${port}`);
  for (const h of bed.hosts) {
    out.push(...(await ourPorts(h.ovs)).map((p) => `${h.name} OVS ${p.name}`));
    out.push(
      ...(await hostLinks(h.ovs))
        .filter((l) => l.ifalias?.startsWith('netplumb ') === true)
        .map((l) => `${h.name} veth ${l.ifname}`),
    );
  }
  return out;
}
