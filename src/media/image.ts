import sharp from 'sharp';
import type { PngOptions, Sharp } from 'sharp';
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
export function explainImageError(error: unknown, limits: ImageLimits): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new MediaLimitError('The image', formatPixels(limits.maxImagePixels), 'larger than that');
  return new CorruptMediaError(`The image could not be decoded (${message.split('\n')[0]}).`);
}

async function run<T>(limits: ImageLimits, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explainImageError(error, limits);
  }
}

export async function toPng(bytes: Uint8Array, limits: ImageLimits): Promise<Buffer> {
  return run(limits, () => openImage(bytes, limits).png().toBuffer());
}

/** RGBA pixels, upright; resized (lanczos3, exactly to that size) in the same decoding pass when `size` is given. */
export async function toRgba(bytes: Uint8Array, limits: ImageLimits, size?: { width: number; height: number }): Promise<RgbaImage> {
  return run(limits, async () => {
    const image = openImage(bytes, limits);
    if (size !== undefined) image.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  });
}

/** The upright size from the header alone (EXIF orientation applied), without decoding the pixels. */
export async function uprightSize(bytes: Uint8Array, limits: ImageLimits): Promise<{ width: number; height: number }> {
  return run(limits, async () => {
    const meta = await openImage(bytes, limits).metadata();
    return meta.autoOrient ?? { width: meta.width ?? 0, height: meta.height ?? 0 };
  });
}

/**
 * PNG settings by purpose, measured on a 1024² photo (zlib-ng, no adaptive filtering: trying all five
 * filters per row costs more time than it saves bytes at low levels). Level 6, sharp's default, spends
 * twice level 2's time for about 2 % fewer bytes.
 */
export const PNG_KEEP: PngOptions = { compressionLevel: 2 };
/** Masks and overlays are looked at once in the chat: level 1 is ~2× faster than level 6 and ~12 % larger. */
export const PNG_PREVIEW: PngOptions = { compressionLevel: 1 };

export interface EncodedImage {
  bytes: Buffer;
  mime: 'image/png' | 'image/jpeg';
}

/**
 * A picture only looked at (an overlay of a photo): JPEG when opaque, PNG when it has transparency.
 * For a 1024² photo overlay, JPEG q90 is ~156 KB in ~10 ms against PNG level 1's 2.5 MB in ~35 ms.
 */
export async function encodePreview(image: { data: Buffer; width: number; height: number; channels: 3 | 4 }): Promise<EncodedImage> {
  const pixels = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  return image.channels === 3
    ? { bytes: await pixels.jpeg({ quality: 90 }).toBuffer(), mime: 'image/jpeg' }
    : { bytes: await pixels.png(PNG_PREVIEW).toBuffer(), mime: 'image/png' };
}

/** Encodes RGBA pixels (from a model or toRgba) as PNG. */
export async function fromRgba(image: RgbaImage, png: PngOptions = PNG_KEEP): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .png(png)
    .toBuffer();
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * Any CSS colour ("white", "#1e90ff", "f80", "rgb(10,20,30)") or an [r, g, b] triple. Names and functional
 * notations go to sharp's own CSS parser (@img/colour), so there is no second table of colour names and
 * anything accepted here can also be drawn by sharp; hex, the common case, is read without the round trip.
 */
