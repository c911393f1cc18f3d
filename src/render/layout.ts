/**
 * Where things go in the picture of a topology: one column per bridge, its uplinks and
 * tunnels on top, then one coloured group per VLAN with a box per guest. Large VLANs are
 * summarised (the first few guests, then one box "N more, first–last address"), and so
 * is a bridge with very many VLANs, so that 4 guests and 400 read alike. Pure geometry.
 */
import type { Bridge, Port, Topology } from '../topology/model.js';

export const GEOMETRY = {
  margin: 24,
  titleHeight: 56,
  columnWidth: 400,
  columnGap: 48,
  bridgeHeight: 48,
  uplinkHeight: 30,
  uplinkGap: 6,
  groupPadding: 10,
  groupHeader: 26,
  boxWidth: 170,
  boxHeight: 50,
  boxGap: 8,
  sectionGap: 16,
  /** Room left of the groups for the line that joins them to the bridge. */
  indent: 18,
  legendHeight: 64,
  /** Guests drawn one by one in a VLAN; beyond, the rest is one summary box. */
  maxBoxesPerVlan: 8,
  /** The same when a bridge has more than `fewVlans` VLANs: each group is kept to two rows. */
  maxBoxesPerCrowdedVlan: 4,
  fewVlans: 4,
  /** VLAN groups drawn per bridge (in up to 4 columns); beyond, one line says how many more. */
  maxVlansPerBridge: 16,
} as const;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface BoxLayout extends Rect {
  port: Port;
}

export interface SummaryLayout extends Rect {
  count: number;
  firstAddress?: string;
  lastAddress?: string;
  broken: number;
}

export interface GroupLayout extends Rect {
  /** VLAN tag (0: untagged), 'trunk' for the trunk ports, 'missing' for attachments the bridge has no port for. */
  tag: number | 'trunk' | 'missing';
  total: number;
  boxes: BoxLayout[];
  summary?: SummaryLayout;
}

export interface ColumnLayout extends Rect {
  bridge: Bridge;
  head: Rect;
  uplinks: BoxLayout[];
  groups: GroupLayout[];
  /** VLAN groups not drawn (beyond maxVlansPerBridge) and their guests. */
  hiddenVlans: number;
  hiddenPorts: number;
}

export interface Layout {
  width: number;
  height: number;
  columns: ColumnLayout[];
  legend: Rect;
}

/** An IPv4 address as a number, for ordering; undefined for anything else. */
function ipv4Number(cidr: string | undefined): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(cidr ?? '');
  if (m === null) return undefined;
  return ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]);
}

/** The first address a port's guest has (as read, else as recorded). */
export function portAddress(p: Port): string | undefined {
  const a = p.attachment;
  return a?.interface?.addresses[0] ?? a?.recorded.addresses[0];
}

function addressRange(ports: readonly Port[]): { firstAddress?: string; lastAddress?: string } {
  const known = ports
    .map((p) => ({ text: portAddress(p)?.replace(/\/\d+$/, ''), n: ipv4Number(portAddress(p)) }))
    .filter((x): x is { text: string; n: number } => x.text !== undefined && x.n !== undefined)
    .sort((a, b) => a.n - b.n);
  const first = known[0];
  const last = known.at(-1);
  return first !== undefined && last !== undefined ? { firstAddress: first.text, lastAddress: last.text } : {};
}

function layoutGroup(
  tag: GroupLayout['tag'],
  ports: readonly Port[],
  x: number,
  y: number,
  w: number,
  maxBoxes: number,
): GroupLayout {
  const g = GEOMETRY;
  const perRow = Math.max(1, Math.floor((w - 2 * g.groupPadding + g.boxGap) / (g.boxWidth + g.boxGap)));
  // Boxes widened to fill the group's width.
  const boxWidth = Math.floor((w - 2 * g.groupPadding - (perRow - 1) * g.boxGap) / perRow);
  const overflow = ports.length > maxBoxes;
  // Broken ones first among those drawn one by one: what needs attention is never summarised away.
  const ordered = overflow ? [...ports].sort((a, b) => brokenRank(a) - brokenRank(b)) : ports;
  const shown = overflow ? ordered.slice(0, maxBoxes - 1) : ordered;
  const rest = overflow ? ordered.slice(maxBoxes - 1) : [];
  const cells = shown.length + (rest.length > 0 ? 1 : 0);
  const rows = Math.ceil(cells / perRow);
  const at = (i: number): Rect => ({
    x: x + g.groupPadding + (i % perRow) * (boxWidth + g.boxGap),
    y: y + g.groupHeader + Math.floor(i / perRow) * (g.boxHeight + g.boxGap),
    w: boxWidth,
    h: g.boxHeight,
  });
  const boxes = shown.map((port, i) => ({ ...at(i), port }));
  const summary =
    rest.length > 0
      ? {
          ...at(shown.length),
          count: rest.length,
          ...addressRange(rest),
          broken: rest.filter((p) => brokenRank(p) === 0).length,
        }
      : undefined;
  const h = g.groupHeader + rows * (g.boxHeight + g.boxGap) - g.boxGap + g.groupPadding;
  return { x, y, w, h, tag, total: ports.length, boxes, ...(summary ? { summary } : {}) };
}

