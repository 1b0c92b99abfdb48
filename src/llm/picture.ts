import { explainImageError, openImage, type ImageLimits } from '../media/image.ts';

const JPEG_QUALITY = 85;

/**
 * An image as the LLM endpoint receives it (captions, answers, the planner's look at a turn's picture): upright,
 * longest side at most `maxSide` (never enlarged), transparency flattened onto white, JPEG. Vision models tile
 * or downscale large inputs anyway; sending them whole only costs upload time and tokens.
 */
export async function encodeForLlm(bytes: Uint8Array, limits: ImageLimits, maxSide: number): Promise<Buffer> {
  try {
    return await openImage(bytes, limits)
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: JPEG_QUALITY })
      .toBuffer();
  } catch (error) {
    throw explainImageError(error, limits);
  }
}

/** A JPEG as the chat message part an OpenAI-compatible server reads. */
export function jpegDataUrl(jpeg: Buffer): string {
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
