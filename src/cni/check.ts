/**
 * CHECK: the attachment is still what the ADD made — netplumb's record of it (container id
 * and interface) on the configuration's bridge with its VLAN, its host end present and its
 * port in place, and in the container the interface with the MAC and the addresses of
 * `prevResult` — then the IPAM plugin's own CHECK.
 *
 * Equivalent to: ovs-vsctl get port HOST tag ; ip -n NETNS addr show IFNAME (compared with prevResult)
 */
import type { CommandIo } from '../cli/io.js';
import { ErrorCode, EXIT_CODES } from '../errors.js';
import { cniGuestId } from '../plumb/cni-owner.js';
import type { Attachment } from '../plumb/api.js';
import { decodeRecord } from '../plumb/record.js';
import type { CniCall } from './args.js';
import type { NetConf } from './config.js';
import { openCniEngine } from './engine.js';
import { CniError, invalidConfig, NETPLUMB_CODE_BASE } from './errors.js';
import { execIpam } from './ipam.js';
import { ipamCallOf } from './ipam-call.js';
import { prevResultFor, type PrevResult } from './result.js';
import { inSandbox, seeInterface, type SeenInterface } from './sandbox.js';
import { targetHost } from './target.js';

export async function cniCheck(io: CommandIo, conf: NetConf, call: CniCall): Promise<void> {
  if (conf.prevResult === undefined) throw invalidConfig('prevResult', "missing: CHECK compares with the ADD's result");
  const want = prevResultFor(conf.prevResult, call.ifname);
  if (want === undefined) throw invalidConfig('prevResult', `lists no interface "${call.ifname}" in a sandbox`);
  const guestId = cniGuestId(call.containerId);
  const seen = await inSandbox(call.netns as string, (rtnl) => seeInterface(rtnl, call.ifname), io);
  if (seen === undefined) throw missing(`the container has no interface "${call.ifname}"`, 'CNI_IFNAME');
  const engine = await openCniEngine(io, conf);
  let found: Attachment | undefined;
  try {
    found = (await engine.list({ guest: guestId })).find(
      (a) => a.record.guestId === guestId && a.record.ifname === call.ifname,
    );
  } finally {
    await engine.close();
  }
  // An attachment that lives in the container only (a macvlan) is recorded on its interface.
  const inGuest = decodeRecord(seen.link.alias);
  checkAttachment(
    found ??
      (inGuest?.guestId === guestId && inGuest.ifname === call.ifname
        ? { record: inGuest, hostLinkPresent: false, hostLinkUp: false, orphaned: false }
        : undefined),
    conf,
    call,
  );
  checkInterface(seen, call.ifname, want);
  const ipamCall = ipamCallOf(io, conf);
  if (ipamCall !== undefined) await execIpam(ipamCall, 'CHECK');
}

/** The record is of this network's target and settings, and its host side is in place. */
function checkAttachment(a: Attachment | undefined, conf: NetConf, call: CniCall): void {
  const what = `the attachment of container ${call.containerId} on ${call.ifname}`;
  if (a === undefined) throw missing(`netplumb has no record of ${what}`, 'CNI_CONTAINERID');
  const r = a.record;
  const t = conf.target;
  if (r.mode !== t.mode || r.host !== targetHost(t))
    throw differs(`${what} is a ${r.mode} attachment to ${r.host}, not ${t.mode} to ${targetHost(t)}`, 'bridge');
  if (t.mode === 'ovs') {
    if ((r.vlan ?? 0) !== (t.vlan ?? 0))
      throw differs(`${what} has VLAN ${r.vlan ?? 'none'}, not ${t.vlan ?? 'none'}`, 'vlan');
    if ((r.trunks ?? []).join(',') !== (t.trunks ?? []).join(','))
      throw differs(
        `${what} trunks ${(r.trunks ?? []).join(',') || 'none'}, not ${(t.trunks ?? []).join(',') || 'none'}`,
        'trunk',
      );
  }
  if (a.orphaned) throw missing(`${what}: its interface is gone`, 'CNI_IFNAME');
  if (t.mode !== 'macvlan' && !a.hostLinkPresent)
    throw missing(`${what}: its host end ${r.hostIfname} is gone`, 'bridge');
  if (a.ovsError !== undefined) throw differs(`${what}: OVS reports "${a.ovsError}" for its port`, 'bridge');
}

/** The container's interface has the previous result's MAC and addresses. */
function checkInterface(seen: SeenInterface, ifname: string, want: PrevResult): void {
  if (want.mac !== undefined && seen.link.mac?.toLowerCase() !== want.mac)
    throw differs(`${ifname} has MAC ${seen.link.mac}, not ${want.mac} as the previous result says`, 'mac');
  const have = new Set(seen.addresses.map((a) => a.cidr));
  const gone = want.addresses.filter((a) => !have.has(a));
  if (gone.length > 0)
    throw differs(
      `${ifname} lacks ${gone.join(', ')} of the previous result (it has ${[...have].join(', ') || 'none'})`,
      'ips',
    );
}

function missing(message: string, field: string): CniError {
  return new CniError(NETPLUMB_CODE_BASE + EXIT_CODES[ErrorCode.NOT_FOUND], message, field);
}

function differs(message: string, field: string): CniError {
  return new CniError(NETPLUMB_CODE_BASE + EXIT_CODES[ErrorCode.CONFLICT], message, field);
}
