import type { Region } from '../../../core/types.ts';
import { InvalidArgumentError, JobCancelledError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { overlayPixels, parseColor, withSvg } from '../../../media/image.ts';
import type { EncodedImage, OverlayPixels } from '../../../media/image.ts';
import { boxInPicture, checkArgs, describeValue, optionalBox } from '../../ops/args.ts';
import type { BoxArg } from '../../ops/args.ts';
import { decodeImage, maskCoverage, maskToPng } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { bestCandidate, decodePrompt, gridExtent, imageEmbedding, logitsToMask, mediaKey, SAM_MASK_SIZE, SAM_MODEL, stabilityScore } from '../../models/sam.ts';
import type { SamPrompt } from '../../models/sam.ts';

const SELECTION_COLOR = '#ff2d55';

type Point = [number, number];

function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function pointsArg(value: unknown): Point[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) && value.length === 2 && !Array.isArray(value[0]) ? [value] : value;
  const points = Array.isArray(list) ? list.map((p) => (Array.isArray(p) && p.length === 2 ? [numberOf(p[0]), numberOf(p[1])] : [])) : [];
  if (points.length === 0 || points.some((p) => p[0] === undefined || p[1] === undefined)) {
    throw new InvalidArgumentError(`Expected points as [[x, y], …] in pixels but received ${describeValue(value)}; for example "segment at 120,80".`, {
      arg: 'points',
    });
  }
  return points as Point[];
}

/** The prompt from the args (points and/or box), else from the invocation's region; checked against the picture. */
export function promptOf(args: Record<string, unknown>, region: Region | undefined, width: number, height: number): { points: Point[]; box?: BoxArg } {
  const points = pointsArg(args.points) ?? (region?.points ? pointsArg(region.points) : undefined) ?? [];
  const example = 'segment the box 10,10,200,200';
  const box = optionalBox(args.box, example) ?? (region?.box ? optionalBox(region.box, example) : undefined);
  if (points.length === 0 && box === undefined) {
    throw new InvalidArgumentError(
      'Tell me where the object is: a point like "segment at 120,80", or a box like "segment the box 10,10,200,200" (pixels of the picture).',
      { arg: 'points' },
    );
  }
  for (const [x, y] of points) {
    if (x < 0 || y < 0 || x > width || y > height) {
      throw new InvalidArgumentError(
        `The point (${x}, ${y}) is outside the picture, which is ${width}×${height} pixels: give a point with x from 0 to ${width} and y from 0 to ${height}.`,
        { arg: 'points' },
      );
    }
  }
  return box === undefined ? { points } : { points, box: boxInPicture(box, width, height) };
}

function describePrompt(prompt: { points: Point[]; box?: BoxArg }): string {
  const round = (v: number) => Math.round(v);
  const at = prompt.points.map(([x, y]) => `(${round(x)}, ${round(y)})`).join(', ');
  const box = prompt.box ? `the box ${prompt.box.map(round).join(',')}` : '';
  if (at !== '' && box !== '') return `${box} and ${at}`;
  return box !== '' ? `in ${box}` : `at ${at}`;
}

async function imageInput(input: SpecialistInput, context: SpecialistContext): Promise<{ image: RawImage; key: string }> {
  const media = input.media[0];
  if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
  // Fail before decoding when the model is missing: the error names the pull command.
  context.models.require(SAM_MODEL, input.task);
  return { image: await decodeImage(media.bytes, context.limits), key: mediaKey(media.info.sha256, media.bytes) };
}

/** The selection tinted, with the clicked points as dots and the box outlined, so the user sees what was asked. */
async function promptOverlay(image: RawImage, mask: Mask, prompt: { points: Point[]; box?: BoxArg }): Promise<EncodedImage> {
  const pixels = overlayPixels({ data: image.data, width: image.width, height: image.height }, mask, await parseColor(SELECTION_COLOR));
  const r = Math.max(4, Math.round(Math.min(image.width, image.height) / 60));
  const stroke = Math.max(2, Math.round(r / 3));
  const dots = prompt.points.map(([x, y]) => `<circle cx="${x}" cy="${y}" r="${r}" fill="#00e676" stroke="#fff" stroke-width="${stroke}"/>`);
  const box = prompt.box
    ? `<rect x="${prompt.box[0]}" y="${prompt.box[1]}" width="${prompt.box[2] - prompt.box[0]}" height="${prompt.box[3] - prompt.box[1]}" fill="none" stroke="#00e676" stroke-width="${stroke}" stroke-dasharray="${stroke * 3},${stroke * 2}"/>`
    : '';
  return withSvg(pixels, `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${box}${dots.join('')}</svg>`);
}

