import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { CorruptMediaError, InvalidArgumentError, MediaLimitError } from '../errors.ts';
import { formatPixels } from './limits.ts';
import type { MediaLimits } from './limits.ts';

export type ImageLimits = Pick<MediaLimits, 'maxImagePixels'>;

/** Decoded pixels, always 4 channels (RGBA), row-major. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
}

/** A single-channel mask: one byte per pixel, 0 = outside, 255 = inside (soft values allowed). */
export interface GrayMask {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * A sharp pipeline over uploaded bytes with the safety settings always on: the pixel limit (decompression
 * bombs), failure on truncated data, and EXIF auto-orientation so that models see what the user sees.
 */
export function openImage(bytes: Uint8Array, limits: ImageLimits): Sharp {
  return sharp(bytes, { limitInputPixels: limits.maxImagePixels, failOn: 'truncated', autoOrient: true });
}

/** sharp reports everything as a plain Error; these are the two kinds a user can be told about. */
function explain(error: unknown, limits: ImageLimits): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new MediaLimitError('The image', formatPixels(limits.maxImagePixels), 'larger than that');
  return new CorruptMediaError(`The image could not be decoded (${message.split('\n')[0]}).`);
}

async function run<T>(limits: ImageLimits, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explain(error, limits);
  }
}

export async function toPng(bytes: Uint8Array, limits: ImageLimits): Promise<Buffer> {
  return run(limits, () => openImage(bytes, limits).png().toBuffer());
}

export async function toRgba(bytes: Uint8Array, limits: ImageLimits): Promise<RgbaImage> {
  return run(limits, async () => {
    const { data, info } = await openImage(bytes, limits).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}

/** Encodes RGBA pixels (from a model or toRgba) as PNG. */
export async function fromRgba(image: RgbaImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } }).png().toBuffer();
}

/** Accepts "#rgb", "#rrggbb" or an [r, g, b] triple. */
export function parseColor(color: string | readonly [number, number, number]): [number, number, number] {
  if (typeof color !== 'string') {
    if (color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) return [color[0], color[1], color[2]];
  } else {
    const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())?.[1];
    if (hex) {
      const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
      return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
    }
  }
  throw new InvalidArgumentError(`A colour must be "#rrggbb" or three numbers from 0 to 255; received ${JSON.stringify(color)}.`);
}

function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A white label on a translucent dark pill, sized to its text. */
async function labelImage(text: string, fontPx: number): Promise<{ input: Buffer; width: number; height: number }> {
  const rendered = await sharp({
    text: { text: `<span foreground="white">${escapeMarkup(text)}</span>`, font: `sans bold ${fontPx}px`, rgba: true, dpi: 72 },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  const pad = Math.max(3, Math.round(fontPx * 0.35));
  const width = rendered.info.width + pad * 2;
  const height = rendered.info.height + pad * 2;
  const input = await sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.6 } } })
    .composite([{ input: rendered.data, left: pad, top: pad }])
    .png()
    .toBuffer();
  return { input, width, height };
}

export interface SideBySideOptions {
  labels?: readonly [string, string];
  /** Height of the comparison in pixels at most; both sides are scaled to the same height. Default 1024. */
  maxHeight?: number;
  limits?: ImageLimits;
}

/** A before/after comparison: both images at the same height, side by side, each with a small label. */
export async function composeSideBySide(before: Uint8Array, after: Uint8Array, options: SideBySideOptions = {}): Promise<Buffer> {
  const limits = options.limits ?? { maxImagePixels: 268_402_689 };
  const [labelBefore, labelAfter] = options.labels ?? ['before', 'after'];
  return run(limits, async () => {
    const metas = await Promise.all([before, after].map((b) => openImage(b, limits).metadata()));
    const sizes = metas.map((m) => m.autoOrient ?? { width: m.width ?? 1, height: m.height ?? 1 });
    const height = Math.min(options.maxHeight ?? 1024, Math.max(...sizes.map((s) => s.height)));
    const panels = await Promise.all(
      [before, after].map(async (bytes, i) => {
        const width = Math.max(1, Math.round((sizes[i]!.width * height) / sizes[i]!.height));
        const input = await openImage(bytes, limits).resize(width, height, { fit: 'fill' }).png().toBuffer();
        return { input, width };
      }),
    );
    const gap = Math.max(4, Math.round(height * 0.02));
    const fontPx = Math.max(11, Math.min(32, Math.round(height * 0.045)));
    const margin = Math.max(4, Math.round(fontPx * 0.5));
    const [left, right] = panels as [{ input: Buffer; width: number }, { input: Buffer; width: number }];
    const labels = await Promise.all([labelBefore, labelAfter].map((text) => labelImage(text, fontPx)));
    return sharp({ create: { width: left.width + gap + right.width, height, channels: 4, background: '#1e1e1e' } })
      .composite([
        { input: left.input, left: 0, top: 0 },
        { input: right.input, left: left.width + gap, top: 0 },
        // Labels are drawn only where they fit, so a tiny thumbnail is never covered by its own caption.
        ...labels.flatMap((label, i) => {
          const x = (i === 0 ? 0 : left.width + gap) + margin;
          const fits = label.width + margin <= panels[i]!.width && label.height + margin <= height;
          return fits ? [{ input: label.input, left: x, top: margin }] : [];
        }),
      ])
      .png()
      .toBuffer();
  });
}

async function maskPixels(mask: Uint8Array | GrayMask, width: number, height: number): Promise<Uint8Array> {
  const source = 'data' in mask && !(mask instanceof Uint8Array)
    ? sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    : sharp(mask, { failOn: 'truncated' }).flatten({ background: '#000000' });
  const { data, info } = await source.resize(width, height, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return data;
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i += 1) gray[i] = data[i * info.channels]!;
  return gray;
}

export interface OverlayOptions {
  /** Opacity of the tint inside the mask, 0..1. Default 0.45. */
  opacity?: number;
  limits?: ImageLimits;
}

/**
 * The image with the mask tinted in `color` and outlined, so a user can check what was selected.
 * The mask is a raw GrayMask or an encoded image (white = inside); it is stretched to the image's size.
 */
export async function overlayMask(
  imageBytes: Uint8Array,
  mask: Uint8Array | GrayMask,
  color: string | readonly [number, number, number] = '#ff2d55',
  options: OverlayOptions = {},
): Promise<Buffer> {
  const [cr, cg, cb] = parseColor(color);
  const opacity = Math.min(1, Math.max(0, options.opacity ?? 0.45));
  const limits = options.limits ?? { maxImagePixels: 268_402_689 };
  const image = await toRgba(imageBytes, limits);
  const { width, height, data } = image;
  const gray = await run(limits, () => maskPixels(mask, width, height));
  const out = Buffer.from(data);
  const t = Math.max(1, Math.round(Math.min(width, height) / 256));
  const inside = (x: number, y: number): boolean => gray[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))]! >= 128;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = y * width + x;
      const m = gray[i]! / 255;
      if (m === 0) continue;
      const o = i * 4;
      // Edge pixels get the full colour: a tint alone disappears on a background of a similar hue.
      const edge = m >= 0.5 && (!inside(x - t, y) || !inside(x + t, y) || !inside(x, y - t) || !inside(x, y + t));
      const a = edge ? 1 : opacity * m;
      out[o] = Math.round(out[o]! * (1 - a) + cr * a);
      out[o + 1] = Math.round(out[o + 1]! * (1 - a) + cg * a);
      out[o + 2] = Math.round(out[o + 2]! * (1 - a) + cb * a);
      if (edge) out[o + 3] = 255;
    }
  }
  return fromRgba({ data: out, width, height });
}