export async function parseColor(value: unknown, argName = 'color'): Promise<Rgb> {
  if (Array.isArray(value) && value.length === 3 && value.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) {
    const [r, g, b] = value as [number, number, number];
    return { r, g, b };
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim().toLowerCase();
    const hex = HEX.exec(text)?.[1];
    if (hex) {
      const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
      return { r: parseInt(full.slice(0, 2), 16), g: parseInt(full.slice(2, 4), 16), b: parseInt(full.slice(4, 6), 16) };
    }
    try {
      const px = await sharp({ create: { width: 1, height: 1, channels: 3, background: text } })
        .raw()
        .toBuffer();
      return { r: px[0]!, g: px[1]!, b: px[2]! };
    } catch {
      // Unparseable: the error below says what would have been accepted.
    }
  }
  throw new InvalidArgumentError(
    `Expected a CSS colour name, a hex code (like "white" or "#1e90ff") or three integers from 0 to 255 for ${argName} but received ${JSON.stringify(value)}.`,
    { arg: argName },
  );
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

/** The mask as one byte per pixel at width × height; a raw mask already at that size is used as it is. */
async function maskPixels(mask: Uint8Array | GrayMask, width: number, height: number): Promise<Uint8Array> {
  const raw = !(mask instanceof Uint8Array);
  if (raw && mask.width === width && mask.height === height) return mask.data;
  const source = raw
    ? sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    : sharp(mask, { failOn: 'truncated' }).flatten({ background: '#000000' });
  const { data, info } = await source.resize(width, height, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return data;
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i += 1) gray[i] = data[i * info.channels]!;
  return gray;
}

function isOpaque(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false;
  return true;
}

/** Overlay pixels: RGB when the image is opaque (smaller and faster to encode), RGBA otherwise. */
export interface OverlayPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * The tint-and-outline pass on pixels already decoded, in one typed-array loop with integer blending
 * (it runs on every cut-out, next to the model). `mask` must have the image's size.
 */
export function overlayPixels(image: RgbaImage, mask: GrayMask, color: Rgb, opacity = 0.45): OverlayPixels {
  const { width, height, data: src } = image;
  if (mask.width !== width || mask.height !== height) {
    throw new InvalidArgumentError(`The mask is ${mask.width}×${mask.height} but the image is ${width}×${height}.`, { arg: 'mask' });
  }
  const m = mask.data;
  const c = isOpaque(image) ? 3 : 4;
  const out = Buffer.allocUnsafe(width * height * c);
  const { r: tr, g: tg, b: tb } = color;
  // The outline's reach: about 4 px on a 1024² image, at least 1.
  const t = Math.max(1, Math.round(Math.min(width, height) / 256));
  // Weights in 1/65536: opacity × 256 times (mask + 1) reaches opacity × 65536 at mask 255.
  const k = Math.round(Math.min(1, Math.max(0, opacity)) * 256);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = Math.max(0, y - t) * width;
    const down = Math.min(height - 1, y + t) * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const s = i * 4;
      const o = i * c;
      const v = m[i]!;
      let r = src[s]!;
      let g = src[s + 1]!;
      let b = src[s + 2]!;
      let alpha = src[s + 3]!;
      if (v !== 0) {
        // Edge pixels get the full colour: a tint alone disappears on a background of a similar hue.
        const edge = v >= 128 && (m[row + Math.max(0, x - t)]! < 128 || m[row + Math.min(width - 1, x + t)]! < 128 || m[up + x]! < 128 || m[down + x]! < 128);
        const a = edge ? 65536 : k * v + k;
        const ia = 65536 - a;
        r = (r * ia + tr * a + 32768) >>> 16;
        g = (g * ia + tg * a + 32768) >>> 16;
        b = (b * ia + tb * a + 32768) >>> 16;
        if (edge) alpha = 255;
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (c === 4) out[o + 3] = alpha;
    }
  }
  return { data: out, width, height, channels: c };
}

export interface OverlayOptions {
  /** Opacity of the tint inside the mask, 0..1. Default 0.45. */
  opacity?: number;
  limits?: ImageLimits;
}

async function overlayOf(
  image: Uint8Array | RgbaImage,
  mask: Uint8Array | GrayMask,
  color: string | readonly [number, number, number],
  options: OverlayOptions,
): Promise<OverlayPixels> {
  const tint = await parseColor(color, 'color');
  const limits = options.limits ?? { maxImagePixels: 268_402_689 };
  const pixels = image instanceof Uint8Array ? await toRgba(image, limits) : image;
  const { width, height } = pixels;
  const gray = await run(limits, () => maskPixels(mask, width, height));
  return overlayPixels(pixels, { data: gray, width, height }, tint, options.opacity);
}

/**
 * The image with the mask tinted in `color` and outlined, so a user can check what was selected.
 * The image is encoded bytes or pixels already decoded (no second decode). The mask is a raw GrayMask or
 * an encoded image (white = inside); it is stretched to the image's size when it differs.
 */
export async function overlayMask(
  image: Uint8Array | RgbaImage,
  mask: Uint8Array | GrayMask,
  color: string | readonly [number, number, number] = '#ff2d55',
  options: OverlayOptions = {},
): Promise<Buffer> {
  const out = await overlayOf(image, mask, color, options);
  return sharp(out.data, { raw: { width: out.width, height: out.height, channels: out.channels } })
    .png(PNG_PREVIEW)
    .toBuffer();
}

/** overlayMask for the chat: JPEG when the image is opaque (see encodePreview), so say which with `mime`. */
export async function overlayPreview(
  image: Uint8Array | RgbaImage,
  mask: Uint8Array | GrayMask,
  color: string | readonly [number, number, number] = '#ff2d55',
  options: OverlayOptions = {},
): Promise<EncodedImage> {
  return encodePreview(await overlayOf(image, mask, color, options));
}

/** Pixels with an SVG layer on top, encoded for the chat (JPEG when opaque). */
export async function withSvg(pixels: OverlayPixels, svg: string): Promise<EncodedImage> {
  const { data, info } = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .toColourspace('srgb')
    [pixels.channels === 3 ? 'removeAlpha' : 'ensureAlpha']()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encodePreview({ data, width: info.width, height: info.height, channels: info.channels as 3 | 4 });
}
