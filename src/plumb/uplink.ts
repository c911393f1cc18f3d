/**
 * Uplinks: a host NIC as a port of an OVS bridge — a trunk (every VLAN, or a list, with an
 * optional native VLAN) or an access port — the seed's scenario 2 without ovs-vsctl.
 *
 *   netplumb uplink add --bridge ovs0 --nic eth1 [--trunks 100,200] [--native-vlan 1] [--physnet NAME]
 *     = ip link set eth1 up ; ovs-vsctl add-port ovs0 eth1 [trunks=…] [tag=N vlan_mode=native-untagged]
 *       [ ; ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=NAME:ovs0 ]
 *
 * The port records the uplink in `external_ids:netplumb.uplink` (not `netplumb.owner`: an
 * uplink is no attachment, and gc never judges it). The same add twice is a no-op; other
 * settings are a CONFLICT unless forced (then changed in place). Each step is undone when
 * a later one fails. The NIC carrying the host's default route is refused unless forced:
 * once it is a bridge port, the host's own traffic through it stops. ovs-vswitchd puts the
 * NIC in promiscuous mode itself (the seed's `ifconfig eth1 promisc`) while it is a port.
 */
import { ErrorCode, NetplumbError } from '../errors.js';
import type { PortRow, Vswitch } from '../ovsdb/index.js';
import type { Link } from '../rtnl/index.js';
import type { HostServices } from './host-services.js';
import { bridgeNotFound } from './modes/host-errors.js';
import { requireNetworkPrivileges } from './preflight.js';
import { CREATED_KEY } from './record.js';
import { Rollback } from './rollback.js';
import {
  formatBridgeMappings,
  parseBridgeMappings,
  parseUplinkSpec,
  portVlansOf,
  type UplinkPlan,
  type UplinkSpec,
  type UplinkVlans,
} from './uplink-spec.js';

/** The Port external_id that marks an uplink and holds its record. */
export const UPLINK_KEY = 'netplumb.uplink';
/** Open_vSwitch external_ids key ovn-controller reads the physical networks from. */
export const BRIDGE_MAPPINGS_KEY = 'ovn-bridge-mappings';

/** What an uplink port records about itself. */
export interface UplinkRecord {
  nic: string;
  bridge: string;
  vlans: UplinkVlans;
  physnet?: string;
  /** netplumb set the NIC up; `del` sets it down again. */
  broughtUp?: boolean;
}

/** An uplink as `list` shows it. */
export interface Uplink extends UplinkRecord {
  /** When it was added (ISO 8601). */
  created?: string;
  ofport?: number;
  /** ovs-vswitchd's error for the interface, if any. */
  error?: string;
  /** The NIC: absent from the host namespace (unplugged, renamed, moved). */
  nicMissing?: boolean;
  linkUp?: boolean;
  carrier?: boolean;
}

export interface UplinkAddResult {
  /** False: the same uplink was there already. */
  changed: boolean;
  uplink: Uplink;
}

export interface UplinkDelRequest {
  nic: string;
  /** Refuse to remove an uplink of another bridge. */
  bridge?: string;
}

