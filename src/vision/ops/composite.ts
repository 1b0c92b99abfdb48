import type { Rgb } from '../../media/image.ts';
import type { Mask, RawImage } from './raw-image.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Per-pixel compositing with a soft mask, on typed arrays in one pass each: these run once per video
 * frame, so no per-pixel objects and no sharp round trips.
 */

/**
 * The image as RGBA with the mask as (an extra factor on) its alpha. Fully transparent pixels get colour
 * 0 too: nobody can see it, and uniform runs let deflate collapse the background (on a 1024² photo with
 * half of it cut away: 1.6 MB instead of 2.7 MB, encoded in half the time).
 */
export function applyMaskAsAlpha(image: RawImage, mask: Mask): RawImage {
  const n = image.width * image.height;
  const src = image.data;
  const m = mask.data;
  const out = Buffer.allocUnsafe(n * 4);
  const c = image.channels;
  if (c === 4 && LITTLE_ENDIAN && src.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    // Whole pixels as 32-bit words (alpha in the top byte): half the time of four byte copies.
    const s32 = new Uint32Array(src.buffer, src.byteOffset, n);
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const p = s32[i]!;
      const a = (((p >>> 24) * m[i]! + 127) / 255) | 0;
      o32[i] = a === 0 ? 0 : ((p & 0xffffff) | (a << 24)) >>> 0;
    }
    return { data: out, width: image.width, height: image.height, channels: 4 };
  }
  for (let i = 0, s = 0, o = 0; i < n; i++, s += c, o += 4) {
    const a = c === 4 ? ((src[s + 3]! * m[i]! + 127) / 255) | 0 : m[i]!;
    if (a === 0) {
      out.writeUInt32LE(0, o);
      continue;
    }
    out[o] = src[s]!;
    out[o + 1] = src[s + 1]!;
    out[o + 2] = src[s + 2]!;
    out[o + 3] = a;
  }
  return { data: out, width: image.width, height: image.height, channels: 4 };
}

/** Subject over a background image of the same size (RGB or RGBA); the result has `channels` channels. */
export function compositeOver(image: RawImage, mask: Mask, background: RawImage, channels: 3 | 4 = 3): RawImage {
  const n = image.width * image.height;
  const fg = image.data;
  const bg = background.data;
  const m = mask.data;
  const fc = image.channels;
  const bc = background.channels;
  const out = Buffer.allocUnsafe(n * channels);
  for (let i = 0, f = 0, b = 0, o = 0; i < n; i++, f += fc, b += bc, o += channels) {
    const a = m[i]!;
    const ia = 255 - a;
    out[o] = (fg[f]! * a + bg[b]! * ia + 127) / 255;
    out[o + 1] = (fg[f + 1]! * a + bg[b + 1]! * ia + 127) / 255;
    out[o + 2] = (fg[f + 2]! * a + bg[b + 2]! * ia + 127) / 255;
    if (channels === 4) out[o + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height, channels };
}

/** Subject over a solid colour. */
export function compositeOnColor(image: RawImage, mask: Mask, color: Rgb, channels: 3 | 4 = 3): RawImage {
  const n = image.width * image.height;
  const fg = image.data;
  const m = mask.data;
  const fc = image.channels;
  const out = Buffer.allocUnsafe(n * channels);
  const { r, g, b } = color;
  for (let i = 0, f = 0, o = 0; i < n; i++, f += fc, o += channels) {
    const a = m[i]!;
    const ia = 255 - a;
    out[o] = (fg[f]! * a + r * ia + 127) / 255;
    out[o + 1] = (fg[f + 1]! * a + g * ia + 127) / 255;
    out[o + 2] = (fg[f + 2]! * a + b * ia + 127) / 255;
    if (channels === 4) out[o + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height, channels };
}
