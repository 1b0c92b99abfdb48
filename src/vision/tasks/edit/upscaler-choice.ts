import type { Task } from '../../../core/tasks.ts';
import { InvalidArgumentError, ModelNotInstalledError } from '../../../errors.ts';
import { catalogEntry, howToGet } from '../../../../models/catalog.ts';
import { ESRGAN_UPSCALERS } from '../../models/esrgan.ts';
import { bestInstalledModel } from '../../models/model-choice.ts';
import type { Upscaler } from '../../models/upscaler.ts';
import type { ModelRegistry } from '../../models/model-registry.ts';
import { swin2srUpscaler } from '../../models/swin2sr.ts';

/** Swin2SR (×2) when pulled — the catalog prefers it — and ESRGAN-slim from npm for every factor. */
const DEFAULT_UPSCALERS: readonly Upscaler[] = [swin2srUpscaler, ...ESRGAN_UPSCALERS];

const TITLES: Readonly<Record<string, string>> = { 'esrgan-slim': 'ESRGAN-slim', swin2sr: 'Swin2SR' };

export function upscalerTitle(upscaler: Upscaler): string {
  return TITLES[upscaler.name] ?? upscaler.name;
}

const TASK: Task = 'upscale';

/**
 * The upscaler for a factor on this machine: among candidates that offer the factor, the one whose
 * model comes first in the catalog's order for `upscale` (the preferred model first) and is installed.
 * None installed → ModelNotInstalledError naming the first candidate's model and how to get it.
 */
export function chooseUpscaler(
  models: Pick<ModelRegistry, 'isInstalled' | 'settings'>,
  factor: number,
  candidates: readonly Upscaler[] = DEFAULT_UPSCALERS,
): Upscaler {
  const offering = candidates.filter((c) => c.factors.includes(factor));
  if (offering.length === 0) {
    const factors = [...new Set(candidates.flatMap((c) => c.factors))].sort((a, b) => a - b);
    throw new InvalidArgumentError(`I can upscale by ${factors.map((f) => `${f}×`).join(', ')}, not by ${factor}×. Upscale twice for more.`, { arg: 'factor' });
  }
  const weightless = offering.find((c) => c.model === undefined);
  const best = bestInstalledModel(TASK, (entry) => offering.some((c) => c.model === entry.name) && models.isInstalled(entry.name));
  const chosen = best === undefined ? weightless : offering.find((c) => c.model === best.name);
  if (chosen !== undefined) return chosen;
  const wanted = offering[0]!.model!;
  const entry = catalogEntry(wanted);
  throw new ModelNotInstalledError(TASK, wanted, entry === undefined ? '' : howToGet(entry, models.settings.MODELS_DIR));
}