function decodeUplink(text: string | undefined): UplinkRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<UplinkRecord>;
    return typeof v.nic === 'string' && typeof v.bridge === 'string' && typeof v.vlans === 'object' && v.vlans !== null
      ? (v as UplinkRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The settings two adds compare: bridge, VLANs, physical network. */
function settingsOf(r: UplinkRecord): string {
  return JSON.stringify([r.bridge, portVlansOf(r.vlans), r.physnet ?? null]);
}

function describeVlans(v: UplinkVlans): string {
  if (v.kind === 'access') return `access port of VLAN ${v.vlan}`;
  const which = v.trunks === undefined ? 'every VLAN' : `VLANs ${v.trunks.join(',')}`;
  return `trunk of ${which}${v.nativeVlan !== undefined ? `, native VLAN ${v.nativeVlan}` : ''}`;
}

export class Uplinks {
  constructor(private readonly host: HostServices) {}

  /** Put the NIC into the bridge; idempotent; rolled back on failure. */
  async add(spec: UplinkSpec): Promise<UplinkAddResult> {
    const plan = parseUplinkSpec(spec);
    requireNetworkPrivileges();
    const vs = await this.host.vswitch();
    const nic = await this.host.rtnl.link.find(plan.nic);
    if (nic === undefined)
      throw new NetplumbError(
        ErrorCode.NOT_FOUND,
        `host interface "${plan.nic}" does not exist; name a NIC of this host (ip link show)`,
        { field: 'nic' },
      );
    if (nic.kind === 'bridge')
      throw new NetplumbError(ErrorCode.CONFLICT, `"${plan.nic}" is a Linux bridge, not a NIC`, { field: 'nic' });
    const existing = await vs.getPort(plan.nic);
    if (existing !== undefined) return this.changeExisting(vs, plan, existing);
    if ((await vs.getInterface(plan.nic)) !== undefined)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `"${plan.nic}" is already an interface of another OVS port (a bond?) in ${vs.remote}; remove it there first`,
        { field: 'nic' },
      );
    if (nic.master !== undefined) {
      const master = (await this.host.rtnl.link.list()).find((l) => l.index === nic.master);
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `"${plan.nic}" is a port of ${master?.kind ?? 'device'} "${master?.name ?? nic.master}"; take it out of there first (ip link set ${plan.nic} nomaster)`,
        { field: 'nic' },
      );
    }
    if (!plan.force) await this.refuseDefaultRoute(nic);
    return Rollback.run(async (rb) => {
      if ((await vs.getBridge(plan.bridge)) === undefined) {
        if (!plan.createBridge) throw bridgeNotFound(plan.bridge, 'Open vSwitch bridge', vs.remote);
        await rb.step(
          'bridge',
          () =>
            vs.addBridge(plan.bridge, {
              datapathType: this.host.datapathType(),
              wait: this.host.applyTimeoutMs,
            }),
          () => ({
            what: `OVS bridge "${plan.bridge}"`,
            run: async () => void (await vs.delBridge(plan.bridge, { ifExists: true })),
          }),
        );
      }
      const broughtUp = !nic.flags.up;
      if (broughtUp)
        await rb.step(
          'nic up',
          () => this.host.rtnl.link.set(plan.nic, { up: true }),
          () => ({ what: `"${plan.nic}" left up`, run: () => this.host.rtnl.link.set(plan.nic, { up: false }) }),
        );
      const record: UplinkRecord = {
        nic: plan.nic,
        bridge: plan.bridge,
        vlans: plan.vlans,
        ...(plan.physnet !== undefined ? { physnet: plan.physnet } : {}),
        ...(broughtUp ? { broughtUp: true } : {}),
      };
      // The undo goes first: a port committed but not applied by ovs-vswitchd is removed too.
      rb.push({
        what: `OVS port "${plan.nic}" on ${plan.bridge}`,
        run: () => this.delOwnPort(vs, plan.nic),
      });
      await rb.step('port', () =>
        vs.addPort(
          plan.bridge,
          {
            name: plan.nic,
            ...portVlansOf(plan.vlans),
            externalIds: { [UPLINK_KEY]: JSON.stringify(record), [CREATED_KEY]: new Date().toISOString() },
          },
          { wait: this.host.applyTimeoutMs },
        ),
      );
      if (plan.physnet !== undefined) await this.mapPhysnet(vs, plan.physnet, plan.bridge, rb);
      return { changed: true, uplink: await this.view(vs, plan.nic) };
    }, this.host.log);
  }

  /** Take the NIC out of its bridge, as it was before (down again if netplumb brought it up). */
  async del(req: UplinkDelRequest): Promise<{ removed?: Uplink }> {
    requireNetworkPrivileges();
    const vs = await this.host.vswitch();
    const port = await vs.getPort(req.nic);
    const record = decodeUplink(port?.externalIds[UPLINK_KEY]);
    if (port === undefined) return {};
    if (record === undefined)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `OVS port "${req.nic}" was not made by netplumb uplink; remove it with ovs-vsctl del-port if you mean to`,
        { field: 'nic' },
      );
    const bridge = (await vs.bridgeOfPort(port.uuid))?.name;
    if (req.bridge !== undefined && bridge !== req.bridge)
      throw new NetplumbError(
        ErrorCode.NOT_FOUND,
        `"${req.nic}" is an uplink of bridge "${bridge ?? '?'}", not of "${req.bridge}"; nothing removed`,
        { field: 'bridge' },
      );
    const removed = await this.view(vs, req.nic);
    await vs.delPortRows([port.uuid], { wait: this.host.applyTimeoutMs });
    if (record.physnet !== undefined && bridge !== undefined) await this.unmapPhysnet(vs, record.physnet, bridge);
    if (record.broughtUp === true)
      await this.host.rtnl.link.set(req.nic, { up: false }).catch((e: unknown) => {
        if (!(e instanceof NetplumbError && e.code === ErrorCode.NOT_FOUND)) throw e;
      });
    return { removed };
  }

  /** Every uplink netplumb made on this host, with its state. */
  async list(): Promise<Uplink[]> {
    const vs = await this.host.vswitch();
    const ports = await vs.findPortsWithExternalId(UPLINK_KEY);
    const links = new Map((await this.host.rtnl.link.list()).map((l) => [l.name, l]));
    const out: Uplink[] = [];
    for (const p of ports) {
      const view = await this.viewOf(vs, p, links.get(p.name));
      if (view !== undefined) out.push(view);
    }
    return out.sort((a, b) => a.nic.localeCompare(b.nic));
  }

  /** The same uplink: nothing to do; other settings: changed in place when forced. */
  private async changeExisting(vs: Vswitch, plan: UplinkPlan, port: PortRow): Promise<UplinkAddResult> {
    const had = decodeUplink(port.externalIds[UPLINK_KEY]);
    const bridge = (await vs.bridgeOfPort(port.uuid))?.name;
    if (had === undefined)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `"${plan.nic}" is already a port of OVS bridge "${bridge ?? '?'}", not made by netplumb uplink; remove it there first (ovs-vsctl del-port ${plan.nic})`,
        { field: 'nic' },
      );
    if (bridge !== plan.bridge)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `"${plan.nic}" is an uplink of bridge "${bridge ?? '?'}"; remove it first (netplumb uplink del --nic ${plan.nic})`,
        { field: 'bridge' },
      );
    const wanted: UplinkRecord = {
      ...had,
      vlans: plan.vlans,
      ...(plan.physnet !== undefined ? { physnet: plan.physnet } : { physnet: undefined }),
    };
    if (settingsOf(wanted) === settingsOf(had)) return { changed: false, uplink: await this.view(vs, plan.nic) };
    if (!plan.force)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `"${plan.nic}" is already an uplink of "${bridge}" as a ${describeVlans(had.vlans)}${had.physnet ? ` (physnet ${had.physnet})` : ''}; pass --force to make it a ${describeVlans(plan.vlans)}${plan.physnet ? ` (physnet ${plan.physnet})` : ''}`,
        { field: 'nic', existing: had },
      );
    const record = JSON.parse(JSON.stringify(wanted)) as UplinkRecord;
    await Rollback.run(async (rb) => {
      await rb.step(
        'port',
        () =>
          vs.setPortVlans(
            plan.nic,
            portVlansOf(plan.vlans),
            { [UPLINK_KEY]: JSON.stringify(record) },
            {
              wait: this.host.applyTimeoutMs,
            },
          ),
        () => ({
          what: `OVS port "${plan.nic}" with the new VLANs`,
          run: () =>
            vs.setPortVlans(
              plan.nic,
              portVlansOf(had.vlans),
              { [UPLINK_KEY]: JSON.stringify(had) },
              {
                wait: this.host.applyTimeoutMs,
              },
            ),
        }),
      );
      if (had.physnet !== undefined && had.physnet !== plan.physnet)
        await this.unmapPhysnet(vs, had.physnet, plan.bridge);
      if (plan.physnet !== undefined) await this.mapPhysnet(vs, plan.physnet, plan.bridge, rb);
    }, this.host.log);
    return { changed: true, uplink: await this.view(vs, plan.nic) };
  }

  /** Equivalent to: ip route show default | grep "dev NIC" → refuse */
  private async refuseDefaultRoute(nic: Link): Promise<void> {
    const routes = await this.host.rtnl.route.list({});
    const via = routes.find((r) => r.dstLen === 0 && r.oif === nic.index);
    if (via === undefined) return;
    throw new NetplumbError(
      ErrorCode.CONFLICT,
      `"${nic.name}" carries this host's default route (IPv${via.family}${via.gateway ? ` via ${via.gateway}` : ''}): as a bridge port it would stop carrying the host's own traffic, and a remote session would be cut; use another NIC, or pass --force once the bridge's own interface takes over its addresses and routes`,
      { field: 'nic', route: via.dst, gateway: via.gateway },
    );
  }

  /** Equivalent to: ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=…,PHYSNET:BRIDGE */
  private async mapPhysnet(vs: Vswitch, physnet: string, bridge: string, rb: Rollback): Promise<void> {
    const before = (await vs.switchExternalIds())[BRIDGE_MAPPINGS_KEY];
    const pairs = parseBridgeMappings(before);
    const mapped = pairs.find(([n]) => n === physnet);
    if (mapped?.[1] === bridge) return;
    if (mapped !== undefined)
      throw new NetplumbError(
        ErrorCode.CONFLICT,
        `physical network "${physnet}" is mapped to bridge "${mapped[1]}" on this chassis (${BRIDGE_MAPPINGS_KEY}=${before ?? ''}); one network, one bridge`,
        { field: 'physnet' },
      );
    const after = formatBridgeMappings([...pairs, [physnet, bridge]]);
    await rb.step(
      'bridge mapping',
      () => vs.setSwitchExternalId(BRIDGE_MAPPINGS_KEY, after, before),
      () => ({
        what: `${BRIDGE_MAPPINGS_KEY} entry ${physnet}:${bridge}`,
        run: () => this.unmapPhysnet(vs, physnet, bridge),
      }),
    );
  }

  /** Remove PHYSNET:BRIDGE from ovn-bridge-mappings (another bridge's mapping of that name stays). */
  private async unmapPhysnet(vs: Vswitch, physnet: string, bridge: string): Promise<void> {
    const before = (await vs.switchExternalIds())[BRIDGE_MAPPINGS_KEY];
    const pairs = parseBridgeMappings(before);
    const rest = pairs.filter(([n, b]) => !(n === physnet && b === bridge));
    if (rest.length === pairs.length) return;
    await vs.setSwitchExternalId(BRIDGE_MAPPINGS_KEY, rest.length > 0 ? formatBridgeMappings(rest) : undefined, before);
  }

  /** Delete the port only while it is an uplink (a rollback never removes another tool's port). */
  private async delOwnPort(vs: Vswitch, nic: string): Promise<void> {
    const port = await vs.getPort(nic);
    if (port !== undefined && Object.hasOwn(port.externalIds, UPLINK_KEY))
      await vs.delPortRows([port.uuid], { wait: this.host.applyTimeoutMs });
  }

  private async view(vs: Vswitch, nic: string): Promise<Uplink> {
    const port = await vs.getPort(nic);
    const view = port && (await this.viewOf(vs, port, await this.host.rtnl.link.find(nic)));
    if (view === undefined)
      throw new NetplumbError(ErrorCode.INTERNAL, `uplink "${nic}" not found right after it was written`);
    return view;
  }

  private async viewOf(vs: Vswitch, port: PortRow, link: Link | undefined): Promise<Uplink | undefined> {
    const record = decodeUplink(port.externalIds[UPLINK_KEY]);
    if (record === undefined) return undefined;
    const iface = await vs.getInterface(port.name);
    const created = port.externalIds[CREATED_KEY];
    return {
      ...record,
      bridge: (await vs.bridgeOfPort(port.uuid))?.name ?? record.bridge,
      ...(created !== undefined ? { created } : {}),
      ...(iface?.ofport !== undefined ? { ofport: iface.ofport } : {}),
      ...(iface?.error !== undefined ? { error: iface.error } : {}),
      ...(link === undefined
        ? { nicMissing: true }
        : { linkUp: link.flags.up, ...(link.carrier !== undefined ? { carrier: link.carrier } : {}) }),
    };
  }
}
