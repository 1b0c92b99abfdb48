import { argSpec, isTask, type Task } from '../../core/tasks.ts';
import { InvalidArgumentError } from '../../errors.ts';
import { detectFaces } from '../models/blazeface.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { detectObjects } from '../models/centernet.ts';
import { FACE_LABEL } from '../models/coco-labels.ts';
import type { Detection } from '../ops/detection.ts';
import { labelForPhrase, labelsOf } from './label-match.ts';
import { detectByPhrase, OWLVIT_MODEL, OWLVIT_THRESHOLD, queryOf } from '../models/owlvit.ts';
import { FLORENCE_MODEL } from '../models/florence.ts';
import { detectWithFlorence } from './florence-detect.ts';
import { parseReferring } from '../../core/referring.ts';

/**
 * The one entry point for "find X in this image": COCO objects through CenterNet, faces through
 * BlazeFace, any other phrase through OWL-ViT when it is pulled, else Florence-2 when that is.
 * Specialists (detect, ground, segment, remove…) code against this, not against a model.
 */

export interface Found {
  detections: Detection[];
  /** The label the phrase named ("dog", "face", or a group: "animal"); absent when no phrase. */
  label?: string;
}

/**
 * When the user names a class, a weaker box of that class is still an answer worth showing (the cat in
 * chelsea.png scores 0.47, people far in the back 0.2–0.3); cross-class suppression has already given
 * boxes that are really another class to that class.
 */
export const NAMED_CLASS_MIN_SCORE = 0.2;

/**
 * Whether the task only needs the outline of what its phrase names (the task table says so), which CLIPSeg
 * gives for any phrase.
 */
function outlines(task: string | undefined): boolean {
  if (task === undefined || !isTask(task)) return false;
  const phrase = argSpec(task, 'phrase');
  return phrase?.kind === 'text' && phrase.finds === 'outline';
}

/** What an operator can install so that a phrase the detectors do not know works for this task. */
export function anyPhraseHint(task?: string): string {
  return outlines(task)
    ? 'Any phrase works for outlining once clipseg-rd64 is pulled: `npm run models -- pull clipseg-rd64`.'
    : 'Boxes for other things need the open-vocabulary detector OWL-ViT (`npm run models -- pull owlvit-base`) or Florence-2 (`npm run models -- pull florence-2-base`); "segment the …" outlines any phrase once clipseg-rd64 is pulled.';
}

export function unknownPhraseError(what: string, task?: string): InvalidArgumentError {
  // The chat user cannot pull models: they hear that the admin can help; the commands are the log's.
  return new InvalidArgumentError(
    `I can find people, animals, vehicles and 80 everyday things (COCO) and faces; "${what}" is not one of them. Finding other things needs a model this server does not have yet — its admin can enable it.`,
    { phrase: what, operatorHint: anyPhraseHint(task) },
  );
}

/** The label a phrase asks for, or undefined for "the left one"; an InvalidArgumentError for "unicorn". */
export function labelOfPhrase(phrase: string, task?: string): string | undefined {
  const { noun } = parseReferring(phrase);
  if (noun === undefined) return undefined;
  const label = labelForPhrase(noun);
  if (label === undefined) throw unknownPhraseError(noun, task);
  return label;
}

/** Whether a detector for phrases beyond COCO is pulled (OWL-ViT, or Florence-2). */
export function hasOpenVocabularyDetector(models: Pick<ModelRegistry, 'isInstalled'>): boolean {
  return models.isInstalled(OWLVIT_MODEL) || models.isInstalled(FLORENCE_MODEL);
}

/**
 * The label a phrase's boxes will carry, checked before any frame is decoded: a COCO label, "face", or —
 * when an open-vocabulary detector is pulled — the phrase's own noun ("red lamp"). Undefined for "the left
 * one"; an InvalidArgumentError naming what to pull for a phrase nothing here can find.
 */
export function phraseLabel(models: Pick<ModelRegistry, 'isInstalled'>, phrase: string, task?: string): string | undefined {
  if (isOpenVocabulary(phrase) && hasOpenVocabularyDetector(models)) return queryOf(phrase).label;
  return labelOfPhrase(phrase, task);
}

/**
 * Open-vocabulary detectors take about a second a frame on CPU (CenterNet ~30 ms): on videos they run on
 * every this many frames and the tracker carries the boxes in between.
 */
export const OPEN_VOCABULARY_DETECT_EVERY = 5;

/** How often a video's frames go through the detector for this phrase. */
export function detectEveryFor(phrase: string | undefined): number {
  return phrase !== undefined && isOpenVocabulary(phrase) ? OPEN_VOCABULARY_DETECT_EVERY : 1;
}

/** True when the phrase names something no detector here knows ("the sky", "the logo"). */
export function isOpenVocabulary(phrase: string): boolean {
  const { noun } = parseReferring(phrase);
  return noun !== undefined && labelForPhrase(noun) === undefined;
}

/**
 * All detections (phrase undefined) or those of the phrase's label; faces go to BlazeFace. A phrase no
 * COCO label covers goes to OWL-ViT when it is installed (a dedicated detector, with scores), else to
 * Florence-2. COCO phrases stay with CenterNet: faster, and its scores are the ones NAMED_CLASS_MIN_SCORE
 * was tuned on. `embeddings` are the invocation's (the planner's encoding of the phrase, for OWL-ViT).
 */
export async function detect(
  models: ModelRegistry,
  image: RawImage,
  phrase?: string,
  task?: Task,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<Found> {
  if (phrase !== undefined && isOpenVocabulary(phrase)) {
    if (models.isInstalled(OWLVIT_MODEL))
      return { detections: await detectByPhrase(models, image, [phrase], task, OWLVIT_THRESHOLD, embeddings), label: queryOf(phrase).label };
    if (models.isInstalled(FLORENCE_MODEL)) return { detections: await detectWithFlorence(models, image, phrase, task), label: queryOf(phrase).label };
  }
  const label = phrase === undefined || phrase.trim() === '' ? undefined : labelOfPhrase(phrase, task);
  if (label === undefined) return { detections: await detectObjects(models, image, { task }) };
  if (label === FACE_LABEL) return { detections: await detectFaces(models, image), label };
  const detections = await detectObjects(models, image, { labels: labelsOf(label), minScore: NAMED_CLASS_MIN_SCORE, task });
  return { detections, label };
}
