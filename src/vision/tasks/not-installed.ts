import type { Task } from '../../core/tasks.ts';
import { ModelNotInstalledError, TaskNotAvailableError } from '../../errors.ts';
import { howToGet, modelToInstall, modelsForTask } from '../../../models/catalog.ts';
import type { ModelEntry } from '../../../models/catalog.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import type { Specialist } from '../specialist.ts';

/** Tasks that a vision chat endpoint serves (understand/caption-answer.ts) once VISION_LLM_URL is set. */
const ENDPOINT_TASKS: readonly Task[] = ['caption', 'answer'];

/**
 * Stands in for a task whose specialist needs weights this build cannot run yet. It never produces a
 * result: it names the catalog model that would serve the task and how an operator gets it.
 */
/**
 * The error a task without a working specialist answers with: the catalog model that would serve it
 * and how an operator gets it. Used before queueing (so the user hears at once) and by the stand-in.
 */
export function missingModelError(task: Task, models: Pick<ModelRegistry, 'isInstalled'>, modelsDir: string): ModelNotInstalledError | TaskNotAvailableError {
  const candidates: ModelEntry[] = modelsForTask(task);
  const endpoint = ENDPOINT_TASKS.includes(task)
    ? ' Or, with no local weights at all: set VISION_LLM_URL and VISION_LLM_MODEL to an OpenAI-compatible vision chat server (e.g. Ollama at http://localhost:11434/v1 with qwen2.5vl:3b; see docs/models.md).'
    : '';
  const preferred = modelToInstall(task);
  if (preferred === undefined) {
    // Pulling weights nothing here can run would not help: say what is missing instead. The why (which
    // runner is not built) is for operators, in `npm run models -- list` and docs/models.md, not for the chat.
    const why = candidates.length > 0 ? 'No model this build can run does it.' : 'No model in the catalog does it.';
    return new TaskNotAvailableError(task, `${why}${endpoint}`);
  }
  const alternatives = candidates.filter((e) => e !== preferred && e.notRunYet === undefined).map((e) => e.name);
  const more = alternatives.length > 0 ? ` Alternatives: ${alternatives.join(', ')}.` : '';
  // Weights on disk are not enough: the specialist that runs them arrives with a later issue.
  const status = models.isInstalled(preferred.name) ? ` Its files are present, but this build has no ${task} specialist for it yet.` : '';
  return new ModelNotInstalledError(task, preferred.name, `${howToGet(preferred, modelsDir)}${more}${status}${endpoint}`);
}

export function notInstalledSpecialist(task: Task): Specialist {
  const preferred = modelToInstall(task) ?? modelsForTask(task)[0];
  return {
    tasks: [task],
    accepts: ['image', 'video'],
    models: preferred ? [preferred.name] : [],
    async run(_input, context) {
      throw missingModelError(task, context.models, context.settings.MODELS_DIR);
    },
  };
}
