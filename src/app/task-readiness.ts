import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import type { MediaKind } from '../core/types.ts';
import { UnsupportedMediaForTaskError } from '../errors.ts';
import { ModelRegistry } from '../vision/models/model-registry.ts';
import { hasWorkingSpecialist, isServedNow, specialistFor } from '../vision/registry.ts';
import { missingModelError } from '../vision/tasks/not-installed.ts';

/**
 * Checks, before a job is queued, that its task can run here on this kind of media: the user hears at
 * once which model is missing instead of waiting in line for a refusal. File checks only; no model loads
 * on the bot's thread.
 */
export interface TaskReadiness {
  /** Throws a BadInputError (UnsupportedMediaForTaskError, ModelNotInstalledError) when it cannot run. */
  check(task: Task, kinds: readonly MediaKind[]): void;
  models(): { name: string; installed: boolean; tasks: string[] }[];
}

export function createTaskReadiness(settings: Settings): TaskReadiness {
  const registry = new ModelRegistry({ settings });
  return {
    check(task, kinds) {
      const specialist = specialistFor(task);
      if (!specialist) return;
      for (const kind of kinds) {
        if (!specialist.accepts.includes(kind)) throw new UnsupportedMediaForTaskError(task, kind, specialist.accepts);
      }
      const served = hasWorkingSpecialist(task, settings) && isServedNow(task, settings, (model) => registry.isInstalled(model));
      if (!served) throw missingModelError(task, registry, settings.MODELS_DIR);
      for (const model of specialist.models) registry.require(model, task);
    },
    models() {
      return registry.entries().map((entry) => ({ name: entry.name, installed: registry.isInstalled(entry.name), tasks: [...entry.tasks] }));
    },
  };
}
