import type { Mask, RawImage } from '../ops/raw-image.ts';
import type { SpecialistContext } from '../specialist.ts';

/** Something that fills a hole in an image (mask 255 = hole); the rest of the image comes back unchanged. */
export interface Inpainter {
  /** 'opencv-telea', 'migan', 'lama' */
  readonly name: string;
  /** The catalog model it runs; undefined when it needs no weights. */
  readonly model?: string;
  inpaint(image: RawImage, mask: Mask, context: SpecialistContext): Promise<RawImage>;
}
