/**
 * Oracles for what netplumb owns, read with ovs-vsctl and `ip -json` only: OVS ports by
 * external_ids, their interfaces' state, and host links by alias.
 */
import { must } from '../../sandbox/exec.js';
import type { OvsInstance } from '../../sandbox/ovs.js';

export interface OvsPortState {
  name: string;
  externalIds: Record<string, string>;
  ofport: number | undefined;
  error: string;
}

type OvsCell = string | number | [string, unknown];

function cellMap(c: OvsCell | undefined): Record<string, string> {
  return Array.isArray(c) && c[0] === 'map' ? Object.fromEntries(c[1] as [string, string][]) : {};
}

function cellScalar(c: OvsCell | undefined): string | number | undefined {
  if (Array.isArray(c))
    return c[0] === 'set' && Array.isArray(c[1]) && c[1].length === 1 ? (c[1][0] as string | number) : undefined;
  return c;
}

async function table(ovs: OvsInstance, name: string, columns: string[]): Promise<OvsCell[][]> {
  const out = JSON.parse(await ovs.vsctl(['--format=json', `--columns=${columns.join(',')}`, 'list', name])) as {
    data: OvsCell[][];
  };
  return out.data;
}

/**
 * Every port but the bridges' own local ports, with its interface's ofport and error.
 * Equivalent to: ovs-vsctl list Bridge ; ovs-vsctl list Port ; ovs-vsctl list Interface
 */
export async function ovsPorts(ovs: OvsInstance): Promise<OvsPortState[]> {
  const bridges = new Set((await table(ovs, 'Bridge', ['name'])).map((r) => String(r[0])));
  const ifaces = new Map((await table(ovs, 'Interface', ['name', 'ofport', 'error'])).map((r) => [String(r[0]), r]));
  return (await table(ovs, 'Port', ['name', 'external_ids']))
    .filter((r) => !bridges.has(String(r[0])))
    .map((r) => {
      const i = ifaces.get(String(r[0]));
      const ofport = cellScalar(i?.[1]);
      return {
        name: String(r[0]),
        externalIds: cellMap(r[1]),
        ofport: typeof ofport === 'number' ? ofport : undefined,
        error: String(cellScalar(i?.[2]) ?? ''),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Ports carrying netplumb's owner mark. */
export async function ourPorts(ovs: OvsInstance): Promise<OvsPortState[]> {
  return (await ovsPorts(ovs)).filter((p) => p.externalIds['netplumb.owner'] === 'netplumb');
}

export interface HostLink {
  ifname: string;
  ifalias?: string;
}

/** Links of the namespace the OVS runs in (the emulated host). Equivalent to: ip -json -n NS link show */
export async function hostLinks(ovs: OvsInstance): Promise<HostLink[]> {
  return JSON.parse(await must(['ip', '-json', '-n', ovs.netns, 'link', 'show'])) as HostLink[];
}

/** Host links carrying netplumb's alias record. */
export async function ourLinks(ovs: OvsInstance): Promise<HostLink[]> {
  return (await hostLinks(ovs)).filter((l) => l.ifalias?.startsWith('netplumb ') === true);
}

/** Poll `check` until it holds (or throw after `timeoutMs`). */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
