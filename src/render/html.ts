/**
 * The topology as one self-contained HTML page: the picture (inline SVG), a table of every
 * port, and the issues with their fixes. No script, no external file: it opens offline.
 */
import { bridgePorts } from '../topology/build.js';
import type { Topology } from '../topology/model.js';
import { portAddress } from './layout.js';
import { renderSvg, xml } from './svg.js';
import { count } from '../topology/words.js';

const STYLE = `
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1f2933; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #5f6b7a; margin-bottom: 16px; }
.picture { overflow: auto; border: 1px solid #d9e2ec; border-radius: 8px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f7f9fb; }
td.broken { color: #d62728; font-weight: bold; } td.drift { color: #e67e00; } td.ok { color: #2f7d32; }
code { background: #f2f4f7; padding: 1px 4px; border-radius: 3px; }
`;

function cell(text: string, cls?: string): string {
  return `<td${cls !== undefined ? ` class="${cls}"` : ''}>${xml(text)}</td>`;
}

export function renderHtml(t: Topology): string {
  const rows = t.bridges.flatMap((b) =>
    bridgePorts(b).map((p) => {
      const a = p.attachment;
      const worst = p.issues.find((i) => i.severity === 'broken') ?? p.issues[0];
      const vlan =
        p.tag !== undefined
          ? String(p.tag)
          : p.trunks !== undefined
            ? p.trunks.join(',')
            : a?.recorded.vlan !== undefined
              ? `${a.recorded.vlan} (recorded)`
              : '-';
      return `<tr>${[
        cell(b.name),
        cell(vlan),
        cell(a !== undefined ? (a.guest.name ?? a.guest.id.slice(0, 12)) : p.role),
        cell(a?.ifname ?? '-'),
        cell(portAddress(p) ?? '-'),
        cell(a?.interface?.mac ?? p.link?.mac ?? '-'),
        cell(p.name),
        cell(p.ofport !== undefined ? String(p.ofport) : '-'),
        cell(p.link?.state ?? 'no host link'),
        cell(p.owner),
        cell(worst !== undefined ? worst.code : 'ok', worst !== undefined ? worst.severity : 'ok'),
      ].join('')}</tr>`;
    }),
  );
  const issues = t.issues.map(
    (i) => `<li><b>${xml(i.code)}</b> — ${xml(i.where)}: ${xml(i.reason)}<br>fix: <code>${xml(i.fix)}</code></li>`,
  );
  const s = t.summary;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>netplumb show</title><style>${STYLE}</style></head>
<body>
<h1>netplumb show</h1>
<div class="meta">${xml(`${count(s.bridges, 'bridge')}, ${count(s.vlans, 'VLAN')}, ${count(s.attachments, 'attachment')}, ${count(s.foreignPorts, 'foreign port')}, ${count(s.issues, 'issue')}; read ${t.generatedAt} from ${t.ovsdb.remote}`)}</div>
<div class="picture">${renderSvg(t)}</div>
<h2>Ports</h2>
<table><thead><tr><th>bridge</th><th>VLAN</th><th>guest</th><th>ifname</th><th>address</th><th>MAC</th><th>port</th><th>ofport</th><th>link</th><th>owner</th><th>state</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<h2>Issues</h2>
${issues.length > 0 ? `<ul>${issues.join('\n')}</ul>` : '<p>none</p>'}
</body></html>
`;
}
