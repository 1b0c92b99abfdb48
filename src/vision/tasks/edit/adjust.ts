import type { Sharp } from 'sharp';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { composeSideBySide } from '../../../media/image.ts';
import { FACE_LABEL, pluralOf } from '../../models/coco-labels.ts';
import type { Detection } from '../../ops/detection.ts';
import { detect, detectEveryFor, phraseLabel } from '../../find/detector.ts';
import { parseReferring } from '../../../core/referring.ts';
import type { Selector } from '../../../core/referring.ts';
import { select } from '../../find/referring.ts';
import { detectFaces } from '../../models/blazeface.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { mapVideoWithTracking, TrackSelection } from '../../find/tracked-frames.ts';
import { TASK_TABLE } from '../../../core/tasks.ts';
import { checkArgs, describeValue, flagArg, numberArg } from '../../ops/args.ts';
import { coverRegions, effectVerb, pixelateImage } from '../../ops/region-effects.ts';
import type { RegionEffect, RegionShape } from '../../ops/region-effects.ts';

export interface Adjustments {
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
  blur?: number;
  sharpen?: number;
  /** Block size in pixels. */
  pixelate?: number;
  grayscale: boolean;
  sepia: boolean;
  invert: boolean;
}

type AdjustArg = keyof typeof TASK_TABLE.adjust.args;
/** The adjustments (every argument but the phrase, which says where they apply). */
const ARGS = (Object.keys(TASK_TABLE.adjust.args) as AdjustArg[]).filter((k): k is Exclude<AdjustArg, 'phrase'> => k !== 'phrase');

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
  checkArgs('adjust', args);
  const adjustments: Adjustments = {
    brightness: numberArg('adjust', args, 'brightness'),
    contrast: numberArg('adjust', args, 'contrast'),
    saturation: numberArg('adjust', args, 'saturation'),
    hue: numberArg('adjust', args, 'hue'),
    blur: numberArg('adjust', args, 'blur'),
    sharpen: numberArg('adjust', args, 'sharpen'),
    pixelate: numberArg('adjust', args, 'pixelate'),
    grayscale: flagArg('adjust', args, 'grayscale'),
    sepia: flagArg('adjust', args, 'sepia'),
    invert: flagArg('adjust', args, 'invert'),
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
  if (a.pixelate !== undefined) parts.push(`pixelated in ${a.pixelate} px blocks`);
  if (a.grayscale) parts.push('grayscale');
  if (a.sepia) parts.push('sepia');
  if (a.invert) parts.push('inverted colours');
  return parts.join(', ');
}

