/**
 * Oracles for what netplumb owns, read with ovs-vsctl and `ip -json` only: OVS ports by
 * external_ids, their interfaces' state, and host links by alias (or, for a veth whose
 * attach was stopped before it wrote its alias, by its link group).
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
  /** The link group: `default` (0), or a number. */
  group?: string;
  linkinfo?: { info_kind?: string };
}

/**
 * netplumb's "attach in progress" link groups (src/plumb/record.ts: 0x6e000000 + the
 * second the attach began, modulo 2^24), written out here rather than read from the code
 * under test.
 */
export const ATTACHING_GROUPS = { first: 0x6e00_0000, last: 0x6eff_ffff } as const;

/** The second an attach began, as the group of a veth it made says (in ATTACHING_GROUPS), or undefined. */
export function attachingStamp(l: HostLink): number | undefined {
  const g = Number(l.group);
  return Number.isInteger(g) && g >= ATTACHING_GROUPS.first && g <= ATTACHING_GROUPS.last
    ? g - ATTACHING_GROUPS.first
    : undefined;
}

/** Links of the namespace the OVS runs in (the emulated host). Equivalent to: ip -json -d -n NS link show */
export async function hostLinks(ovs: OvsInstance): Promise<HostLink[]> {
  return JSON.parse(await must(['ip', '-json', '-d', '-n', ovs.netns, 'link', 'show'])) as HostLink[];
}

/** Host links carrying netplumb's alias record, or no alias and an attaching group. */
export async function ourLinks(ovs: OvsInstance): Promise<HostLink[]> {
  return (await hostLinks(ovs)).filter(
    (l) =>
      l.ifalias?.startsWith('netplumb ') === true ||
      (l.ifalias === undefined && l.linkinfo?.info_kind === 'veth' && attachingStamp(l) !== undefined),
  );
}

/** Host veths an attach made and never recorded: no alias, an attaching group. */
export async function unrecordedLinks(ovs: OvsInstance): Promise<HostLink[]> {
  return (await ourLinks(ovs)).filter((l) => l.ifalias === undefined);
}

/** Poll `check` until it holds (or throw after `timeoutMs`). */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