/** "Segment at 120,80" / "segment the box 10,10,200,200": SlimSAM's mask of the object the prompt points at. */
export const segmentAtSpecialist: Specialist = {
  tasks: ['segment_at'],
  models: [SAM_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    checkArgs('segment_at', input.args);
    const { image, key } = await imageInput(input, context);
    const prompt = promptOf(input.args, input.region, image.width, image.height);
    context.progress(0.05, 'encoding the picture');
    const embedding = await imageEmbedding(context.models, image, key, input.task);
    context.progress(0.8, 'outlining the object');
    const samPrompt: SamPrompt = { points: prompt.points, ...(prompt.box ? { box: prompt.box } : {}) };
    const best = bestCandidate(await decodePrompt(context.models, embedding, samPrompt, input.task));
    const mask = logitsToMask(best.logits, embedding.frame);
    const coverage = maskCoverage(mask);
    const where = describePrompt(prompt);
    const [maskPng, overlay] = await Promise.all([maskToPng(mask), promptOverlay(image, mask, prompt)]);
    const overlayMedia = { bytes: overlay.bytes, kind: 'image' as const, mime: overlay.mime, role: 'overlay' as const, label: `selection ${where}` };
    if (coverage === 0)
      return { text: `I could not find an object ${where}: the mask is empty. Try a point nearer the middle of the object.`, media: [overlayMedia] };
    return {
      text: `Segmented the object ${where}: it covers ${Math.max(1, Math.round(coverage * 100))} % of the picture (SlimSAM's own quality estimate ${best.score.toFixed(2)}).`,
      media: [{ bytes: maskPng, kind: 'image', mime: 'image/png', role: 'mask', label: `mask ${where}` }, overlayMedia],
    };
  },
};

/** Grid points per side for "segment everything" (SAM's automatic generator uses 32; 16 keeps CPU time in seconds). */
export const SEGMENT_ALL_GRID = 16;
/** SAM's automatic mask generator defaults: predicted IoU and stability a mask must reach to be kept. */
const MIN_PREDICTED_IOU = 0.88;
const MIN_STABILITY = 0.95;
/** Two masks overlapping more than this are one segment; the better scored stays. */
const DUPLICATE_IOU = 0.7;
const MAX_SEGMENTS = 64;

/** A segment candidate at grid resolution: cells over the image that are inside, and what it scored. */
export interface GridSegment {
  cells: Uint8Array;
  area: number;
  bounds: [number, number, number, number];
  score: number;
  stability: number;
  logits: Float32Array;
}

