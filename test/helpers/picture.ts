/**
 * Pictures rendered as a person sees them: an SVG through librsvg (`rsvg-convert`, the
 * renderer GNOME uses), an HTML page through headless Chromium; then the PNG's size and
 * ink (png.ts). A missing renderer is an error, never a skip (.ci/setup installs them).
 */
import { requireCommands } from '../../sandbox/commands.js';
import { must } from '../../sandbox/exec.js';
import { pngStats, type PngStats } from './png.js';

const HINT = 'run .ci/setup (apt-get install librsvg2-bin chromium fonts-dejavu-core)';

/** Equivalent to: rsvg-convert --format png --output PNG SVG */
export async function rasterize(svg: string, png: string): Promise<PngStats> {
  requireCommands(['rsvg-convert'], 'rendering an SVG', HINT);
  await must(['rsvg-convert', '--format', 'png', '--output', png, svg], { timeoutMs: 60_000 });
  return pngStats(png);
}

/** Equivalent to: chromium --headless --screenshot=PNG --window-size=W,H file://HTML */
export async function screenshot(html: string, png: string, width = 1280, height = 1024): Promise<PngStats> {
  requireCommands(['chromium'], 'rendering an HTML page', HINT);
  await must(
    [
      'chromium',
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--hide-scrollbars',
      `--screenshot=${png}`,
      `--window-size=${width},${height}`,
      `file://${html}`,
    ],
    { timeoutMs: 120_000 },
  );
  return pngStats(png);
}
