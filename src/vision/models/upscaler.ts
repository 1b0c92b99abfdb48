import type { RawImage } from '../ops/raw-image.ts';
import type { SpecialistContext } from '../specialist.ts';

/** Something that enlarges an image by one of its factors; alpha, when there is any, comes back too. */
export interface Upscaler {
  /** 'esrgan-slim', 'swin2sr' */
  readonly name: string;
  /** The catalog model it runs; undefined when it needs no weights. */
  readonly model?: string;
  readonly factors: readonly number[];
  upscale(image: RawImage, factor: number, context: SpecialistContext): Promise<RawImage>;
}
