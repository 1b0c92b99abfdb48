import type { Sharp } from 'sharp';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../errors.ts';
import { composeSideBySide } from '../../media/image.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../raw-image.ts';
import type { RawImage } from '../raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../specialist.ts';
import { mapVideoFrames } from '../video/frame-map.ts';
import { optionalFlag, optionalNumber, rejectUnknown } from './args.ts';

export interface Adjustments {
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
  blur?: number;
  sharpen?: number;
  grayscale: boolean;
  sepia: boolean;
  invert: boolean;
}

const ARGS = ['brightness', 'contrast', 'saturation', 'hue', 'blur', 'sharpen', 'grayscale', 'sepia', 'invert'] as const;

type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/** The classic sepia matrix (Microsoft's), applied to sRGB values by sharp's recomb. */
const SEPIA: Matrix3 = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
];

/**
 * Grey as Rec. 709 luma in all three channels. A recomb rather than sharp's grayscale(), which emits one
 * channel: video frames must stay RGBA, and sepia + grayscale must compose into one matrix (sharp keeps
 * only the last recomb).
 */
const GRAY: Matrix3 = [
  [0.2126, 0.7152, 0.0722],
  [0.2126, 0.7152, 0.0722],
  [0.2126, 0.7152, 0.0722],
];

function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  return a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j]! + row[1] * b[1][j]! + row[2] * b[2][j]!)) as Matrix3;
}

export function parseAdjustments(args: Record<string, unknown>): Adjustments {
  rejectUnknown(args, ARGS, 'adjust');
  const adjustments: Adjustments = {
    brightness: optionalNumber(args, 'brightness', 0.01, 10),
    contrast: optionalNumber(args, 'contrast', 0, 10),
    saturation: optionalNumber(args, 'saturation', 0, 10),
    hue: optionalNumber(args, 'hue', -360, 360),
    blur: optionalNumber(args, 'blur', 0.3, 1000),
    sharpen: optionalNumber(args, 'sharpen', 0.000001, 10),
    grayscale: optionalFlag(args, 'grayscale'),
    sepia: optionalFlag(args, 'sepia'),
    invert: optionalFlag(args, 'invert'),
  };
  const any = ARGS.some((k) => adjustments[k] !== undefined && adjustments[k] !== false);
  if (!any) throw new InvalidArgumentError(`adjust needs at least one of ${ARGS.join(', ')}.`);
  return adjustments;
}

/** Applies the adjustments to a sharp pipeline (sharp orders the operations itself: tone, then colour). */
export function applyAdjustments(pipeline: Sharp, a: Adjustments): Sharp {
  let p = pipeline;
  if (a.brightness !== undefined || a.saturation !== undefined || a.hue !== undefined) {
    // sharp rejects keys that are present but undefined: pass only what was asked for.
    p = p.modulate({
      ...(a.brightness !== undefined && { brightness: a.brightness }),
      ...(a.saturation !== undefined && { saturation: a.saturation }),
      ...(a.hue !== undefined && { hue: Math.round(a.hue) }),
    });
  }
  // Contrast around mid-grey: out = c·in + 128·(1 − c); sharp keeps alpha out of `linear`.
  if (a.contrast !== undefined) p = p.linear(a.contrast, 128 * (1 - a.contrast));
  if (a.blur !== undefined) p = p.blur(a.blur);
  if (a.sharpen !== undefined) p = p.sharpen({ sigma: a.sharpen });
  const recomb = a.sepia && a.grayscale ? multiply(SEPIA, GRAY) : a.sepia ? SEPIA : a.grayscale ? GRAY : undefined;
  if (recomb) p = p.recomb(recomb);
  if (a.invert) p = p.negate({ alpha: false });
  return p;
}

export function describeAdjustments(a: Adjustments): string {
  const parts: string[] = [];
  if (a.brightness !== undefined) parts.push(`brightness ×${a.brightness}`);
  if (a.contrast !== undefined) parts.push(`contrast ×${a.contrast}`);
  if (a.saturation !== undefined) parts.push(`saturation ×${a.saturation}`);
  if (a.hue !== undefined) parts.push(`hue ${a.hue > 0 ? '+' : ''}${a.hue}°`);
  if (a.blur !== undefined) parts.push(`blur ${a.blur}`);
  if (a.sharpen !== undefined) parts.push(`sharpen ${a.sharpen}`);
  if (a.grayscale) parts.push('grayscale');
  if (a.sepia) parts.push('sepia');
  if (a.invert) parts.push('inverted colours');
  return parts.join(', ');
}

/** One frame or image: RGBA in, RGBA out. */
export function adjustRaw(image: RawImage, a: Adjustments): Promise<RawImage> {
  return toRaw(applyAdjustments(sharpOf(image), a).ensureAlpha());
}

async function adjustImage(input: SpecialistInput, context: SpecialistContext, a: Adjustments): Promise<SpecialistResult> {
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  const result = await adjustRaw(image, a);
  const png = await encodePng(result);
  const comparison = await composeSideBySide(input.media[0]!.bytes, png, { limits: context.limits });
  return {
    text: `Adjusted: ${describeAdjustments(a)}.`,
    media: [
      { bytes: png, kind: 'image', mime: 'image/png', role: 'result', label: 'adjusted' },
      { bytes: comparison, kind: 'image', mime: 'image/png', role: 'comparison', label: 'before / after' },
    ],
  };
}

async function adjustVideo(input: SpecialistInput, context: SpecialistContext, a: Adjustments): Promise<SpecialistResult> {
  const out = await mapVideoFrames(input.media[0]!, (frame) => adjustRaw(frame, a), context, 'adjusting');
  return {
    text: `Adjusted all ${out.frames} frames: ${describeAdjustments(a)}.`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'adjusted' }],
  };
}

export const adjustSpecialist: Specialist = {
  tasks: ['adjust'],
  accepts: ['image', 'video'],
  models: [],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const a = parseAdjustments(input.args);
    return media.info.kind === 'video' ? await adjustVideo(input, context, a) : await adjustImage(input, context, a);
  },
};
