import { InvalidArgumentError, MediaLimitError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import type { MediaLimits } from '../../../media/limits.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { TASK_TABLE } from '../../../core/tasks.ts';
import { checkArgs, choiceArg, describeValue, numberArg, optionalNumber } from '../../ops/args.ts';

export type Crop = { kind: 'aspect'; w: number; h: number; label: string } | { kind: 'box'; left: number; top: number; width: number; height: number };

export interface Resize {
  width?: number;
  height?: number;
  scale?: number;
}

export interface Transform {
  crop?: Crop;
  resize?: Resize;
  rotate?: number;
  flip?: 'horizontal' | 'vertical';
}

const ARGS = Object.keys(TASK_TABLE.transform.args);

function parseAspect(value: string): Crop {
  const m = /^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$/i.exec(value);
  const w = m ? Number(m[1]) : NaN;
  const h = m ? Number(m[2]) : NaN;
  if (!(w > 0 && h > 0))
    throw new InvalidArgumentError(`Expected an aspect ratio like "1:1" or "16:9" for crop.aspect but received ${describeValue(value)}.`, { arg: 'crop' });
  return { kind: 'aspect', w, h, label: `${m![1]}:${m![2]}` };
}

function parseCrop(value: unknown): Crop | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return parseAspect(value);
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.aspect === 'string') return parseAspect(v.aspect);
    const box = { left: v.left, top: v.top, width: v.width, height: v.height };
    if (Object.values(box).every((n) => typeof n === 'number' && Number.isFinite(n))) {
      const b = box as { left: number; top: number; width: number; height: number };
      if (b.width >= 1 && b.height >= 1 && b.left >= 0 && b.top >= 0) return { kind: 'box', ...b };
    }
  }
  throw new InvalidArgumentError(`Expected { aspect: "1:1" } or { left, top, width, height } in pixels for crop but received ${describeValue(value)}.`, {
    arg: 'crop',
  });
}

function parseResize(value: unknown): Resize | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    const r: Resize = {
      width: optionalNumber(v, 'width', 1, 100_000),
      height: optionalNumber(v, 'height', 1, 100_000),
      scale: optionalNumber(v, 'scale', 0.001, 100),
    };
    const given = [r.width, r.height, r.scale].filter((n) => n !== undefined).length;
    if (given > 0 && !(r.scale !== undefined && given > 1)) return r;
  }
  throw new InvalidArgumentError(`Expected { width?, height? } in pixels or { scale } for resize but received ${describeValue(value)}.`, { arg: 'resize' });
}

export function parseTransform(args: Record<string, unknown>): Transform {
  checkArgs('transform', args);
  const t: Transform = {
    crop: parseCrop(args.crop),
    resize: parseResize(args.resize),
    rotate: numberArg('transform', args, 'rotate'),
    flip: choiceArg('transform', args, 'flip'),
  };
  if (t.crop === undefined && t.resize === undefined && t.rotate === undefined && t.flip === undefined) {
    throw new InvalidArgumentError(`transform needs at least one of ${ARGS.join(', ')}.`);
  }
  return t;
}

/** The largest centred rectangle of the requested aspect inside width × height. */
export function centredAspectBox(width: number, height: number, w: number, h: number): { left: number; top: number; width: number; height: number } {
  let cw = width;
  let ch = Math.round((width * h) / w);
  if (ch > height) {
    ch = height;
    cw = Math.round((height * w) / h);
  }
  cw = Math.max(1, Math.min(width, cw));
  ch = Math.max(1, Math.min(height, ch));
  return { left: Math.floor((width - cw) / 2), top: Math.floor((height - ch) / 2), width: cw, height: ch };
}

export interface TransformTarget {
  /** Fill for the corners a free rotation uncovers: transparent for images, white for videos (no alpha). */
  fill: { r: number; g: number; b: number; alpha: number };
  /** Largest allowed output: pixels for images; width × height (landscape-normalised) for videos. */
  check(width: number, height: number): void;
}

export function imageTarget(limits: MediaLimits): TransformTarget {
  return {
    fill: { r: 0, g: 0, b: 0, alpha: 0 },
    check(width, height) {
      if (width * height > limits.maxImagePixels) {
        throw new MediaLimitError('The resized image', `${limits.maxImagePixels} pixels`, `${width} × ${height}`);
      }
    },
  };
}

