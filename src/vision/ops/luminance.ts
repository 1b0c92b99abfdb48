import sharp from 'sharp';
import { openImage, type ImageLimits } from '../../media/image.ts';

/**
 * `colours`' chroma on `original`'s luminance (BT.601 YCbCr), at the original's size: a colourised photo
 * keeps every edge and shade of the original, and only the colour comes from the generator, which works
 * at a lower resolution and would otherwise soften the picture.
 */
export async function keepLuminance(original: Buffer, colours: Buffer, limits: ImageLimits): Promise<Buffer> {
  const base = await openImage(original, limits).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = base.info;
  const tint = await sharp(colours).removeAlpha().resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const out = Buffer.alloc(width * height * 3);
  const channels = base.info.channels;
  for (let i = 0, o = 0; o < out.length; i += channels, o += 3) {
    const y = channels >= 3 ? 0.299 * base.data[i]! + 0.587 * base.data[i + 1]! + 0.114 * base.data[i + 2]! : base.data[i]!;
    const r = tint[o]!;
    const g = tint[o + 1]!;
    const b = tint[o + 2]!;
    const cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
    const cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
    out[o] = clamp(y + 1.402 * cr);
    out[o + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    out[o + 2] = clamp(y + 1.772 * cb);
  }
  return sharp(out, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
