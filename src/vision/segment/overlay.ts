import { encodePng } from '../raw-image.ts';
import type { Mask, RawImage } from '../raw-image.ts';

/**
 * The mask tinted over the original with a solid outline, on pixels we already hold. Same look as the
 * media layer's overlayMask (#ff2d55 at 45 %, full colour on the edge), but that one takes encoded bytes,
 * decodes them again and tests neighbours through a closure per pixel: ~260 ms at 1024², more than a
 * fifth of ISNet itself. This pass is one typed-array loop.
 */
export function maskOverlayPng(image: RawImage, mask: Mask, tint: readonly [number, number, number] = [0xff, 0x2d, 0x55], opacity = 0.45): Promise<Buffer> {
  const { width, height, channels: c } = image;
  const src = image.data;
  const m = mask.data;
  const out = Buffer.allocUnsafe(width * height * 3);
  const [tr, tg, tb] = tint;
  const t = Math.max(1, Math.round(Math.min(width, height) / 256));
  const k = Math.round(opacity * 256);
  for (let y = 0; y < height; y++) {
    const up = Math.max(0, y - t) * width;
    const down = Math.min(height - 1, y + t) * width;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const s = i * c;
      const o = i * 3;
      const v = m[i]!;
      let r = src[s]!;
      let g = src[s + 1]!;
      let b = src[s + 2]!;
      if (v !== 0) {
        const edge =
          v >= 128 &&
          (m[row + Math.max(0, x - t)]! < 128 || m[row + Math.min(width - 1, x + t)]! < 128 || m[up + x]! < 128 || m[down + x]! < 128);
        // a in 1/65536 units: 256 (opacity) × 256 (mask) → integer blend without floats per pixel.
        const a = edge ? 65536 : k * v + k;
        const ia = 65536 - a;
        r = (r * ia + tr * a) >>> 16;
        g = (g * ia + tg * a) >>> 16;
        b = (b * ia + tb * a) >>> 16;
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return encodePng({ data: out, width, height, channels: 3 });
}