export function videoTarget(limits: MediaLimits): TransformTarget {
  return {
    fill: { r: 255, g: 255, b: 255, alpha: 1 },
    check(width, height) {
      const long = Math.max(width, height);
      const short = Math.min(width, height);
      const maxLong = Math.max(limits.maxVideoWidth, limits.maxVideoHeight);
      const maxShort = Math.min(limits.maxVideoWidth, limits.maxVideoHeight);
      if (long > maxLong || short > maxShort) {
        throw new MediaLimitError('The resized video', `${limits.maxVideoWidth} × ${limits.maxVideoHeight}`, `${width} × ${height}`);
      }
    },
  };
}

/** Output size of a resize request for an input of width × height (aspect kept). */
export function resizedSize(width: number, height: number, r: Resize): { width: number; height: number } {
  if (r.scale !== undefined) return { width: Math.max(1, Math.round(width * r.scale)), height: Math.max(1, Math.round(height * r.scale)) };
  if (r.width !== undefined && r.height !== undefined) {
    // Both given: fit inside the box, keeping the aspect ratio (never distort a photo).
    const s = Math.min(r.width / width, r.height / height);
    return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
  }
  if (r.width !== undefined) return { width: Math.round(r.width), height: Math.max(1, Math.round((height * r.width) / width)) };
  return { width: Math.max(1, Math.round((width * r.height!) / height)), height: Math.round(r.height!) };
}

/** Crop → resize → rotate → flip, each as its own sharp pass so that the order is the one stated here. */
export async function transformRaw(image: RawImage, t: Transform, target: TransformTarget): Promise<RawImage> {
  let img = image;
  if (t.crop) {
    const box =
      t.crop.kind === 'aspect'
        ? centredAspectBox(img.width, img.height, t.crop.w, t.crop.h)
        : { left: Math.round(t.crop.left), top: Math.round(t.crop.top), width: Math.round(t.crop.width), height: Math.round(t.crop.height) };
    if (box.left + box.width > img.width || box.top + box.height > img.height) {
      throw new InvalidArgumentError(
        `The crop box ${box.width} × ${box.height} at (${box.left}, ${box.top}) goes outside the ${img.width} × ${img.height} image.`,
        { arg: 'crop' },
      );
    }
    img = await toRaw(sharpOf(img).extract(box));
  }
  if (t.resize) {
    const size = resizedSize(img.width, img.height, t.resize);
    target.check(size.width, size.height);
    img = await toRaw(sharpOf(img).resize(size.width, size.height, { fit: 'fill' }));
  }
  if (t.rotate !== undefined && t.rotate % 360 !== 0) {
    img = await toRaw(sharpOf(img).rotate(t.rotate, { background: target.fill }));
  }
  if (t.flip === 'horizontal') img = await toRaw(sharpOf(img).flop());
  if (t.flip === 'vertical') img = await toRaw(sharpOf(img).flip());
  return img;
}

export function describeTransform(t: Transform, out: { width: number; height: number }): string {
  const parts: string[] = [];
  if (t.crop) parts.push(t.crop.kind === 'aspect' ? `cropped to ${t.crop.label}` : 'cropped');
  if (t.resize) parts.push('resized');
  if (t.rotate !== undefined) parts.push(`rotated ${t.rotate}° clockwise`);
  if (t.flip) parts.push(`flipped ${t.flip}ly`);
  return `${parts.join(', ')}: now ${out.width} × ${out.height}`;
}

async function transformImage(input: SpecialistInput, context: SpecialistContext, t: Transform): Promise<SpecialistResult> {
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  const result = await transformRaw(image, t, imageTarget(context.limits));
  return {
    text: `${describeTransform(t, result)}.`.replace(/^./, (c) => c.toUpperCase()),
    media: [{ bytes: await encodePng(result), kind: 'image', mime: 'image/png', role: 'result', label: 'transformed' }],
  };
}

async function transformVideo(input: SpecialistInput, context: SpecialistContext, t: Transform): Promise<SpecialistResult> {
  const target = videoTarget(context.limits);
  const out = await mapVideoFrames(input.media[0]!, (frame) => transformRaw(frame, t, target), context, 'transforming');
  return {
    text: `${describeTransform(t, out)} (all ${out.frames} frames).`.replace(/^./, (c) => c.toUpperCase()),
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'transformed' }],
  };
}

export const transformSpecialist: Specialist = {
  tasks: ['transform'],
  models: [],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const t = parseTransform(input.args);
    return media.info.kind === 'video' ? await transformVideo(input, context, t) : await transformImage(input, context, t);
  },
};
