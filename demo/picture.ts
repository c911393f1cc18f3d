/**
 * The demo's --svg: each emulated host drawn as `netplumb show --svg FILE` draws it there.
 * One host: FILE; several: one file per host, its name before FILE's extension
 * (`demo.svg` → `demo-h1.svg`, `demo-h2.svg` …): show reads one host, and a picture is
 * one host's wiring. Equivalent to: ip netns exec HOST netplumb show --svg FILE
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { renderSvg } from '../src/render/svg.js';
import { withHostView, type BedHost } from './scenario.js';

/** The file each host is drawn into. */
export function svgFiles(file: string, hosts: readonly { name: string }[]): string[] {
  if (hosts.length === 1) return [file];
  const ext = extname(file);
  const stem = file.slice(0, file.length - ext.length);
  return hosts.map((h) => `${stem}-${h.name}${ext}`);
}

/** Draw every host; the files written, in the hosts' order. */
export async function drawHosts(
  hosts: readonly BedHost[],
  dockerHost: string | undefined,
  file: string,
): Promise<string[]> {
  const files = svgFiles(file, hosts);
  for (const [i, h] of hosts.entries())
    await withHostView(h, dockerHost, async (view) =>
      writeFileSync(files[i] as string, renderSvg(await view.topology())),
    );
  return files;
}
