import type { Task } from '../core/tasks.ts';
import { ModelNotInstalledError } from '../errors.ts';
import { modelsForTask, howToGet } from '../../models/catalog.ts';
import type { ModelEntry } from '../../models/catalog.ts';
import type { Specialist } from './specialist.ts';

/**
 * Stands in for a task whose specialist needs weights this build cannot run yet. It never produces a
 * result: it names the catalog model that would serve the task and how an operator gets it.
 */
export function notInstalledSpecialist(task: Task): Specialist {
  const candidates: ModelEntry[] = modelsForTask(task);
  const preferred = candidates[0];
  return {
    tasks: [task],
    accepts: ['image', 'video'],
    models: preferred ? [preferred.name] : [],
    async run(_input, context) {
      if (preferred === undefined) {
        throw new ModelNotInstalledError(task, 'none', 'No model in the catalog serves this task yet.');
      }
      const alternatives = candidates.slice(1).map((e) => e.name);
      const more = alternatives.length > 0 ? ` Alternatives: ${alternatives.join(', ')}.` : '';
      const installed = context.models.isInstalled(preferred.name);
      // Weights on disk are not enough: the specialist that runs them arrives with a later issue.
      const status = installed ? ` Its files are present, but this build has no ${task} specialist for it yet.` : '';
      throw new ModelNotInstalledError(task, preferred.name, `${howToGet(preferred, context.settings.MODELS_DIR)}${more}${status}`);
    },
  };
}
