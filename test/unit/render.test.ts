/**
 * The picture and the page without a host: every guest of the seed drawn with its address,
 * text escaped, a broken attachment in red; 400 guests summarised, not 400 boxes; the page
 * self-contained. (Rendering to pixels is tested against real states: test/e2e/show-check.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtml } from '../../src/render/html.js';
import { GEOMETRY, layoutTopology } from '../../src/render/layout.js';
import { renderSvg } from '../../src/render/svg.js';
import type { Attachment } from '../../src/plumb/plumber.js';
import type { AttachmentRecord } from '../../src/plumb/record.js';
import { crowd, host, seed, short } from './support/topology-fixture.js';

/** Tags open and closed in order (the SVG is well-formed), and no stray '<' or '&' in text. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m as unknown as [string, string, string, string];
    if (selfClose === '/') continue;
    if (close === '/') assert.equal(stack.pop(), name, `</${name}> closes <${stack.at(-1)}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  assert.doesNotMatch(svg.replace(/<[^>]*>/g, ''), /<|&(?!#\d+;)/, 'text is escaped');
}

test('the seed as a picture: one bridge column, two VLAN groups in two colours, four guests with their addresses', () => {
  const svg = renderSvg(host());
  assertWellFormed(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
  for (const [i, r] of seed.entries()) {
    assert.ok(svg.includes(`>con${i + 1} eth1<`), `con${i + 1} is drawn`);
    assert.ok(svg.includes(`>${r.addresses[0]}<`), `its address ${r.addresses[0]}`);
  }
  assert.ok(svg.includes('>VLAN 100<') && svg.includes('>VLAN 200<'));
  assert.ok(svg.includes('vx0 · vxlan → 127.0.0.2'), 'the tunnel as an uplink');
  const fills = new Set([...svg.matchAll(/fill="(#[0-9a-f]{6})" fill-opacity="0\.14"/g)].map((m) => m[1]));
  assert.equal(fills.size, 2, 'one colour per VLAN');
});

test('a broken attachment is drawn in red with its issue; names that need escaping are escaped', () => {
  const t = host((s) => {
    const b = s.ovsBridges[0];
    if (b) b.ports = b.ports.filter((p) => p.row.name !== 'np1h');
    const r1 = seed[0] as AttachmentRecord;
    s.attachments = s.attachments.map((a) =>
      a.record.id === r1.id ? ({ ...a, record: { ...short(r1), guestName: 'a<b&"c' } } as Attachment) : a,
    );
    const g = s.guests.get(r1.id);
    if (g) (s.guests as Map<string, typeof g>).set(r1.id, { ...g, name: 'a<b&"c' });
  });
  const svg = renderSvg(t);
  assertWellFormed(svg);
  assert.ok(svg.includes('a&#60;b&#38;&#34;c eth1'), 'escaped');
  assert.ok(svg.includes('✗ port-gone'));
  assert.match(svg, /stroke="#d62728" stroke-width="2\.5"/);
  assert.ok(svg.includes('>not on the bridge<'));
});

test('400 guests in two VLANs: summarised per VLAN, a picture of bounded size, every guest counted', () => {
  const t = crowd(400, [100, 200]);
  const svg = renderSvg(t);
  assertWellFormed(svg);
  const l = layoutTopology(t);
  const boxes = l.columns.flatMap((c) => c.groups.flatMap((g) => g.boxes));
  assert.equal(boxes.length, 2 * (GEOMETRY.maxBoxesPerVlan - 1), 'a few boxes per VLAN, not 400');
  assert.deepEqual(
    l.columns[0]?.groups.map((g) => [g.tag, g.total, g.summary?.count]),
    [
      [100, 200, 200 - GEOMETRY.maxBoxesPerVlan + 1],
      [200, 200, 200 - GEOMETRY.maxBoxesPerVlan + 1],
    ],
  );
  assert.ok(svg.includes('>200 guests<'));
  assert.match(svg, />\+ 193 more guests</);
  assert.match(svg, />10\.0\.0\.\d+ – 10\.0\.1\.\d+</, 'the summary gives the address range');
  assert.ok(l.height < 1200 && l.width < 1200, `${l.width}×${l.height}: readable on one screen`);
});

test('many small VLANs: at most 16 groups per bridge, the rest counted', () => {
  const vlans = Array.from({ length: 40 }, (_, i) => 100 + i);
  const l = layoutTopology(crowd(400, vlans));
  assert.equal(l.columns[0]?.groups.length, GEOMETRY.maxVlansPerBridge);
  assert.equal(l.columns[0]?.hiddenVlans, 40 - GEOMETRY.maxVlansPerBridge);
  assert.equal(l.columns[0]?.hiddenPorts, (40 - GEOMETRY.maxVlansPerBridge) * 10);
  assert.ok(l.height < 4000, `height ${l.height}`);
});

test('the page: one self-contained HTML document with the picture, a row per port and the issues', () => {
  const html = renderHtml(host());
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script|<link |src="http|href="http/, 'no script, nothing fetched');
  assert.ok(html.includes('<svg xmlns='));
  assert.equal((html.match(/<tr><td>/g) ?? []).length, 5, 'four guests and the tunnel');
  assert.ok(html.includes('<h2>Issues</h2>\n<p>none</p>'));
});
