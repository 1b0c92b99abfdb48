import type { Settings } from '../../config/settings.ts';
import type { Task } from '../../core/tasks.ts';
import { InvalidArgumentError, ModelNotInstalledError } from '../../errors.ts';
import { catalogEntry, howToGet } from '../../../models/catalog.ts';
import { ESRGAN_UPSCALERS } from './esrgan.ts';
import { isPulled, rankWays, type ChoiceEvidence, type Way } from './model-choice.ts';
import { CHOICE_COMPARISONS, readMeasuredQuality, scoresOf } from './measured-quality.ts';
import type { Upscaler } from './upscaler.ts';
import type { ModelRegistry } from './model-registry.ts';
import { swin2srUpscaler } from './swin2sr.ts';

/** Swin2SR (×2) when pulled, and ESRGAN-slim from npm for every factor; measurements decide between them. */
export const DEFAULT_UPSCALERS: readonly Upscaler[] = [swin2srUpscaler, ...ESRGAN_UPSCALERS];

const TITLES: Readonly<Record<string, string>> = { 'esrgan-slim': 'ESRGAN-slim', swin2sr: 'Swin2SR' };

export function upscalerTitle(upscaler: Upscaler): string {
  return TITLES[upscaler.name] ?? upscaler.name;
}

const TASK: Task = 'upscale';

/** What `npm run eval` measured here for this factor, and PREFER_MODELS. */
export function upscaleEvidence(settings: Pick<Settings, 'DATA_DIR' | 'PREFER_MODELS'>, factor: number): ChoiceEvidence {
  return { scores: scoresOf(readMeasuredQuality(settings.DATA_DIR), CHOICE_COMPARISONS.upscaler(factor)), prefer: settings.PREFER_MODELS };
}

/** The upscalers ready here for a factor (weights installed, or none needed), as ways to rank. */
export function readyUpscalers(
  models: Pick<ModelRegistry, 'isInstalled'>,
  factor: number,
  candidates: readonly Upscaler[] = DEFAULT_UPSCALERS,
): (Way & { upscaler: Upscaler })[] {
  return candidates
    .filter((c) => c.factors.includes(factor) && (c.model === undefined || models.isInstalled(c.model)))
    .map((c) => ({ name: c.model ?? c.name, pulled: isPulled(c.model), upscaler: c }));
}

/**
 * The upscaler for a factor on this machine: among installed candidates that offer the factor, the best
 * measured here (PREFER_MODELS first; unmeasured pulled models last). None installed → ModelNotInstalledError
 * naming the first candidate's model and how to get it.
 */
export function chooseUpscaler(
  models: Pick<ModelRegistry, 'isInstalled' | 'settings'>,
  factor: number,
  candidates: readonly Upscaler[] = DEFAULT_UPSCALERS,
  evidence: ChoiceEvidence = upscaleEvidence(models.settings, factor),
): Upscaler {
  const offering = candidates.filter((c) => c.factors.includes(factor));
  if (offering.length === 0) {
    const factors = [...new Set(candidates.flatMap((c) => c.factors))].sort((a, b) => a - b);
    throw new InvalidArgumentError(`I can upscale by ${factors.map((f) => `${f}×`).join(', ')}, not by ${factor}×. Upscale twice for more.`, { arg: 'factor' });
  }
  const chosen = rankWays(readyUpscalers(models, factor, offering), evidence)[0]?.way.upscaler;
  if (chosen !== undefined) return chosen;
  const wanted = offering[0]!.model!;
  const entry = catalogEntry(wanted);
  throw new ModelNotInstalledError(TASK, wanted, entry === undefined ? '' : howToGet(entry, models.settings.MODELS_DIR));
}
