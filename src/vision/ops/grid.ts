import sharp from 'sharp';
import { PNG_KEEP } from '../../media/image.ts';

/** Gap between tiles, in pixels of the grid. */
const GAP = 8;
/** Largest side of one tile in the grid: the grid is for choosing, the full pictures are stored apart. */
const TILE_MAX = 512;

/**
 * Pictures side by side, two per row (one row for two), each numbered in its corner as the pick buttons
 * are ("1" … "4"), so "upscale the second one" and the U2 button name the same picture.
 */
export async function gridOf(pictures: readonly Buffer[]): Promise<Buffer> {
  const metas = await Promise.all(pictures.map((p) => sharp(p).metadata()));
  const scale = Math.min(1, ...metas.map((m) => TILE_MAX / Math.max(m.width ?? 1, m.height ?? 1)));
  const tileW = Math.max(...metas.map((m) => Math.round((m.width ?? 1) * scale)));
  const tileH = Math.max(...metas.map((m) => Math.round((m.height ?? 1) * scale)));
  const columns = Math.min(pictures.length, 2);
  const rows = Math.ceil(pictures.length / columns);
  const width = columns * tileW + (columns - 1) * GAP;
  const height = rows * tileH + (rows - 1) * GAP;
  const font = Math.max(14, Math.round(tileH / 12));
  const layers = await Promise.all(
    pictures.map(async (picture, i) => {
      const left = (i % columns) * (tileW + GAP);
      const top = Math.floor(i / columns) * (tileH + GAP);
      const tile = await sharp(picture).resize(tileW, tileH, { fit: 'contain', background: '#111111' }).png().toBuffer();
      return { input: tile, left, top };
    }),
  );
  const labels = pictures.map((_, i) => {
    const x = (i % columns) * (tileW + GAP) + font * 0.5;
    const y = Math.floor(i / columns) * (tileH + GAP) + font * 1.2;
    return `<text x="${x}" y="${y}" font-family="sans-serif" font-weight="bold" font-size="${font}" fill="#ffffff" stroke="#000000" stroke-width="${Math.max(1, font / 8)}">${i + 1}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${labels.join('')}</svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#111111' } })
    .composite([...layers, { input: Buffer.from(svg), left: 0, top: 0 }])
    .png(PNG_KEEP)
    .toBuffer();
}
