/**
 * OVN networks: logical switches of the northbound database that netplumb made and owns
 * (`external_ids:netplumb.owner`), optionally with a subnet OVN allocates addresses from
 * and bridged to a VLAN of a physical network (a `localnet` port with `tag`: each chassis
 * maps the physical network to a bridge with `ovn-bridge-mappings`, see `netplumb uplink
 * add --physnet`).
 *
 *   netplumb network create vlan100 --subnet 10.0.0.0/24 [--vlan 100 --physnet physnet1]
 *     = ovn-nbctl ls-add vlan100 -- set Logical_Switch vlan100 other_config:subnet=10.0.0.0/24
 *       [-- lsp-add vlan100 np-localnet-vlan100 -- lsp-set-type np-localnet-vlan100 localnet
 *        -- lsp-set-addresses np-localnet-vlan100 unknown -- set Logical_Switch_Port … tag=100
 *        options:network_name=physnet1]   (one transaction)
 */
import { ErrorCode, NetplumbError, invalidArgument } from '../errors.js';
import type { LogicalSwitchRow } from '../ovsdb/nb-model.js';
import type { Northbound } from '../ovsdb/nb.js';
import type { HostServices } from '../plumb/host-services.js';
import { networkName } from '../plumb/plan.js';
import { OWNER } from '../plumb/record.js';
import { physnetName } from '../plumb/uplink-spec.js';
import { inPrefix, integer, ipAddress, ipPrefix, mtu as validMtu, vlanId } from '../validate.js';
import { subnetOf } from './ipam.js';
import { localnetPortName, MTU_KEY, NETWORK_KEY, PHYSNET_KEY, VLAN_KEY } from './marks.js';
import { ovnServices } from './services.js';

export interface NetworkSpec {
  name: string;
  /** IPv4 subnet OVN allocates addresses from (`other_config:subnet`), e.g. `10.0.0.0/24`. */
  subnet?: string;
  /** Addresses of the subnet OVN must not allocate: `10.0.0.1`, `10.0.0.200..10.0.0.254`. */
  excludeIps?: string[];
  /** Bridge the network to this VLAN of `physnet` (a localnet port with this tag). */
  vlan?: number;
  /** The physical network (as each chassis maps it in ovn-bridge-mappings). */
  physnet?: string;
  /** MTU of the attachments (default 1442: a Geneve tunnel's 58 bytes less than 1500; 1500 when bridged). */
  mtu?: number;
}

/** A network as `list` shows it. */
export interface Network {
  name: string;
  uuid: string;
  subnet?: string;
  excludeIps?: string[];
  vlan?: number;
  physnet?: string;
  mtu: number;
  /** Ports of attachments (the localnet port not counted), and how many of them netplumb's. */
  ports: number;
  attachments: number;
}

/** Geneve's overhead on a 1500-byte underlay: outer IPv4 20, UDP 8, Geneve 8 + 8 of options, inner Ethernet 14. */
export const OVERLAY_MTU = 1442;
export const BRIDGED_MTU = 1500;

interface NetworkPlan {
  name: string;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  localnet?: { physnet: string; vlan?: number };
}

