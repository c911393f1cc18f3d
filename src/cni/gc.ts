/**
 * GC (CNI 1.1): remove every netplumb CNI attachment of this network that
 * `cni.dev/valid-attachments` does not list (by container id and interface), and nothing
 * else — no attachment of another network, none made by `netplumb attach` or pipework —
 * then release their addresses (IPAM DEL of each, and the IPAM plugin's own GC when it
 * speaks 1.1.0).
 *
 * Equivalent to: for each stale one: ovs-vsctl del-port HOST ; ip link del HOST ; host-local DEL
 */
import type { CommandIo } from '../cli/io.js';
import { type CniContainerId, cniContainerIdOf, cniGuestId, cniNetworkOf } from '../plumb/cni-owner.js';
import { settleAll } from '../plumb/host-services.js';
import type { AttachmentRecord } from '../plumb/record.js';
import type { NetConf } from './config.js';
import { openCniEngine } from './engine.js';
import { execIpam, type IpamCall } from './ipam.js';
import { ipamCallOf } from './ipam-call.js';
import { targetHost } from './target.js';
import { requireStatusAndGc } from './version.js';

export async function cniGc(io: CommandIo, conf: NetConf): Promise<void> {
  requireStatusAndGc('GC', conf.cniVersion);
  const valid = new Set((conf.validAttachments ?? []).map((a) => key(a.containerId, a.ifname)));
  const engine = await openCniEngine(io, conf);
  const stale: { containerId: CniContainerId; ifname: string }[] = [];
  try {
    for (const { record: r } of await engine.list()) {
      const containerId = cniContainerIdOf(r.guestId);
      if (containerId !== undefined && ofNetwork(r, conf) && !valid.has(key(containerId, r.ifname)))
        stale.push({ containerId, ifname: r.ifname });
    }
    // All at once: the engine removes concurrent detaches together.
    await settleAll(
      stale.map((a) =>
        engine.detach({
          guest: cniGuestId(a.containerId),
          ifname: a.ifname,
          cniContainerId: a.containerId,
        }),
      ),
    );
  } finally {
    await engine.close();
  }
  const ipamCall = ipamCallOf(io, conf);
  if (ipamCall === undefined) return;
  const gc = await speaksGc(ipamCall);
  // An IPAM plugin older than 1.1.0 refuses a 1.1.0 configuration: it releases each address as of 1.0.0.
  const del = gc ? ipamCall : { ...ipamCall, config: asVersion(ipamCall.config, '1.0.0') };
  await settleAll(stale.map((a) => execIpam(forAttachment(del, a), 'DEL')));
  if (gc) await execIpam(ipamCall, 'GC');
}

/** The configuration with another cniVersion (it was parsed already: it is a JSON object). */
function asVersion(config: Buffer, cniVersion: string): Buffer {
  return Buffer.from(JSON.stringify({ ...(JSON.parse(config.toString()) as object), cniVersion }));
}

function key(containerId: string, ifname: string): string {
  return `${containerId}\0${ifname}`;
}

/**
 * A CNI attachment of this network: recorded with it as source (OVS keeps the whole record);
 * a record read from a link alias only (a Linux bridge port) has no room for it, and is of
 * this network when it is a CNI attachment to this network's bridge.
 */
function ofNetwork(r: AttachmentRecord, conf: NetConf): boolean {
  const network = cniNetworkOf(r.source);
  if (network !== undefined) return network === conf.name;
  return r.source === undefined && r.mode === conf.target.mode && r.host === targetHost(conf.target);
}

/** The IPAM call of one attachment removed (its container id and interface; its namespace may be gone). */
function forAttachment(call: IpamCall, removed: { containerId: string; ifname: string }): IpamCall {
  return {
    ...call,
    env: { ...call.env, CNI_CONTAINERID: removed.containerId, CNI_IFNAME: removed.ifname, CNI_NETNS: '' },
  };
}

/** Does the IPAM plugin take GC (its VERSION lists 1.1.0)? */
async function speaksGc(call: IpamCall): Promise<boolean> {
  try {
    const v = JSON.parse((await execIpam(call, 'VERSION')).toString()) as { supportedVersions?: unknown };
    return Array.isArray(v.supportedVersions) && v.supportedVersions.includes('1.1.0');
  } catch {
    return false;
  }
}
