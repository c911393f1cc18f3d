/**
 * The topology as a tree for a terminal:
 *
 *   ovs0  OVS bridge, datapath netdev
 *   ├─ VLAN 100
 *   │  ├─ con1 eth1  10.0.0.1/24  02:…  ← port np…h ofport 1, up   netplumb
 *   │  │  ✗ port-gone: …
 *   │  │    fix: netplumb detach … && netplumb attach …
 *   └─ uplinks
 *      └─ eth2  NIC ofport 4, up   foreign
 */
import type { Bridge, Issue, Port, Topology } from './model.js';
import { count } from './words.js';

interface Node {
  text: string;
  children: Node[];
}

const node = (text: string, children: Node[] = []): Node => ({ text, children });

function render(n: Node, prefix: string, last: boolean, top: boolean, out: string[]): void {
  out.push(top ? n.text : `${prefix}${last ? '└─ ' : '├─ '}${n.text}`);
  const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
  n.children.forEach((c, i) => {
    render(c, next, i === n.children.length - 1, false, out);
  });
}

function issueNodes(issues: readonly Issue[]): Node[] {
  return issues.map((i) =>
    node(`${i.severity === 'broken' ? '✗' : '!'} ${i.code}: ${i.reason}`, [node(`fix: ${i.fix}`)]),
  );
}

function portState(p: Port): string {
  const parts: string[] = [];
  if (p.ofport !== undefined) parts.push(`ofport ${p.ofport}`);
  if (p.ovs?.present === false) parts.push('no OVS port');
  if (p.link === null) parts.push('no host link');
  else parts.push(p.link.state);
  if (p.ovs?.error !== undefined) parts.push(`error: ${p.ovs.error}`);
  return parts.join(', ');
}

function guestPortLine(p: Port): string {
  const a = p.attachment;
  if (a === undefined) {
    const peer = p.link?.mac !== undefined ? `  ${p.link.mac}` : '';
    return `${p.name}  ${p.type || 'system'}${peer}  ${portState(p)}   foreign`;
  }
  const guest = a.guest.name ?? (a.guest.kind === 'container' ? a.guest.id.slice(0, 12) : a.guest.id);
  const addrs = a.interface?.addresses.length
    ? a.interface.addresses.join(' ')
    : a.recorded.addresses.length > 0
      ? `${a.recorded.addresses.join(' ')} (recorded)`
      : (a.recorded.dhcp ?? 'no address');
  const mac = a.interface?.mac ?? a.recorded.mac;
  const guestState = a.guest.state === 'running' ? '' : `  guest ${a.guest.state}`;
  const trunks = p.trunks !== undefined ? `  trunks ${p.trunks.join(',')}` : '';
  return `${guest} ${a.ifname}  ${addrs}${mac !== undefined ? `  ${mac}` : ''}${trunks}  ← port ${p.name} ${portState(p)}${guestState}   netplumb`;
}

function uplinkLine(p: Port): string {
  const what =
    p.role === 'tunnel'
      ? `${p.type} tunnel${p.ovs?.options?.remote_ip !== undefined ? ` → ${p.ovs.options.remote_ip}` : ''}${p.ovs?.options?.key !== undefined ? ` key ${p.ovs.options.key}` : ''}`
      : p.role === 'patch'
        ? `patch${p.ovs?.options?.peer !== undefined ? ` ↔ ${p.ovs.options.peer}` : ''}`
        : p.role === 'internal'
          ? 'internal'
          : p.type || 'NIC';
  const vlan = p.tag !== undefined ? `  VLAN ${p.tag}` : p.trunks !== undefined ? `  trunks ${p.trunks.join(',')}` : '';
  return `${p.name}  ${what}${vlan}  ${portState(p)}   ${p.owner}`;
}

function portNode(p: Port, line: (p: Port) => string): Node {
  return node(line(p), issueNodes(p.issues));
}

function bridgeNode(b: Bridge): Node {
  const head =
    b.type === 'ovs'
      ? `${b.name}  OVS bridge${b.datapathType !== undefined ? `, datapath ${b.datapathType}` : ''}`
      : `${b.name}  Linux bridge`;
  const children: Node[] = [
    ...b.vlans.map((v) =>
      node(
        `${v.tag === 0 ? 'untagged' : `VLAN ${v.tag}`}  (${count(v.ports.length, 'port')})`,
        v.ports.map((p) => portNode(p, guestPortLine)),
      ),
    ),
    ...(b.trunks.length > 0
      ? [
          node(
            'trunk ports',
            b.trunks.map((p) => portNode(p, guestPortLine)),
          ),
        ]
      : []),
    ...(b.missing.length > 0
      ? [
          node(
            'not on the bridge (its port or the bridge is gone)',
            b.missing.map((p) => portNode(p, guestPortLine)),
          ),
        ]
      : []),
    ...(b.uplinks.length > 0
      ? [
          node(
            'uplinks',
            b.uplinks.map((p) => portNode(p, uplinkLine)),
          ),
        ]
      : []),
  ];
  return node(
    `${head}${b.present ? '' : '  ✗ NOT PRESENT (deleted)'}`,
    children.length > 0 ? children : [node('(no ports)')],
  );
}

/** The tree, then one summary line. */
export function topologyText(t: Topology): string {
  const out: string[] = [];
  if (!t.ovsdb.reachable) out.push(`! OVSDB could not be read: ${t.ovsdb.error ?? 'unknown'}`);
  if (t.bridges.length === 0) out.push('no bridges');
  for (const b of t.bridges) render(bridgeNode(b), '', true, true, out);
  const s = t.summary;
  out.push(
    '',
    `${count(s.bridges, 'bridge')}, ${count(s.vlans, 'VLAN')}, ${count(s.attachments, 'netplumb attachment')}, ${count(s.foreignPorts, 'foreign port')}; ${s.issues === 0 ? 'no issues' : `${count(s.issues, 'issue')} (${count(s.broken, 'broken attachment')})`}`,
  );
  return `${out.join('\n')}\n`;
}
