/**
 * Shared set-up of the engine's fault tests (faults.md B–H): guests in throwaway
 * namespaces, a Plumber bound to the shared private OVS, bystanders that must survive
 * every test (a foreign OVS port, a host link with an address), and the independent
 * oracle: a snapshot of host links/addresses, every OVS Bridge/Port/Interface row and the
 * guest's links, addresses and routes, read with `ip -json` and `ovs-vsctl`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetplumbError } from '../../../src/errors.js';
import { Plumber, type PlumberOptions } from '../../../src/plumb/plumber.js';
import type { AttachSpec } from '../../../src/plumb/spec.js';
import { useSharedOvs } from '../../helpers/ovs.js';
import type { OvsInstance } from '../../../sandbox/ovs.js';
import { TestNetns } from '../../helpers/netns.js';
import { must } from '../../../sandbox/exec.js';

/** `assert.rejects` matcher: a NetplumbError with this code (and message matching `re`). */
export function isCode(code: string, re?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof NetplumbError)) throw new Error(`expected NetplumbError ${code}, got ${String(e)}`);
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
    if (re !== undefined && !re.test(e.message))
      throw new Error(`${code} message ${JSON.stringify(e.message)} does not match ${String(re)}`);
    return true;
  };
}

/** The foreign OVS port and host link every test must leave exactly as they were. */
export const BYSTANDER_PORT = 'foreign0';
export const BYSTANDER_LINK = 'keep0';

/** Equivalent to: ovs-vsctl add-port ovs0 foreign0 -- set interface foreign0 type=internal ; ip link add keep0 type bridge ; ip addr add 192.0.2.1/24 dev keep0 */
export async function addBystanders(ovs: OvsInstance): Promise<void> {
  await ovs.vsctl([
    'add-port',
    'ovs0',
    BYSTANDER_PORT,
    '--',
    'set',
    'interface',
    BYSTANDER_PORT,
    'type=internal',
    'external_ids:owner=someone-else',
  ]);
  await hostIp(ovs, ['link', 'add', BYSTANDER_LINK, 'type', 'bridge']);
  await hostIp(ovs, ['addr', 'add', '192.0.2.1/24', 'dev', BYSTANDER_LINK]);
  await hostIp(ovs, ['link', 'set', BYSTANDER_LINK, 'up']);
}

/** The shared OVS of the calling file (useSharedOvs), with the bystanders added once it is up. */
export function useOvsWithBystanders(): () => OvsInstance {
  return useSharedOvs(addBystanders);
}

/** `ip -n <ovs netns> ARGS…` */
export function hostIp(ovs: OvsInstance, args: string[]): Promise<string> {
  return must(['ip', '-n', ovs.netns, ...args]);
}

/** Names of the veths in the host (OVS) namespace. */
export async function hostVeths(ovs: OvsInstance): Promise<string[]> {
  return (JSON.parse(await hostIp(ovs, ['-json', 'link', 'show', 'type', 'veth'])) as { ifname: string }[])
    .map((l) => l.ifname)
    .sort();
}

/** `ovs-vsctl list-ports BRIDGE`, sorted. */
export async function ovsPorts(ovs: OvsInstance, bridge = 'ovs0'): Promise<string[]> {
  return (await ovs.vsctl(['list-ports', bridge])).split('\n').filter(Boolean).sort();
}

/** Rows of an OVS table as ovs-vsctl prints them (JSON), sorted: a byte-comparable view. */
async function ovsTable(ovs: OvsInstance, table: string, columns: string): Promise<string[]> {
  const out = JSON.parse(await ovs.vsctl(['--format=json', `--columns=${columns}`, 'list', table])) as {
    data: unknown[];
  };
  return out.data.map((r) => JSON.stringify(r)).sort();
}

/** Host links (index, name, master, addresses) as `ip -json addr` reports them. */
async function ipAddrs(ns: string): Promise<string[]> {
  const links = JSON.parse(await must(['ip', '-json', '-n', ns, 'addr', 'show'])) as {
    ifindex: number;
    ifname: string;
    master?: string;
    addr_info?: { local: string; prefixlen: number }[];
  }[];
  return links
    .map((l) =>
      JSON.stringify([
        l.ifindex,
        l.ifname,
        l.master ?? '',
        (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
      ]),
    )
    .sort();
}

export interface WorldState {
  hostLinks: string[];
  bridges: string[];
  ports: string[];
  interfaces: string[];
  guestLinks: string[];
  guestRoutes: string[];
}

/** Everything an attach may change, read through ip -json and ovs-vsctl only. */
export async function worldState(ovs: OvsInstance, guest?: TestNetns): Promise<WorldState> {
  const [hostLinks, bridges, ports, interfaces, guestLinks, guestRoutes] = await Promise.all([
    ipAddrs(ovs.netns),
    ovsTable(ovs, 'Bridge', 'name,_uuid,ports'),
    ovsTable(ovs, 'Port', 'name,_uuid,tag,external_ids'),
    ovsTable(ovs, 'Interface', 'name,_uuid,type,external_ids'),
    guest ? ipAddrs(guest.name) : [],
    guest ? guest.ip('route', 'show').then((rs) => rs.map((r) => JSON.stringify(r)).sort()) : [],
  ]);
  return { hostLinks, bridges, ports, interfaces, guestLinks, guestRoutes };
}

/** Run `body` with a fresh guest namespace, destroyed afterwards. */
export async function withGuest(body: (g: TestNetns) => Promise<void>, prefix = 'f'): Promise<void> {
  const g = await TestNetns.create(prefix);
  try {
    await body(g);
  } finally {
    await g.destroy();
  }
}

/** Run `body` with a Plumber whose host namespace and OVSDB are the shared OVS's; closed afterwards. */
export async function withPlumber(
  ovs: OvsInstance,
  body: (p: Plumber) => Promise<void>,
  opts: Partial<PlumberOptions> = {},
): Promise<void> {
  const p = Plumber.open({ ovsDb: ovs.remote, hostNetns: { name: ovs.netns }, ...opts });
  try {
    await body(p);
  } finally {
    await p.close();
  }
}

/** A static OVS attach of `g` to ovs0 (VLAN 70), with overrides. */
export function ovsSpec(g: TestNetns, extra: Partial<AttachSpec> = {}): AttachSpec {
  return {
    host: 'ovs0',
    guest: { netns: g.name },
    ip: { kind: 'static', address: '10.7.0.2/24', gateway: '10.7.0.1' },
    vlan: 70,
    ...extra,
  };
}

/** A short unique suffix for names tests create. */
export function uniq(): string {
  return randomBytes(3).toString('hex');
}

/**
 * A unix socket that counts the connections made to it and answers nothing: as the OVSDB
 * remote of a Plumber, it proves that a refused request never reached OVSDB.
 */
export class CountingSocket {
  connections = 0;
  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly path: string,
  ) {
    server.on('connection', (s) => {
      this.connections++;
      s.destroy();
    });
  }

  static async open(): Promise<CountingSocket> {
    const dir = mkdtempSync(join(tmpdir(), 'np-count-'));
    const path = join(dir, 'db.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(path, r));
    return new CountingSocket(server, dir, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
