import type { Task } from '../../core/tasks.ts';
import { taskUnavailableText } from '../../core/unavailable.ts';
import { ModelNotInstalledError, TaskNotAvailableError } from '../../errors.ts';
import { howToGet, type ModelEntry } from '../../../models/catalog.ts';
import type { ServingOption } from '../specialist.ts';
import { modelToInstall, modelsForTask } from './model-choice.ts';
import type { ModelRegistry } from './model-registry.ts';

/** What to tell an operator about an endpoint a task can use instead of local weights, by the setting that enables it. */
const ENDPOINT_HINTS: Readonly<Record<string, string>> = {
  LLM_URL:
    ' Or, with no local weights at all: set LLM_URL and LLM_MODEL to an OpenAI-compatible vision chat server (e.g. Ollama at http://localhost:11434/v1 with qwen2.5vl:3b; see docs/models.md).',
  COMFYUI_URL: ' Or set COMFYUI_URL to a ComfyUI server',
  IMAGES_API_URL: ' or IMAGES_API_URL to an OpenAI-compatible Images API (see docs/generation.md).',
};

/**
 * The error a task answers with when nothing can serve it. Its message is the chat user's ("This server
 * can't … yet — ask its admin …"); its `details.operatorHint` names the catalog model that would serve it
 * and how an operator gets it, plus, when the task's specialist can also use an endpoint (`ways`), how to
 * set that up. Used before queueing (so the user hears at once) and by a specialist that finds its way gone
 * when it runs.
 */
export function missingModelError(
  task: Task,
  ways: readonly ServingOption[],
  models: Pick<ModelRegistry, 'isInstalled'>,
  modelsDir: string,
): ModelNotInstalledError | TaskNotAvailableError {
  const candidates: ModelEntry[] = modelsForTask(task);
  const endpoint = ways.flatMap((way) => ('settings' in way ? way.settings.map((name) => ENDPOINT_HINTS[name] ?? '') : [])).join('');
  const preferred = modelToInstall(task);
  if (preferred === undefined) {
    // Pulling weights nothing here can run would not help: say what is missing instead. The user is sent to
    // the admin only when a setting would help (an endpoint); the why is the operator's, in the hint.
    const why = candidates.length > 0 ? 'No model this build can run does it.' : 'No model in the catalog does it.';
    return new TaskNotAvailableError(task, `${why}${endpoint}`, undefined, taskUnavailableText(task, endpoint !== ''));
  }
  const alternatives = candidates.filter((e) => e !== preferred && e.notRunYet === undefined).map((e) => e.name);
  const more = alternatives.length > 0 ? ` Alternatives: ${alternatives.join(', ')}.` : '';
  // Weights on disk are not enough: the specialist that runs them arrives with a later issue.
  const status = models.isInstalled(preferred.name) ? ` Its files are present, but this build has no ${task} specialist for it yet.` : '';
  return new ModelNotInstalledError(task, preferred.name, `${howToGet(preferred, modelsDir)}${more}${status}${endpoint}`);
}
