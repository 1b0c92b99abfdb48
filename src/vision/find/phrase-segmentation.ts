import type { Task } from '../../core/tasks.ts';
import { parseReferring } from '../../core/referring.ts';
import { CLIPSEG_MODEL, CLIPSEG_THRESHOLD, clipsegMask } from '../models/clipseg.ts';
import { countOf, pluralOf } from '../models/coco-labels.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import { resultBoxes, type Detection } from '../ops/detection.ts';
import { drawBoxes } from '../ops/draw-boxes.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';
import type { Choice, SpecialistResult } from '../specialist.ts';
import { detect, isOpenVocabulary } from './detector.ts';
import { boxMasker } from './box-mask.ts';
import { unionOf } from './phrase-mask.ts';
import { select } from './referring.ts';

/** The outcome of "segment the left dog": a mask, a question back, or nothing of that kind found. */
export type PhraseSegmentation =
  /** `detections` is empty when the mask came from CLIPSeg (a phrase no detector knows: no boxes). */
  | { kind: 'mask'; mask: Mask; detections: Detection[]; label: string }
  | { kind: 'many'; detections: Detection[]; choice: Choice }
  | { kind: 'none'; label?: string };

/**
 * Phrase → detector (COCO, faces, OWL-ViT or Florence-2) → referring selection → one mask per chosen box
 * (box-mask.ts: SlimSAM when pulled, else ISNet in the box; their union for "all the dogs"). `pick` answers an
 * earlier "which one?". Used by segment, by cutout with a phrase and by remove.
 */
export async function segmentByPhrase(
  models: ModelRegistry,
  image: RawImage,
  phrase: string,
  options: {
    pick?: number;
    task?: Task;
    progress?: (fraction: number, note: string) => void;
    /** The invocation's embeddings: the planner's encoding of the phrase for CLIPSeg or OWL-ViT, when it sent one. */
    embeddings?: Readonly<Record<string, readonly number[]>>;
    /** Names the picture for SlimSAM's embedding cache (sam.ts `mediaKey`); a hash of the pixels without it. */
    pictureKey?: string;
  } = {},
): Promise<PhraseSegmentation> {
  const task = options.task ?? 'segment';
  // "the sky", "the logo": no detector knows it, CLIPSeg outlines any phrase when it is installed.
  if (isOpenVocabulary(phrase) && models.isInstalled(CLIPSEG_MODEL)) {
    options.progress?.(0.2, `outlining ${phrase}`);
    const found = await clipsegMask(models, image, phrase, task, CLIPSEG_THRESHOLD, options.embeddings);
    const what = parseReferring(phrase).noun ?? phrase;
    return found.coverage === 0 ? { kind: 'none' } : { kind: 'mask', mask: found.mask, detections: [], label: what };
  }
  const { detections, label } = await detect(models, image, phrase, task, options.embeddings);
  const selection = select(detections, parseReferring(phrase).selector, options.pick);
  if (selection.kind === 'many') return selection;
  const chosen = selection.kind === 'one' ? [selection.detection] : selection.detections;
  if (chosen.length === 0) return label === undefined ? { kind: 'none' } : { kind: 'none', label };
  const masker = boxMasker(models, image, { task, key: options.pictureKey });
  const masks: Mask[] = [];
  for (const [i, d] of chosen.entries()) {
    options.progress?.(0.2 + (0.6 * i) / chosen.length, `outlining ${d.label}${chosen.length > 1 ? ` ${i + 1} of ${chosen.length}` : ''}`);
    masks.push(await masker.maskOf(d));
  }
  const mask = masks.length === 1 ? masks[0]! : unionOf(masks, image.width, image.height);
  const labels = new Set(chosen.map((d) => d.label));
  return { kind: 'mask', mask, detections: chosen, label: labels.size === 1 ? chosen[0]!.label : (label ?? 'object') };
}

/** "the dog", "2 dogs": the legend and the text name what the mask holds. */
export function maskedWhat(result: Extract<PhraseSegmentation, { kind: 'mask' }>): string {
  return result.detections.length <= 1 ? result.label : countOf(result.label, result.detections.length);
}

/** The "which one?" reply: the candidates numbered left to right on the picture. */
export async function choiceReply(image: RawImage, result: Extract<PhraseSegmentation, { kind: 'many' }>): Promise<SpecialistResult> {
  const numbered = result.detections.map((d, i) => ({ ...d, label: `${i + 1} ${d.label}` }));
  return {
    text: `${result.choice.question} They are numbered left to right in the picture.`,
    choice: result.choice,
    boxes: resultBoxes(result.detections),
    media: [{ bytes: await drawBoxes(image, numbered), kind: 'image', mime: 'image/png', role: 'overlay', label: 'numbered candidates' }],
  };
}

export function noneFoundText(result: Extract<PhraseSegmentation, { kind: 'none' }>, phrase: string): string {
  return result.label === undefined ? `I could not find "${phrase}" in this picture.` : `I could not find any ${pluralOf(result.label)} in this picture.`;
}
