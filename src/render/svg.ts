/**
 * The topology as one SVG picture (no script, no external reference): bridges as columns,
 * VLANs as coloured groups, guests as boxes with their addresses, uplinks and tunnels on
 * top, broken attachments in red with their issue. Layout in ./layout.ts.
 */
import type { Issue, Topology } from '../topology/model.js';
import {
  GEOMETRY,
  layoutTopology,
  portAddress,
  type BoxLayout,
  type ColumnLayout,
  type GroupLayout,
  type Layout,
} from './layout.js';
import { count } from '../topology/words.js';

const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';
/** Tableau 10: distinct at a glance, printable. */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#e15759',
  '#17becf',
];
const UNTAGGED = '#8c8c8c';
const TRUNK = '#6b4c9a';
const BROKEN = '#d62728';
const DRIFT = '#e67e00';
const INK = '#1f2933';
const MUTED = '#5f6b7a';

/** Escape text for XML content and attributes. */
export function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Cut `text` to about `px` pixels of a `size`-pixel font (average glyph ≈ 0.6 em). */
function fit(text: string, px: number, size: number): string {
  const max = Math.max(3, Math.floor(px / (size * 0.6)));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function textAt(
  x: number,
  y: number,
  text: string,
  o: { size?: number; weight?: string; fill?: string; anchor?: string; width?: number } = {},
): string {
  const size = o.size ?? 11;
  const t = o.width !== undefined ? fit(text, o.width, size) : text;
  return `<text x="${x}" y="${y}" font-size="${size}"${o.weight ? ` font-weight="${o.weight}"` : ''} fill="${o.fill ?? INK}"${o.anchor ? ` text-anchor="${o.anchor}"` : ''}>${xml(t)}</text>`;
}

/** One colour per VLAN tag, the same in every column. */
export function vlanColours(t: Topology): Map<number, string> {
  const tags = [...new Set(t.bridges.flatMap((b) => b.vlans.map((v) => v.tag)).filter((v) => v !== 0))].sort(
    (a, b) => a - b,
  );
  return new Map(tags.map((tag, i) => [tag, PALETTE[i % PALETTE.length] as string]));
}

function colourOf(tag: GroupLayout['tag'], colours: Map<number, string>): string {
  if (tag === 'trunk') return TRUNK;
  if (tag === 'missing') return BROKEN;
  return tag === 0 ? UNTAGGED : (colours.get(tag) ?? UNTAGGED);
}

function worst(issues: readonly Issue[]): Issue | undefined {
  return issues.find((i) => i.severity === 'broken') ?? issues.find((i) => i.severity === 'drift');
}

function guestBox(b: BoxLayout, stroke: string): string {
  const p = b.port;
  const a = p.attachment;
  const issue = worst(p.issues);
  const edge = issue?.severity === 'broken' ? BROKEN : issue?.severity === 'drift' ? DRIFT : stroke;
  const dash = p.owner === 'foreign' ? ' stroke-dasharray="5 3"' : '';
  const name = a !== undefined ? `${a.guest.name ?? a.guest.id.slice(0, 12)} ${a.ifname}` : p.name;
  const addr =
    portAddress(p) ??
    (a?.recorded.dhcp !== undefined ? `DHCP (${a.recorded.dhcp})` : a ? 'no address' : (p.link?.mac ?? p.type));
  const third =
    issue !== undefined
      ? `✗ ${issue.code}`
      : a !== undefined
        ? `${p.name}${p.ofport !== undefined ? ` · ofport ${p.ofport}` : ''}`
        : 'foreign';
  const w = b.w - 12;
  return [
    `<g><title>${xml(`${name}\n${addr}\nport ${p.name}${issue ? `\n${issue.code}: ${issue.reason}\nfix: ${issue.fix}` : ''}`)}</title>`,
    `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" fill="#ffffff" stroke="${edge}" stroke-width="${issue ? 2.5 : 1.5}"${dash}/>`,
    textAt(b.x + 6, b.y + 15, name, { weight: 'bold', width: w }),
    textAt(b.x + 6, b.y + 30, addr, { width: w }),
    textAt(b.x + 6, b.y + 44, third, { size: 9.5, fill: issue ? edge : MUTED, width: w }),
    '</g>',
  ].join('');
}

function groupShape(grp: GroupLayout, colours: Map<number, string>): string {
  const c = colourOf(grp.tag, colours);
  const label =
    grp.tag === 'trunk'
      ? 'trunk ports'
      : grp.tag === 'missing'
        ? 'not on the bridge'
        : grp.tag === 0
          ? 'untagged'
          : `VLAN ${grp.tag}`;
  const guests = count(grp.total, 'guest');
  const parts = [
    `<rect x="${grp.x}" y="${grp.y}" width="${grp.w}" height="${grp.h}" rx="10" fill="${c}" fill-opacity="0.14" stroke="${c}" stroke-width="1.5"${typeof grp.tag === 'string' ? ' stroke-dasharray="6 3"' : ''}/>`,
    textAt(grp.x + 10, grp.y + 18, label, { weight: 'bold', fill: c, size: 12.5 }),
    textAt(grp.x + grp.w - 10, grp.y + 18, guests, { fill: MUTED, anchor: 'end' }),
    ...grp.boxes.map((b) => guestBox(b, c)),
  ];
  const s = grp.summary;
  if (s !== undefined) {
    const range = s.firstAddress !== undefined ? `${s.firstAddress} – ${s.lastAddress}` : 'addresses vary';
    parts.push(
      `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="6" fill="${c}" fill-opacity="0.28" stroke="${c}" stroke-width="1.5"/>`,
      textAt(s.x + 6, s.y + 15, `+ ${s.count} more guests`, { weight: 'bold', width: s.w - 12 }),
      textAt(s.x + 6, s.y + 30, range, { width: s.w - 12 }),
      textAt(s.x + 6, s.y + 44, s.broken > 0 ? `${s.broken} broken` : 'all whole', {
        size: 9.5,
        fill: s.broken > 0 ? BROKEN : MUTED,
      }),
    );
  }
  return parts.join('');
}

function uplinkBox(b: BoxLayout): string {
  const p = b.port;
  const what =
    p.role === 'tunnel'
      ? `${p.type}${p.ovs?.options?.remote_ip !== undefined ? ` → ${p.ovs.options.remote_ip}` : ''}`
      : p.role === 'patch'
        ? `patch ↔ ${p.ovs?.options?.peer ?? '?'}`
        : p.role === 'internal'
          ? 'internal'
          : 'uplink';
  const issue = worst(p.issues);
  return [
    `<g><title>${xml(`${p.name}: ${what} (${p.owner})`)}</title>`,
    `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="5" fill="#eef1f4" stroke="${issue ? BROKEN : '#7b8794'}" stroke-width="1.2"${p.owner === 'foreign' ? ' stroke-dasharray="4 2"' : ''}/>`,
    textAt(b.x + 6, b.y + 19, `${p.name} · ${what}`, { width: b.w - 12, size: 10.5 }),
    '</g>',
  ].join('');
}

function column(c: ColumnLayout, colours: Map<number, string>): string {
  const b = c.bridge;
  const g = GEOMETRY;
  const portCount = b.vlans.reduce((n, v) => n + v.ports.length, 0) + b.trunks.length + b.missing.length;
  const sub = `${b.type === 'ovs' ? `OVS bridge${b.datapathType ? ` · ${b.datapathType}` : ''}` : 'Linux bridge'} · ${count(portCount, 'guest port')}`;
  const parts = [
    `<rect x="${c.head.x}" y="${c.head.y}" width="${c.head.w}" height="${c.head.h}" rx="8" fill="${b.present ? '#2f3e4e' : BROKEN}"/>`,
    textAt(c.head.x + 12, c.head.y + 21, b.present ? b.name : `${b.name} — deleted`, {
      size: 15,
      weight: 'bold',
      fill: '#ffffff',
      width: c.head.w - 24,
    }),
    textAt(c.head.x + 12, c.head.y + 38, sub, { fill: '#d9e2ec', width: c.head.w - 24 }),
    ...c.uplinks.map(uplinkBox),
  ];
  // The spine: from the bridge down its left side, a branch to each row's first group.
  const firstX = Math.min(...c.groups.map((grp) => grp.x));
  const rowHeads = c.groups.filter((grp) => grp.x === firstX);
  const last = rowHeads.at(-1);
  if (last !== undefined) {
    const spineX = c.x + 8;
    parts.push(
      `<path d="M${spineX} ${c.head.y + c.head.h} V${last.y + 13}" stroke="#2f3e4e" stroke-width="2" fill="none"/>`,
      ...rowHeads.map(
        (grp) => `<path d="M${spineX} ${grp.y + 13} H${grp.x}" stroke="#2f3e4e" stroke-width="2" fill="none"/>`,
      ),
    );
  }
  parts.push(...c.groups.map((grp) => groupShape(grp, colours)));
  if (c.hiddenVlans > 0)
    parts.push(
      textAt(
        c.x + 18,
        c.y + c.h - 8,
        `+ ${c.hiddenVlans} more VLANs, ${c.hiddenPorts} guests (netplumb show ${b.name})`,
        { fill: MUTED, width: c.w - 18 },
      ),
    );
  if (c.groups.length === 0 && c.uplinks.length === 0)
    parts.push(textAt(c.x + 12, c.head.y + c.head.h + g.sectionGap + 12, 'no ports', { fill: MUTED }));
  return `<g>${parts.join('')}</g>`;
}

/** Swatches and their labels, left to right, wrapping to a new line at the legend's edge. */
function legend(l: Layout, t: Topology, colours: Map<number, string>): { svg: string; height: number } {
  const r = l.legend;
  const parts: string[] = [];
  const drawn = new Set(l.columns.flatMap((c) => c.groups.map((grp) => grp.tag)));
  const items: { draw: (x: number, y: number) => string; width: number }[] = [
    ...[...colours]
      .filter(([tag]) => drawn.has(tag))
      .map(([tag, c]) => ({
        draw: (x: number, y: number) =>
          `<rect x="${x}" y="${y - 11}" width="14" height="14" rx="3" fill="${c}" fill-opacity="0.5" stroke="${c}"/>${textAt(x + 19, y, `VLAN ${tag}`)}`,
        width: 19 + textWidth(`VLAN ${tag}`) + 18,
      })),
    ...(
      [
        ['#1f2933', '', 'netplumb attachment'],
        ['#7b8794', '5 3', "another tool's port (read-only)"],
        [BROKEN, '', 'broken: see netplumb show'],
        [DRIFT, '', 'differs from its record'],
      ] as const
    ).map(([stroke, dash, label]) => ({
      draw: (x: number, y: number) =>
        `<rect x="${x}" y="${y - 11}" width="22" height="14" rx="3" fill="#ffffff" stroke="${stroke}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>${textAt(x + 28, y, label)}`,
      width: 28 + textWidth(label) + 22,
    })),
  ];
  let x = r.x + 12;
  let y = r.y + 22;
  for (const it of items) {
    if (x + it.width > r.x + r.w - 12 && x > r.x + 12) {
      x = r.x + 12;
      y += 22;
    }
    parts.push(it.draw(x, y));
    x += it.width;
  }
  const h = y - r.y + 14;
  parts.unshift(`<rect x="${r.x}" y="${r.y}" width="${r.w}" height="${h}" rx="6" fill="#f7f9fb" stroke="#d9e2ec"/>`);
  if (t.summary.issues > 0)
    parts.push(
      textAt(r.x + r.w - 12, r.y - 6, `${count(t.summary.issues, 'issue')}`, {
        fill: BROKEN,
        anchor: 'end',
        weight: 'bold',
      }),
    );
  return { svg: parts.join(''), height: h };
}

/** About how wide `text` is at 11 px (0.6 em a glyph). */
function textWidth(text: string, size = 11): number {
  return Math.ceil(text.length * size * 0.6);
}

function scopeLabel(t: Topology): string {
  const s = t.scope;
  switch (s.kind) {
    case 'host':
      return 'the whole host';
    case 'bridge':
      return `bridge ${s.bridge}`;
    case 'vlan':
      return `VLAN ${s.vlan}`;
    case 'guest':
      return `guest ${s.guest}${s.ifname !== undefined ? ` ${s.ifname}` : ''}`;
  }
}

/** The picture, as an SVG document. */
export function renderSvg(t: Topology): string {
  const l = layoutTopology(t);
  const colours = vlanColours(t);
  const s = t.summary;
  const g = GEOMETRY;
  const title = `netplumb show — ${scopeLabel(t)}`;
  const subtitle = `${count(s.bridges, 'bridge')} · ${count(s.vlans, 'VLAN')} · ${count(s.attachments, 'attachment')} · ${count(s.foreignPorts, 'foreign port')} · read ${t.generatedAt}`;
  const key = legend(l, t, colours);
  const height = l.legend.y + key.height + g.margin;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${height}" viewBox="0 0 ${l.width} ${height}" font-family="${FONT}" role="img" aria-label="${xml(title)}">`,
    `<title>${xml(title)}</title>`,
    `<rect x="0" y="0" width="${l.width}" height="${height}" fill="#ffffff"/>`,
    textAt(g.margin, g.margin + 20, title, { size: 19, weight: 'bold' }),
    textAt(g.margin, g.margin + 40, subtitle, { fill: MUTED, width: l.width - 2 * g.margin }),
    ...(t.ovsdb.reachable
      ? []
      : [
          textAt(l.width - g.margin, g.margin + 20, `OVSDB unreachable: ${t.ovsdb.error ?? ''}`, {
            fill: BROKEN,
            anchor: 'end',
            width: l.width / 2,
          }),
        ]),
    ...l.columns.map((c) => column(c, colours)),
    key.svg,
    '</svg>',
    '',
  ].join('\n');
}