export function gridSegment(logits: Float32Array, extent: { width: number; height: number }, score: number, stability: number): GridSegment | undefined {
  const cells = new Uint8Array(extent.width * extent.height);
  let area = 0;
  let x0 = extent.width;
  let y0 = extent.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < extent.height; y++) {
    for (let x = 0; x < extent.width; x++) {
      if (logits[y * SAM_MASK_SIZE + x]! > 0) {
        cells[y * extent.width + x] = 1;
        area++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  // A few cells are noise at this resolution, not an object.
  if (area < 4) return undefined;
  return { cells, area, bounds: [x0, y0, x1, y1], score, stability, logits: logits.slice() };
}

export function segmentIou(a: GridSegment, b: GridSegment, width: number): number {
  const x0 = Math.max(a.bounds[0], b.bounds[0]);
  const y0 = Math.max(a.bounds[1], b.bounds[1]);
  const x1 = Math.min(a.bounds[2], b.bounds[2]);
  const y1 = Math.min(a.bounds[3], b.bounds[3]);
  if (x0 > x1 || y0 > y1) return 0;
  let inter = 0;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) inter += a.cells[y * width + x]! & b.cells[y * width + x]!;
  return inter / (a.area + b.area - inter);
}

const better = (a: GridSegment, b: GridSegment) => a.score - b.score || a.stability - b.stability;

/**
 * Adds a candidate to the kept set, mask NMS style: a candidate that overlaps a better kept segment is
 * dropped; one better than every segment it overlaps replaces them. The set never exceeds MAX_SEGMENTS
 * (the weakest goes), so memory stays bounded however many grid points there are.
 */
export function keepDistinct(kept: GridSegment[], candidate: GridSegment, width: number): void {
  const overlapping = kept.filter((k) => segmentIou(k, candidate, width) > DUPLICATE_IOU);
  if (overlapping.some((k) => better(k, candidate) >= 0)) return;
  for (const k of overlapping) kept.splice(kept.indexOf(k), 1);
  kept.push(candidate);
  if (kept.length > MAX_SEGMENTS) {
    kept.sort((a, b) => better(b, a));
    kept.length = MAX_SEGMENTS;
  }
}

/** Well-separated colours: hues a golden angle apart. */
function segmentColor(i: number): [number, number, number] {
  const h = (i * 137.508) % 360;
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (0.55 - 0.45 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Every segment in its own colour over the photo, larger ones first so small ones stay visible; plus a label map. */
function paintSegments(image: RawImage, masks: readonly Mask[]): { pixels: OverlayPixels; labels: Mask } {
  const { width, height } = image;
  const labels = new Uint8Array(width * height);
  const owner = new Int32Array(width * height).fill(-1);
  masks.forEach((m, i) => {
    for (let p = 0; p < m.data.length; p++) if (m.data[p] !== 0) owner[p] = i;
  });
  const step = Math.max(1, Math.floor(255 / Math.max(1, masks.length)));
  const out = Buffer.allocUnsafe(width * height * 3);
  const colors = masks.map((_, i) => segmentColor(i));
  for (let p = 0, s = 0; p < owner.length; p++, s += 4) {
    const o = owner[p]!;
    const c = o >= 0 ? colors[o]! : undefined;
    for (let k = 0; k < 3; k++) out[p * 3 + k] = c ? (image.data[s + k]! + c[k]!) >> 1 : image.data[s + k]!;
    if (o >= 0) labels[p] = Math.min(255, (o + 1) * step);
  }
  return { pixels: { data: out, width, height, channels: 3 }, labels: { data: labels, width, height } };
}

/** "Segment everything": SlimSAM prompted on a grid of points, duplicates merged, each segment coloured. */
export const segmentAllSpecialist: Specialist = {
  tasks: ['segment_all'],
  models: [SAM_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    checkArgs('segment_all', input.args);
    const { image, key } = await imageInput(input, context);
    context.progress(0.05, 'encoding the picture');
    const embedding = await imageEmbedding(context.models, image, key, input.task);
    const frame = embedding.frame;
    const extent = gridExtent(frame);
    const kept: GridSegment[] = [];
    const n = SEGMENT_ALL_GRID;
    for (let j = 0; j < n; j++) {
      if (context.signal.aborted) throw new JobCancelledError();
      context.progress(0.3 + (0.55 * j) / n, `prompting row ${j + 1} of ${n}`);
      for (let i = 0; i < n; i++) {
        const point: Point = [((i + 0.5) * image.width) / n, ((j + 0.5) * image.height) / n];
        const candidates = await decodePrompt(context.models, embedding, { points: [point] }, input.task);
        for (let c = 0; c < 3; c++) {
          const score = candidates.scores[c]!;
          if (score < MIN_PREDICTED_IOU) continue;
          const logits = candidates.logits.subarray(c * SAM_MASK_SIZE * SAM_MASK_SIZE, (c + 1) * SAM_MASK_SIZE * SAM_MASK_SIZE);
          const stability = stabilityScore(logits, extent);
          if (stability < MIN_STABILITY) continue;
          const segment = gridSegment(logits, extent, score, stability);
          if (segment !== undefined) keepDistinct(kept, segment, extent.width);
        }
      }
    }
    if (kept.length === 0) {
      return { text: `I found no confident segments in this picture (SlimSAM was prompted at ${n}×${n} points).`, media: [] };
    }
    context.progress(0.9, 'colouring the segments');
    kept.sort((a, b) => b.area - a.area);
    const masks = kept.map((s) => logitsToMask(s.logits, frame));
    const { pixels, labels } = paintSegments(image, masks);
    const count = `${kept.length} segment${kept.length === 1 ? '' : 's'}`;
    const font = Math.max(12, Math.round(Math.min(image.width, image.height) / 22));
    const pad = Math.round(font / 2);
    const legend =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">` +
      `<rect x="${pad}" y="${pad}" width="${Math.min(image.width - 2 * pad, Math.round(count.length * font * 0.6) + pad * 2)}" height="${font + pad * 2}" rx="${pad / 2}" fill="#000" fill-opacity="0.6"/>` +
      `<text x="${pad * 2}" y="${pad * 2 + font * 0.85}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff">${count}</text></svg>`;
    const [overlay, labelPng] = await Promise.all([withSvg(pixels, legend), maskToPng(labels)]);
    return {
      text: `Found ${count} (SlimSAM prompted at ${n}×${n} points, overlapping masks merged).`,
      media: [
        { bytes: overlay.bytes, kind: 'image', mime: overlay.mime, role: 'overlay', label: `${count}, coloured` },
        { bytes: labelPng, kind: 'image', mime: 'image/png', role: 'mask', label: 'segment map (one grey level per segment)' },
      ],
    };
  },
};
