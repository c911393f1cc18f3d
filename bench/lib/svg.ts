/** Two small hand-drawn SVG charts for the benchmark report: bars, and lines over categories. */

const W = 640;
const H = 320;
const M = { left: 70, right: 160, top: 40, bottom: 50 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function frame(title: string, yLabel: string, body: string, yMax: number): string {
  const ticks = Array.from({ length: 5 }, (_, i) => (yMax * i) / 4);
  const y = (v: number) => H - M.bottom - ((H - M.top - M.bottom) * v) / yMax;
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t >= 100 ? Math.round(t) : Number(t.toPrecision(3))}</text>`,
    )
    .join('');
  return `<g><text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>${grid}<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>${body}</g>`;
}

/** Vertical bars, one per label (log-free: the axis starts at 0). */
export function barChart(title: string, yLabel: string, bars: { label: string; value: number }[]): string {
  const yMax = Math.max(...bars.map((b) => b.value), 1) * 1.1;
  const slot = (W - M.left - M.right) / bars.length;
  const y = (v: number) => H - M.bottom - ((H - M.top - M.bottom) * v) / yMax;
  const body = bars
    .map((b, i) => {
      const x = M.left + i * slot + slot * 0.15;
      return `<rect x="${x}" y="${y(b.value)}" width="${slot * 0.7}" height="${H - M.bottom - y(b.value)}" fill="${COLORS[i % COLORS.length]}"/><text x="${x + slot * 0.35}" y="${y(b.value) - 4}" text-anchor="middle" font-size="11">${Math.round(b.value)}</text><text x="${x + slot * 0.35}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="10">${esc(b.label)}</text>`;
    })
    .join('');
  return frame(title, yLabel, body, yMax);
}

/** One line per series over shared x categories (e.g. concurrency 1, 16, 64). */
export function lineChart(
  title: string,
  yLabel: string,
  xLabels: string[],
  series: { name: string; values: number[] }[],
): string {
  const yMax = Math.max(...series.flatMap((s) => s.values), 1) * 1.1;
  const x = (i: number) => M.left + ((W - M.left - M.right) * (i + 0.5)) / xLabels.length;
  const y = (v: number) => H - M.bottom - ((H - M.top - M.bottom) * v) / yMax;
  const axis = xLabels
    .map((l, i) => `<text x="${x(i)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${esc(l)}</text>`)
    .join('');
  const lines = series
    .map((s, k) => {
      const c = COLORS[k % COLORS.length];
      const pts = s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
      const dots = s.values.map((v, i) => `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${c}"/>`).join('');
      return `<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>${dots}<text x="${W - M.right + 10}" y="${M.top + 16 * k}" font-size="11" fill="${c}">${esc(s.name)}</text>`;
    })
    .join('');
  return frame(title, yLabel, axis + lines, yMax);
}

/** Stack charts vertically into one SVG document. */
export function svgDocument(charts: string[]): string {
  const body = charts.map((c, i) => `<g transform="translate(0 ${i * H})">${c}</g>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * charts.length}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}
