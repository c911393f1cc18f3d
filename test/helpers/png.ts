/**
 * Read a PNG (8-bit RGB or RGBA, not interlaced: what rsvg-convert and Chromium write) and
 * tell whether it shows something: its size, how many distinct colours, how much of it is
 * not the background. The oracle for "the picture is not blank".
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface PngStats {
  width: number;
  height: number;
  /** Distinct colours (RGB), counted up to 10,000. */
  colours: number;
  /** Share of pixels that differ from the top-left pixel (the background). */
  inked: number;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function pngStats(path: string): PngStats {
  const buf = readFileSync(path);
  if (!buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) throw new Error(`${path}: not a PNG`);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colourType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colourType !== 2 && colourType !== 6))
        throw new Error(
          `${path}: PNG depth ${depth}, colour type ${colourType}, interlace ${interlace}: not read here`,
        );
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  const seen = new Set<number>();
  let background = -1;
  let inked = 0;
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base] ?? 0;
    for (let i = 0; i < stride; i++) {
      const x = raw[base + 1 + i] ?? 0;
      const a = i >= channels ? (line[i - channels] ?? 0) : 0;
      const b = prev[i] ?? 0;
      const c = i >= channels ? (prev[i - channels] ?? 0) : 0;
      const v =
        filter === 1
          ? x + a
          : filter === 2
            ? x + b
            : filter === 3
              ? x + ((a + b) >> 1)
              : filter === 4
                ? x + paeth(a, b, c)
                : x;
      line[i] = v & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const o = px * channels;
      const rgb = ((line[o] ?? 0) << 16) | ((line[o + 1] ?? 0) << 8) | (line[o + 2] ?? 0);
      if (background < 0) background = rgb;
      if (rgb !== background) inked++;
      if (seen.size < 10_000) seen.add(rgb);
    }
    line.copy(prev);
  }
  return { width, height, colours: seen.size, inked: inked / (width * height) };
}