/** One frame or image: RGBA in, RGBA out. */
export async function adjustRaw(image: RawImage, a: Adjustments): Promise<RawImage> {
  const adjusted = await toRaw(applyAdjustments(sharpOf(image), a).ensureAlpha());
  // Pixelating takes a second resize, which one sharp pipeline cannot hold after the first.
  return a.pixelate === undefined ? adjusted : pixelateImage(adjusted, a.pixelate);
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

/** "Blur the faces": blur or pixelate only inside what the phrase names. */
export interface RegionRequest {
  phrase: string;
  effect: RegionEffect;
  /** Which of the found ones: "the face on the left" → side left; "the faces" / "the face" → all of them. */
  selector: Selector;
}

/** The region request in the arguments, or undefined when there is no phrase (a whole-picture adjustment). */
export function parseRegionRequest(args: Record<string, unknown>): RegionRequest | undefined {
  const phrase = typeof args.phrase === 'string' ? args.phrase.trim() : '';
  if (phrase === '') return undefined;
  checkArgs('adjust', args);
  const global = ARGS.filter((k) => k !== 'blur' && k !== 'pixelate' && args[k] !== undefined && args[k] !== false);
  if (global.length > 0) {
    throw new InvalidArgumentError(
      `Only blur and pixelate work on part of the picture ("${phrase}"); ${global.join(', ')} change the whole picture. Ask for them in a separate message.`,
      { args: global },
    );
  }
  // `true` (a language-model planner's "just blur it") means the default strength.
  const blur = args.blur === true ? 0.3 : numberArg('adjust', args, 'blur');
  const pixelate = args.pixelate === true ? 2 : numberArg('adjust', args, 'pixelate');
  if (blur !== undefined && pixelate !== undefined) {
    throw new InvalidArgumentError(
      `Choose blur or pixelate for "${phrase}", not both (received blur ${describeValue(args.blur)} and pixelate ${describeValue(args.pixelate)}).`,
    );
  }
  // The strength floor in region-effects makes the default strong enough to hide what it covers.
  const effect: RegionEffect = pixelate !== undefined ? { kind: 'pixelate', block: pixelate } : { kind: 'blur', sigma: blur ?? 0.3 };
  return { phrase, effect, selector: parseReferring(phrase).selector };
}

/** Hints for finding faces in a video frame (see `coverVideo`); still images use neither. */
interface FrameHints {
  tiles: boolean;
  around: readonly Detection[];
}

interface RegionTarget {
  label: string;
  shape: RegionShape;
  find(image: RawImage, hints?: FrameHints): Promise<Detection[]>;
}

/** What to look for: faces through BlazeFace (ellipses), anything else through the shared detector (rectangles). */
function regionTarget(phrase: string, context: SpecialistContext, task: SpecialistInput['task'], embeddings?: SpecialistInput['embeddings']): RegionTarget {
  const label = phraseLabel(context.models, phrase, task);
  if (label === undefined) {
    throw new InvalidArgumentError(`Say what to cover, like "blur the faces" or "pixelate the people"; "${phrase}" does not name a thing I can find.`, {
      phrase,
    });
  }
  if (label === FACE_LABEL) return { label, shape: 'ellipse', find: (image, hints) => detectFaces(context.models, image, hints) };
  return { label, shape: 'rectangle', find: async (image) => (await detect(context.models, image, phrase, task, embeddings)).detections };
}

const count = (n: number, label: string): string => `${n} ${n === 1 ? label : pluralOf(label)}`;

/**
 * What a privacy edit covers on a still image. Referring words pick one ("the face on the left"); a
 * plain singular ("the face") with several found covers them all and says so: an uncovered face is the
 * costly mistake, so privacy never stops to ask "which one?".
 */
function regionsToCover(found: readonly Detection[], selector: Selector): { cover: Detection[]; note: string } {
  if (selector.kind === 'any' && found.length > 1) {
    return {
      cover: [...found],
      note: ' There was more than one, so I covered all of them; say which one ("the one on the left", "the second one") to cover only that.',
    };
  }
  const selection = select(found, selector);
  return { cover: selection.kind === 'one' ? [selection.detection] : selection.detections, note: '' };
}

async function coverImage(input: SpecialistInput, context: SpecialistContext, request: RegionRequest): Promise<SpecialistResult> {
  const media = input.media[0]!;
  const target = regionTarget(request.phrase, context, input.task, input.embeddings);
  const image = await decodeImage(media.bytes, context.limits);
  context.progress(0.1, `finding ${pluralOf(target.label)}`);
  const found = await target.find(image);
  // Nothing to cover: say so, and give no "result" that would look like an edit but is the same picture.
  if (found.length === 0) return { text: `No ${pluralOf(target.label)} found — nothing changed.`, media: [], boxes: [] };
  const { cover, note } = regionsToCover(found, request.selector);
  context.progress(0.7, effectVerb(request.effect).toLowerCase());
  const png = await encodePng(await coverRegions(image, cover, request.effect, target.shape));
  const comparison = await composeSideBySide(media.bytes, png, { limits: context.limits });
  const what = cover.length < found.length ? `${cover.length} of ${count(found.length, target.label)} (${request.phrase})` : count(found.length, target.label);
  return {
    text: `${effectVerb(request.effect)} ${what}.${note}`,
    boxes: cover,
    media: [
      { bytes: png, kind: 'image', mime: 'image/png', role: 'result', label: effectVerb(request.effect).toLowerCase() },
      { bytes: comparison, kind: 'image', mime: 'image/png', role: 'comparison', label: 'before / after' },
    ],
  };
}

/**
 * Faces smaller than 1/16 of a large frame need the tiled pass (13 model calls on a 720p frame); doing it
 * on every frame would cost ~0.7 s a frame here. So it runs every this many frames, and the frames in
 * between look at the whole frame plus a window around each face tracked in the frame before. A small
 * face that enters between two tiled passes is covered from the next one on (a third of a second at
 * 30 fps); faces above 1/16 of the frame are seen on every frame.
 */
const TILED_PASS_EVERY = 10;

async function coverVideo(input: SpecialistInput, context: SpecialistContext, request: RegionRequest): Promise<SpecialistResult> {
  const target = regionTarget(request.phrase, context, input.task, input.embeddings);
  const selection = new TrackSelection(request.selector);
  let previous: readonly Detection[] = [];
  const out = await mapVideoWithTracking(
    input.media[0]!,
    (frame, index) => target.find(frame, { tiles: index % TILED_PASS_EVERY === 0, around: previous }),
    (frame, tracks) => {
      // Every track guides the next frame's search, chosen or not: it keeps identities steady.
      previous = tracks;
      const cover = selection.pick(tracks);
      return cover.length === 0 ? Promise.resolve(frame) : coverRegions(frame, cover, request.effect, target.shape);
    },
    context,
    effectVerb(request.effect).toLowerCase(),
    { detectEvery: detectEveryFor(request.phrase) },
  );
  if (out.trackCount === 0) return { text: `No ${pluralOf(target.label)} found in any of the ${out.frames} frames — nothing changed.`, media: [] };
  const verb = effectVerb(request.effect);
  if (selection.picksOne) {
    if (selection.followed.size === 0) {
      return { text: `I tracked ${count(out.trackCount, target.label)} but none was ever "${request.phrase}" — nothing changed.`, media: [] };
    }
    const media = [{ bytes: out.bytes, kind: 'video' as const, mime: 'video/mp4', role: 'result' as const, label: verb.toLowerCase() }];
    return {
      text: `${verb} ${request.phrase} (followed from frame to frame; ${count(out.trackCount, target.label)} tracked in all) across ${out.frames} frames.`,
      media,
    };
  }
  const allOfSeveral =
    request.selector.kind === 'any' && out.trackCount > 1 ? ` You named one, but there were ${out.trackCount}, so I covered all of them.` : '';
  return {
    text: `${verb} ${count(out.trackCount, target.label)} across ${out.frames} frames.${allOfSeveral}`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: effectVerb(request.effect).toLowerCase() }],
  };
}

export const adjustSpecialist: Specialist = {
  tasks: ['adjust'],
  models: [],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const region = parseRegionRequest(input.args);
    if (region !== undefined) return media.info.kind === 'video' ? await coverVideo(input, context, region) : await coverImage(input, context, region);
    const a = parseAdjustments(input.args);
    return media.info.kind === 'video' ? await adjustVideo(input, context, a) : await adjustImage(input, context, a);
  },
};