function planOf(spec: NetworkSpec): NetworkPlan {
  const name = networkName('name', spec.name);
  const subnet = spec.subnet === undefined ? undefined : ipPrefix('subnet', spec.subnet, { family: 4, network: true });
  if (subnet !== undefined && subnet.prefixLen > 30)
    throw invalidArgument('subnet', `${subnet.cidr} leaves no addresses to allocate; give a /30 or larger`);
  if (spec.excludeIps !== undefined && subnet === undefined)
    throw invalidArgument('excludeIps', 'excluded addresses need a subnet to be excluded from');
  const exclude = (spec.excludeIps ?? []).map((e, i) => {
    const ends = e.split('..').map((a) => ipAddress(`excludeIps[${i}]`, a, 4));
    if (ends.length > 2 || ends.some((a) => subnet !== undefined && !inPrefix(subnet, a)))
      throw invalidArgument(
        `excludeIps[${i}]`,
        `${JSON.stringify(e)}: an address or FIRST..LAST inside ${subnet?.cidr}`,
      );
    return ends.map((a) => a.address).join('..');
  });
  if (spec.vlan !== undefined && spec.physnet === undefined)
    throw invalidArgument('vlan', 'a VLAN of which physical network? give physnet too');
  const physnet = spec.physnet === undefined ? undefined : physnetName('physnet', spec.physnet);
  const vlan = spec.vlan === undefined ? undefined : vlanId('vlan', spec.vlan);
  const mtu = spec.mtu === undefined ? (physnet ? BRIDGED_MTU : OVERLAY_MTU) : validMtu('mtu', spec.mtu);
  return {
    name,
    otherConfig: {
      ...(subnet !== undefined ? { subnet: subnet.cidr } : {}),
      ...(exclude.length > 0 ? { exclude_ips: exclude.join(' ') } : {}),
    },
    externalIds: {
      'netplumb.owner': OWNER,
      [NETWORK_KEY]: name,
      [MTU_KEY]: String(mtu),
      ...(physnet !== undefined ? { [PHYSNET_KEY]: physnet } : {}),
      ...(vlan !== undefined ? { [VLAN_KEY]: String(vlan) } : {}),
    },
    ...(physnet !== undefined ? { localnet: { physnet, ...(vlan !== undefined ? { vlan } : {}) } } : {}),
  };
}

const isOurs = (sw: LogicalSwitchRow): boolean => sw.externalIds['netplumb.owner'] === OWNER;

/** The settings two creates compare. */
function settingsOf(otherConfig: Record<string, string>, externalIds: Record<string, string>): string {
  const pick = (m: Record<string, string>, keys: string[]) => keys.map((k) => m[k] ?? null);
  return JSON.stringify([
    pick(otherConfig, ['subnet', 'exclude_ips']),
    pick(externalIds, [MTU_KEY, PHYSNET_KEY, VLAN_KEY]),
  ]);
}

/** The one logical switch of that name: NOT_FOUND without one, CONFLICT when the name is ambiguous. */
export async function findNetwork(nb: Northbound, name: string): Promise<LogicalSwitchRow> {
  const found = await nb.switchesNamed(name);
  const [sw] = found;
  if (sw === undefined)
    throw new NetplumbError(
      ErrorCode.NOT_FOUND,
      `network "${name}" does not exist in the OVN northbound database at ${nb.remote}; create it with netplumb network create ${name}`,
      { field: 'network' },
    );
  if (found.length > 1)
    throw new NetplumbError(
      ErrorCode.CONFLICT,
      `${found.length} logical switches are named "${name}" in ${nb.remote}; rename all but one (ovn-nbctl)`,
      { field: 'network' },
    );
  return sw;
}

/** The MTU of a network's attachments: its own setting, else the bridged or the overlay default. */
export function networkMtu(nb: Northbound, sw: LogicalSwitchRow): Promise<number> {
  const own = Number(sw.externalIds[MTU_KEY]);
  if (Number.isInteger(own) && own >= 68) return Promise.resolve(own);
  return nb.portsOf(sw).then((ports) => (ports.some((p) => p.type === 'localnet') ? BRIDGED_MTU : OVERLAY_MTU));
}

export class Networks {
  constructor(private readonly host: HostServices) {}

