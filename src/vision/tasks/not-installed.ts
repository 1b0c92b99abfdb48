import type { Task } from '../../core/tasks.ts';
import { missingModelError } from '../models/missing-model.ts';
import { modelToInstall, modelsForTask } from '../models/model-choice.ts';
import type { Specialist } from '../specialist.ts';

/**
 * Stands in for a task whose specialist needs weights this build cannot run yet. It never produces a
 * result: it names the catalog model that would serve the task and how an operator gets it.
 */
export function notInstalledSpecialist(task: Task): Specialist {
  const preferred = modelToInstall(task) ?? modelsForTask(task)[0];
  return {
    tasks: [task],
    models: preferred ? [preferred.name] : [],
    async run(_input, context) {
      throw missingModelError(task, [], context.models, context.settings.MODELS_DIR);
    },
  };
}
