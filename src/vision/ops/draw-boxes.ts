import type { Box } from '../../core/types.ts';
import { PNG_PREVIEW } from '../../media/image.ts';
import { sharpOf } from './raw-image.ts';
import type { RawImage } from './raw-image.ts';

/** Text safe inside an SVG element: labels come from users' phrases. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The image with each box outlined and numbered (an SVG layer composited by sharp). */
export async function drawBoxes(image: RawImage, boxes: readonly Box[], color = '#00c2ff'): Promise<Buffer> {
  const stroke = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  const font = Math.max(10, stroke * 6);
  const shapes = boxes.map((b, i) => {
    const x = Math.round(b.x1);
    const y = Math.round(b.y1);
    const w = Math.max(1, Math.round(b.x2 - b.x1));
    const h = Math.max(1, Math.round(b.y2 - b.y1));
    const labelY = y - stroke > font ? y - stroke : y + h + font;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${color}" stroke-width="${stroke}"/>` +
      `<text x="${x}" y="${labelY}" font-family="sans-serif" font-size="${font}" fill="${color}" stroke="#000" stroke-width="${stroke / 3}">${escapeXml(b.label ?? String(i + 1))}</text>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${shapes.join('')}</svg>`;
  // A preview, not an edit: flattened to RGB, which encodes faster and smaller than RGBA.
  return sharpOf(image)
    .flatten({ background: '#ffffff' })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .png(PNG_PREVIEW)
    .toBuffer();
}
