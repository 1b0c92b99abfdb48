import { InvalidArgumentError } from '../../errors.ts';
import type { GenerationOperation, GenerationRequest } from './engine.ts';
import { VAE_FACTOR } from './sd-turbo-pipeline.ts';

/** What SD-Turbo will actually run for a request: sizes rounded, defaults filled, limits checked. */

export const MAX_SIDE = 1024;
/** 1024² pixels: beyond it SD-Turbo (trained at 512²) repeats subjects and CPU time grows past minutes. */
export const MAX_PIXELS = MAX_SIDE * MAX_SIDE;
const MIN_SIDE = 64;
export const MAX_STEPS = 4;
export const MAX_COUNT = 4;

/** Defaults per operation: 1 step from noise (what SD-Turbo is distilled for); img2img keeps half the picture. */
export const DEFAULTS: Record<Exclude<GenerationOperation, 'instruct'>, { steps: number; strength: number }> = {
  'text-to-image': { steps: 1, strength: 1 },
  'image-to-image': { steps: 2, strength: 0.5 },
  inpaint: { steps: 2, strength: 1 },
};

export interface SdTurboPlan {
  operation: Exclude<GenerationOperation, 'instruct'>;
  width: number;
  height: number;
  steps: number;
  strength: number;
  count: number;
}

function roundSide(value: number): number {
  return Math.max(MIN_SIDE, Math.round(value / VAE_FACTOR) * VAE_FACTOR);
}

/** Width and height as multiples of 8, shrunk (keeping the aspect) to at most 1024 a side and 1024² in all. */
export function roundedSize(width: number, height: number): { width: number; height: number } {
  if (!(width > 0 && height > 0) || !Number.isFinite(width) || !Number.isFinite(height))
    throw new InvalidArgumentError(`The size ${width}×${height} is not a picture size.`);
  const shrink = Math.min(1, MAX_SIDE / width, MAX_SIDE / height, Math.sqrt(MAX_PIXELS / (width * height)));
  // Rounding down after shrinking so that the limit still holds.
  const side = (v: number) => (shrink < 1 ? Math.max(MIN_SIDE, Math.floor((v * shrink) / VAE_FACTOR) * VAE_FACTOR) : roundSide(v));
  return { width: Math.min(MAX_SIDE, side(width)), height: Math.min(MAX_SIDE, side(height)) };
}

export function planRequest(request: GenerationRequest): SdTurboPlan {
  const { operation } = request;
  if (operation === 'instruct') throw new InvalidArgumentError('SD-Turbo cannot follow an instruction; ask for an image-to-image edit instead.');
  const defaults = DEFAULTS[operation];
  const steps = request.steps ?? defaults.steps;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) throw new InvalidArgumentError(`SD-Turbo runs 1 to ${MAX_STEPS} steps, not ${steps}.`);
  if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_COUNT)
    throw new InvalidArgumentError(`Ask for 1 to ${MAX_COUNT} images, not ${request.count}.`);
  if (!Number.isInteger(request.seed)) throw new InvalidArgumentError(`The seed must be a whole number, not ${request.seed}.`);
  const strength = operation === 'text-to-image' ? 1 : (request.strength ?? defaults.strength);
  if (!(strength > 0 && strength <= 1)) throw new InvalidArgumentError(`The strength must be above 0 and at most 1, not ${strength}.`);
  if (operation !== 'text-to-image' && request.image === undefined) throw new InvalidArgumentError(`${operation} needs an input picture.`);
  if (operation === 'inpaint' && request.mask === undefined) throw new InvalidArgumentError('Inpainting needs a mask.');
  return { operation, ...roundedSize(request.width, request.height), steps, strength, count: request.count };
}