  /** Make the network; the same create again is a no-op, other settings a CONFLICT. */
  async create(spec: NetworkSpec): Promise<{ changed: boolean; network: Network }> {
    const plan = planOf(spec);
    const nb = await ovnServices(this.host).connectedNorthbound();
    const existing = await nb.switchesNamed(plan.name);
    const [sw] = existing;
    if (sw !== undefined) {
      if (!isOurs(sw))
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `a logical switch named "${plan.name}" exists in ${nb.remote} and was not made by netplumb; choose another name`,
          { field: 'name' },
        );
      if (settingsOf(sw.otherConfig, sw.externalIds) !== settingsOf(plan.otherConfig, plan.externalIds))
        throw new NetplumbError(
          ErrorCode.CONFLICT,
          `network "${plan.name}" exists with other settings (${describe(await this.viewOf(nb, sw))}); delete it first (netplumb network delete ${plan.name})`,
          { field: 'name' },
        );
      return { changed: false, network: await this.viewOf(nb, sw) };
    }
    const ln = plan.localnet;
    const { uuid } = await nb.createSwitch({
      name: plan.name,
      otherConfig: plan.otherConfig,
      externalIds: plan.externalIds,
      ...(ln !== undefined
        ? {
            ports: [
              {
                name: localnetPortName(plan.name),
                type: 'localnet',
                addresses: ['unknown'],
                options: { network_name: ln.physnet },
                ...(ln.vlan !== undefined ? { tag: ln.vlan } : {}),
                externalIds: { 'netplumb.owner': OWNER, [NETWORK_KEY]: plan.name },
              },
            ],
          }
        : {}),
    });
    const made = await nb.getSwitch(uuid);
    return { changed: true, network: made ? await this.viewOf(nb, made) : this.planned(plan, uuid) };
  }

  /** Remove the network; refused (CONFLICT) while containers are attached to it, unless `force`. */
  async delete(name: string, opts: { force?: boolean } = {}): Promise<{ deleted?: Network }> {
    const nb = await ovnServices(this.host).connectedNorthbound();
    const found = await nb.switchesNamed(networkName('name', name));
    const [sw] = found;
    if (sw === undefined) return {};
    if (!isOurs(sw))
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `logical switch "${name}" was not made by netplumb; it is left alone (ovn-nbctl ls-del removes it)`,
        { field: 'name' },
      );
    const view = await this.viewOf(nb, sw);
    if (view.ports > 0 && opts.force !== true)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `network "${name}" has ${view.ports} port(s) attached (${view.attachments} of netplumb); detach them first, or pass --force (their hosts' gc then removes what is left of them)`,
        { field: 'name', ports: view.ports },
      );
    await nb.deleteSwitch(sw.uuid);
    return { deleted: view };
  }

  /** The networks netplumb made, with their settings and how many ports each has. */
  async list(): Promise<Network[]> {
    const nb = await ovnServices(this.host).connectedNorthbound();
    const ours = await nb.findSwitchesByExternalIds({ 'netplumb.owner': OWNER });
    const views = await Promise.all(ours.map((sw) => this.viewOf(nb, sw)));
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async viewOf(nb: Northbound, sw: LogicalSwitchRow): Promise<Network> {
    const ports = (await nb.portsOf(sw)).filter((p) => p.type !== 'localnet');
    const subnet = subnetOf(sw);
    const exclude = sw.otherConfig.exclude_ips;
    const vlan = sw.externalIds[VLAN_KEY];
    const physnet = sw.externalIds[PHYSNET_KEY];
    return {
      name: sw.name,
      uuid: sw.uuid,
      ...(subnet !== undefined ? { subnet: subnet.cidr } : {}),
      ...(exclude !== undefined && exclude !== '' ? { excludeIps: exclude.split(/\s+/) } : {}),
      ...(vlan !== undefined ? { vlan: integer('vlan', vlan, 1, 4094) } : {}),
      ...(physnet !== undefined ? { physnet } : {}),
      mtu: await networkMtu(nb, sw),
      ports: ports.length,
      attachments: ports.filter((p) => p.externalIds['netplumb.owner'] === OWNER).length,
    };
  }

  private planned(plan: NetworkPlan, uuid: string): Network {
    return {
      name: plan.name,
      uuid,
      ...(plan.otherConfig.subnet !== undefined ? { subnet: plan.otherConfig.subnet } : {}),
      ...(plan.localnet?.vlan !== undefined ? { vlan: plan.localnet.vlan } : {}),
      ...(plan.localnet !== undefined ? { physnet: plan.localnet.physnet } : {}),
      mtu: Number(plan.externalIds[MTU_KEY]),
      ports: 0,
      attachments: 0,
    };
  }
}

export function describe(n: Network): string {
  const parts = [
    n.subnet !== undefined ? `subnet ${n.subnet}` : 'no subnet',
    ...(n.excludeIps !== undefined ? [`excluding ${n.excludeIps.join(' ')}`] : []),
    n.physnet !== undefined ? `bridged to ${n.physnet}${n.vlan !== undefined ? ` VLAN ${n.vlan}` : ''}` : 'overlay',
    `MTU ${n.mtu}`,
  ];
  return parts.join(', ');
}
