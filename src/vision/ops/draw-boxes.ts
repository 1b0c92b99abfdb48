import sharp from 'sharp';
import type { Box } from '../../core/types.ts';
import { InternalError } from '../../errors.ts';
import { PNG_PREVIEW } from '../../media/image.ts';
import type { RawImage } from './raw-image.ts';

/**
 * Boxes and their labels drawn over a picture, as a PNG preview.
 *
 * Outlines are painted straight into the pixels, and every label is rasterised once, in one small SVG
 * laid out as a grid, then blended into place. A full-picture SVG layer composited by sharp cost ~7 ms on
 * a 960×440 picture even for bare rectangles (librsvg's cost grows with the canvas), each separate label
 * SVG ~1.4 ms more, and sharp's flatten of an RGBA picture ~11 ms (it works in floats): together most of
 * OCR's own time around its two models.
 */

/** Text safe inside an SVG element: labels come from users' phrases. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Rgb = readonly [number, number, number];

/** `#rrggbb` → [r, g, b]. */
function rgbOf(color: string): Rgb {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (match === null) throw new InternalError(`box colour must be #rrggbb, got ${color}`);
  return [parseInt(match[1]!, 16), parseInt(match[2]!, 16), parseInt(match[3]!, 16)];
}

/** t / 255 rounded, for t in 0..255²: one blend of two 8-bit values weighted by an 8-bit alpha. */
function div255(t: number): number {
  const r = t + 128;
  return (r + (r >> 8)) >> 8;
}

/** The picture as 3-channel RGB, any alpha flattened onto white (a preview shows no transparency). */
export function flattenToRgb(image: RawImage): Buffer {
  const { data, width, height, channels } = image;
  const pixels = width * height;
  if (channels === 3) return Buffer.from(data.subarray(0, pixels * 3));
  const rgb = Buffer.allocUnsafe(pixels * 3);
  // One loop per layout, so that each stays monomorphic.
  if (channels === 1) {
    for (let p = 0, o = 0; p < pixels; p++, o += 3) rgb[o] = rgb[o + 1] = rgb[o + 2] = data[p]!;
  } else if (channels === 2) {
    for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 2, o += 3) {
      rgb[o] = rgb[o + 1] = rgb[o + 2] = div255(data[i]! * data[i + 1]! + 255 * (255 - data[i + 1]!));
    }
  } else {
    for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
      const a = data[i + 3]!;
      if (a === 255) {
        rgb[o] = data[i]!;
        rgb[o + 1] = data[i + 1]!;
        rgb[o + 2] = data[i + 2]!;
        continue;
      }
      const white = 255 * (255 - a);
      rgb[o] = div255(data[i]! * a + white);
      rgb[o + 1] = div255(data[i + 1]! * a + white);
      rgb[o + 2] = div255(data[i + 2]! * a + white);
    }
  }
  return rgb;
}

