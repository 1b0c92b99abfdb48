import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import type { MediaKind } from '../core/types.ts';
import { UnsupportedMediaForTaskError } from '../errors.ts';
import { ModelRegistry } from '../vision/model-registry.ts';
import { hasWorkingSpecialist, specialistFor } from '../vision/registry.ts';
import type { SpecialistContext } from '../vision/specialist.ts';

/**
 * Checks, before a job is queued, that its task can run here on this kind of media: the user hears at
 * once which model is missing instead of waiting in line for a refusal. File checks only; no model loads
 * on the bot's thread.
 */
export interface TaskReadiness {
  /** Throws a BadInputError (UnsupportedMediaForTaskError, ModelNotInstalledError) when it cannot run. */
  check(task: Task, kinds: readonly MediaKind[]): Promise<void>;
  models(): { name: string; installed: boolean; tasks: string[] }[];
}

export function createTaskReadiness(settings: Settings): TaskReadiness {
  const registry = new ModelRegistry({ settings });
  return {
    async check(task, kinds) {
      const specialist = specialistFor(task);
      if (!specialist) return;
      for (const kind of kinds) {
        if (!specialist.accepts.includes(kind)) throw new UnsupportedMediaForTaskError(task, kind, specialist.accepts);
      }
      if (!hasWorkingSpecialist(task)) {
        // The stand-in specialist's run only explains what is missing; it produces nothing.
        await specialist.run({ task, media: [], args: {} }, { settings, models: registry } as unknown as SpecialistContext);
      }
      for (const model of specialist.models) registry.require(model, task);
    },
    models() {
      return registry.entries().map((entry) => ({ name: entry.name, installed: registry.isInstalled(entry.name), tasks: [...entry.tasks] }));
    },
  };
}
