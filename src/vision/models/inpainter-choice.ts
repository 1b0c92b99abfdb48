import { InternalError } from '../../errors.ts';
import type { Inpainter } from './inpainter.ts';
import type { Settings } from '../../config/settings.ts';
import { CHOICE_COMPARISONS, readMeasuredQuality, scoresOf } from './measured-quality.ts';
import { isPulled, rankWays, type ChoiceEvidence, type Way } from './model-choice.ts';
import type { ModelRegistry } from './model-registry.ts';
import type { Mask } from '../ops/raw-image.ts';
import { lamaInpainter } from './lama.ts';
import { miganInpainter } from './migan.ts';
import { maskBounds } from '../ops/raw-image.ts';
import { inpaintTelea, teleaRadius } from '../ops/opencv.ts';

/** Classical fast-marching inpainting (Telea 2004): smooth fills, no weights, milliseconds. */
export const openCvInpainter: Inpainter = {
  name: 'opencv-telea',
  async inpaint(image, mask) {
    const bounds = maskBounds(mask);
    if (bounds === undefined) return image;
    return inpaintTelea(image, mask, teleaRadius(bounds.right - bounds.left, bounds.bottom - bounds.top));
  },
};

/** Neural fills when their weights are pulled, and OpenCV; what `npm run eval` measured here decides between them. */
export const DEFAULT_INPAINTERS: readonly Inpainter[] = [miganInpainter, lamaInpainter, openCvInpainter];

const TITLES: Readonly<Record<string, string>> = { 'opencv-telea': 'OpenCV (Telea)', migan: 'MI-GAN', lama: 'LaMa' };

/** How the text names an inpainter: "filled the hole with OpenCV (Telea)". */
export function inpainterTitle(inpainter: Inpainter): string {
  return TITLES[inpainter.name] ?? inpainter.name;
}

/** What `npm run eval` measured here for filling holes, and PREFER_MODELS. */
export function inpaintEvidence(settings: Pick<Settings, 'DATA_DIR' | 'PREFER_MODELS'>): ChoiceEvidence {
  return { scores: scoresOf(readMeasuredQuality(settings.DATA_DIR), CHOICE_COMPARISONS.inpainter), prefer: settings.PREFER_MODELS };
}

/** The inpainters ready here (weights installed, or none needed), as ways to rank. */
export function readyInpainters(
  models: Pick<ModelRegistry, 'isInstalled'>,
  candidates: readonly Inpainter[] = DEFAULT_INPAINTERS,
): (Way & { inpainter: Inpainter })[] {
  // A model counts only when a candidate can run it: weights without code are no use here.
  return candidates
    .filter((c) => c.model === undefined || models.isInstalled(c.model))
    .map((c) => ({ name: c.model ?? c.name, pulled: isPulled(c.model), inpainter: c }));
}

/**
 * The inpainter for this machine: among the ready ones, the best measured here by `npm run eval` (PREFER_MODELS
 * first; a pulled model not measured here only when nothing else is ready).
 */
export function chooseInpainter(
  models: Pick<ModelRegistry, 'isInstalled' | 'settings'>,
  candidates: readonly Inpainter[] = DEFAULT_INPAINTERS,
  evidence: ChoiceEvidence = inpaintEvidence(models.settings),
): Inpainter {
  const chosen = rankWays(readyInpainters(models, candidates), evidence)[0]?.way.inpainter;
  if (chosen === undefined) throw new InternalError('No inpainter is available: none of the candidates needs no weights and no model is installed.');
  return chosen;
}

/** A hole wider than this (shorter side of its box, in pixels) is beyond what smoothing fills convincingly. */
const SMOOTH_FILL_LIMIT = 24;

// Said in the chat: the user cannot pull models, so the admin is named; `npm run models -- list` tells the
// operator which inpainting model to pull.
export const SMOOTH_FILL_CAVEAT =
  'The hole is large, so it was filled by smoothing and will look smeared: this server has no inpainting model for realistic fills (its admin can enable one).';

/** Whether this fill will look smeared: a weightless inpainter on a hole wider than a few pixels. */
export function smearsHole(inpainter: Inpainter, mask: Mask): boolean {
  if (inpainter.model !== undefined) return false;
  const bounds = maskBounds(mask);
  return bounds !== undefined && Math.min(bounds.right - bounds.left, bounds.bottom - bounds.top) > SMOOTH_FILL_LIMIT;
}

/** The caveat for a fill that will look smeared, or undefined when the result should pass. */
export function fillCaveat(inpainter: Inpainter, mask: Mask): string | undefined {
  return smearsHole(inpainter, mask) ? SMOOTH_FILL_CAVEAT : undefined;
}