/** Paints the rectangle [x1, x2) × [y1, y2), clipped to the picture, in an RGB buffer. */
function fillRect(rgb: Buffer, width: number, height: number, x1: number, y1: number, x2: number, y2: number, color: Rgb): void {
  const left = Math.max(0, x1);
  const right = Math.min(width, x2);
  const [r, g, b] = color;
  for (let y = Math.max(0, y1), bottom = Math.min(height, y2); y < bottom; y++) {
    for (let o = (y * width + left) * 3, end = (y * width + right) * 3; o < end; o += 3) {
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  }
}

/** Em widths per character, generous so that a label is never clipped: CJK and wider scripts take a full em. */
function labelWidthEm(text: string): number {
  let em = 0;
  for (const ch of text) em += ch.codePointAt(0)! >= 0x2e80 ? 1.05 : 0.72;
  return em;
}

interface PlacedLabel {
  text: string;
  /** Where the text starts and its baseline, in the picture. */
  x: number;
  baseline: number;
}

interface LabelStyle {
  font: number;
  stroke: number;
  color: string;
}

/** Sprite pixels one render may use at least; more when the picture is larger (the old full-picture layer's size). */
const MIN_SPRITE_PIXELS = 1 << 20;

/**
 * The labels rendered into RGBA grids of equal cells, as few renders as the pixel budget allows (usually one),
 * each cell then blended where its label belongs.
 */
async function blendLabels(rgb: Buffer, width: number, height: number, labels: readonly PlacedLabel[], style: LabelStyle): Promise<void> {
  if (labels.length === 0) return;
  const pad = Math.ceil(style.stroke);
  const ascent = Math.ceil(style.font * 0.95);
  const cell = {
    width: Math.ceil(Math.max(...labels.map((l) => labelWidthEm(l.text))) * style.font) + 2 * pad,
    height: ascent + Math.ceil(style.font * 0.3) + 2 * pad,
    pad,
    ascent,
  };
  // Hundreds of labels in a large font would otherwise make one canvas bigger than the picture itself.
  const perRender = Math.max(1, Math.floor(Math.max(MIN_SPRITE_PIXELS, width * height) / (cell.width * cell.height)));
  for (let first = 0; first < labels.length; first += perRender) {
    await blendSprite(rgb, width, height, labels.slice(first, first + perRender), cell, style);
  }
}

interface Cell {
  width: number;
  height: number;
  /** Space around the text inside a cell, and from a cell's top to the baseline inside it. */
  pad: number;
  ascent: number;
}

async function blendSprite(rgb: Buffer, width: number, height: number, labels: readonly PlacedLabel[], cell: Cell, style: LabelStyle): Promise<void> {
  const { pad, ascent } = cell;
  // Near-square, so that many labels do not make one very tall canvas.
  const columns = Math.max(1, Math.min(labels.length, Math.round(Math.sqrt((labels.length * cell.height) / cell.width))));
  const rows = Math.ceil(labels.length / columns);
  const texts = labels.map(
    (l, i) => `<text x="${(i % columns) * cell.width + pad}" y="${Math.floor(i / columns) * cell.height + pad + ascent}">${escapeXml(l.text)}</text>`,
  );
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${columns * cell.width}" height="${rows * cell.height}">` +
    `<g font-family="sans-serif" font-size="${style.font}" fill="${style.color}" stroke="#000" stroke-width="${style.stroke / 3}">${texts.join('')}</g></svg>`;
  const { data: sprite, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  labels.forEach((label, i) => {
    const cellX = (i % columns) * cell.width;
    const cellY = Math.floor(i / columns) * cell.height;
    const left = label.x - pad;
    const top = label.baseline - ascent - pad;
    const skip = Math.max(0, -left);
    for (let dy = Math.max(0, -top); dy < cell.height && top + dy < height; dy++) {
      let s = ((cellY + dy) * info.width + cellX + skip) * 4;
      let o = ((top + dy) * width + left + skip) * 3;
      for (let dx = skip; dx < cell.width && left + dx < width; dx++, s += 4, o += 3) {
        const a = sprite[s + 3]!;
        if (a === 0) continue;
        const keep = 255 - a;
        rgb[o] = div255(sprite[s]! * a + rgb[o]! * keep);
        rgb[o + 1] = div255(sprite[s + 1]! * a + rgb[o + 1]! * keep);
        rgb[o + 2] = div255(sprite[s + 2]! * a + rgb[o + 2]! * keep);
      }
    }
  });
}

/** The image with each box outlined and labelled (its label, or its number). */
export async function drawBoxes(image: RawImage, boxes: readonly Box[], color = '#00c2ff'): Promise<Buffer> {
  const outline = rgbOf(color);
  const stroke = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  const font = Math.max(10, stroke * 6);
  const { width, height } = image;
  const rgb = flattenToRgb(image);
  // As an SVG stroke would be: centred on the box's edge, `stroke` pixels wide.
  const inner = Math.floor(stroke / 2);
  const outer = stroke - inner;
  const labels: PlacedLabel[] = boxes.map((b, i) => {
    const x = Math.round(b.x1);
    const y = Math.round(b.y1);
    const w = Math.max(1, Math.round(b.x2 - b.x1));
    const h = Math.max(1, Math.round(b.y2 - b.y1));
    fillRect(rgb, width, height, x - inner, y - inner, x + w + outer, y + outer, outline);
    fillRect(rgb, width, height, x - inner, y + h - inner, x + w + outer, y + h + outer, outline);
    fillRect(rgb, width, height, x - inner, y - inner, x + outer, y + h + outer, outline);
    fillRect(rgb, width, height, x + w - inner, y - inner, x + w + outer, y + h + outer, outline);
    return { text: b.label ?? String(i + 1), x, baseline: y - stroke > font ? y - stroke : y + h + font };
  });
  await blendLabels(rgb, width, height, labels, { font, stroke, color });
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png(PNG_PREVIEW)
    .toBuffer();
}