function brokenRank(p: Port): number {
  return p.issues.some((i) => i.severity === 'broken') ? 0 : p.issues.length > 0 ? 1 : 2;
}

/** VLAN groups side by side in a bridge's column: one column of groups up to `fewVlans`, then up to 4. */
function groupColumns(groups: number): number {
  return groups <= GEOMETRY.fewVlans ? 1 : Math.min(4, Math.ceil(groups / GEOMETRY.fewVlans));
}

/** The width of a bridge's column. */
export function columnWidth(b: Bridge): number {
  const g = GEOMETRY;
  const n = groupColumns(
    Math.min(b.vlans.length, g.maxVlansPerBridge) + (b.trunks.length > 0 ? 1 : 0) + (b.missing.length > 0 ? 1 : 0),
  );
  return g.indent + n * (g.columnWidth - g.indent) + (n - 1) * g.columnGap;
}

function layoutColumn(b: Bridge, x: number, y0: number): ColumnLayout {
  const g = GEOMETRY;
  const w = columnWidth(b);
  const head = { x, y: y0, w, h: g.bridgeHeight };
  let y = y0 + g.bridgeHeight + g.sectionGap;
  // Uplinks right of the spine, two to a row of a group's width, as many rows as needed.
  const uplinks: BoxLayout[] = [];
  const perRow = Math.max(2, Math.floor((w - g.indent + g.uplinkGap) / 180));
  const uw = (w - g.indent - (perRow - 1) * g.uplinkGap) / perRow;
  b.uplinks.forEach((port, i) => {
    uplinks.push({
      x: x + g.indent + (i % perRow) * (uw + g.uplinkGap),
      y: y + Math.floor(i / perRow) * (g.uplinkHeight + g.uplinkGap),
      w: uw,
      h: g.uplinkHeight,
      port,
    });
  });
  if (uplinks.length > 0) y += Math.ceil(uplinks.length / perRow) * (g.uplinkHeight + g.uplinkGap) + g.sectionGap;
  const vlans = b.vlans.slice(0, g.maxVlansPerBridge);
  const hidden = b.vlans.slice(g.maxVlansPerBridge);
  const maxBoxes = b.vlans.length > g.fewVlans ? g.maxBoxesPerCrowdedVlan : g.maxBoxesPerVlan;
  const wanted: [GroupLayout['tag'], readonly Port[]][] = [
    ...vlans.map((v): [GroupLayout['tag'], readonly Port[]] => [v.tag, v.ports]),
    ...(b.trunks.length > 0 ? [['trunk', b.trunks] as [GroupLayout['tag'], readonly Port[]]] : []),
    ...(b.missing.length > 0 ? [['missing', b.missing] as [GroupLayout['tag'], readonly Port[]]] : []),
  ];
  // Groups row by row, `cols` to a row; a row is as tall as its tallest group.
  const cols = groupColumns(wanted.length);
  const gw = g.columnWidth - g.indent;
  const groups: GroupLayout[] = [];
  for (let row = 0; row * cols < wanted.length; row++) {
    const inRow = wanted
      .slice(row * cols, (row + 1) * cols)
      .map(([tag, ports], i) => layoutGroup(tag, ports, x + g.indent + i * (gw + g.columnGap), y, gw, maxBoxes));
    groups.push(...inRow);
    y += Math.max(...inRow.map((grp) => grp.h)) + g.sectionGap;
  }
  if (hidden.length > 0) y += 24;
  return {
    x,
    y: y0,
    w,
    h: y - y0,
    bridge: b,
    head,
    uplinks,
    groups,
    hiddenVlans: hidden.length,
    hiddenPorts: hidden.reduce((n, v) => n + v.ports.length, 0),
  };
}

export function layoutTopology(t: Topology): Layout {
  const g = GEOMETRY;
  const top = g.margin + g.titleHeight;
  const widths = t.bridges.map(columnWidth);
  const content = Math.max(
    g.columnWidth,
    widths.reduce((a, b) => a + b, 0) + Math.max(0, widths.length - 1) * g.columnGap,
  );
  const width = Math.max(2 * g.margin + content, 720);
  // Columns centred when the picture is wider than they are (its title needs the room).
  let x = g.margin + Math.floor((width - 2 * g.margin - content) / 2);
  const columns = t.bridges.map((b, i) => {
    const c = layoutColumn(b, x, top);
    x += (widths[i] ?? 0) + g.columnGap;
    return c;
  });
  const bottom = Math.max(top + 40, ...columns.map((c) => c.y + c.h));
  const legend = { x: g.margin, y: bottom + g.sectionGap, w: width - 2 * g.margin, h: g.legendHeight };
  return { width, height: legend.y + legend.h + g.margin, columns, legend };
}
