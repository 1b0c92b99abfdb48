import { TASKS, isSessionTask } from '../core/tasks.ts';
import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import { modelToInstall, modelsForTask } from '../../models/catalog.ts';
import type { ModelRegistry } from './models/model-registry.ts';
import { hasWorkingSpecialist, isServedNow, servingOptions, specialistFor } from './registry.ts';

export interface ModelReadiness {
  name: string;
  installed: boolean;
  tasks: readonly Task[];
  source: string;
  licence: string;
  approxBytes: number;
}

export interface TaskReadiness {
  task: Task;
  ready: boolean;
  /** The models the task's specialist needs (or, without a specialist, the catalog's preferred model). */
  models: string[];
  missing: string[];
  reason?: string;
}

export interface Readiness {
  executionProvider: 'cpu' | 'cuda';
  loadedSessions: string[];
  models: ModelReadiness[];
  tasks: TaskReadiness[];
}

/**
 * What can run here right now, per model and per task: for /healthz and the README table. Cheap (file checks).
 * A task whose specialist works through an endpoint or a model of its choice (answer needs VISION_LLM_URL;
 * caption that or Florence-2) is ready only when one of them is there; until then it says what to set or pull.
 */
export function readiness(models: ModelRegistry, settings: Partial<Settings> = {}): Readiness {
  const modelRows = models.entries().map((e) => ({
    name: e.name,
    installed: models.isInstalled(e.name),
    tasks: e.tasks,
    source: e.source.kind === 'huggingface' ? `hf:${e.source.repo}` : `npm:${e.source.package}`,
    licence: e.licence,
    approxBytes: e.approxBytes,
  }));
  const installed = new Set(modelRows.filter((m) => m.installed).map((m) => m.name));
  const tasks: TaskReadiness[] = [];
  const isInstalled = (model: string) => installed.has(model);
  for (const task of TASKS) {
    if (isSessionTask(task)) continue;
    if (hasWorkingSpecialist(task, settings) && isServedNow(task, settings, isInstalled)) {
      const needed = [...(specialistFor(task)?.models ?? [])];
      const missing = needed.filter((m) => !installed.has(m));
      tasks.push({ task, ready: missing.length === 0, models: needed, missing, reason: missing.length ? `model not installed: ${missing.join(', ')}` : undefined });
    } else {
      const preferred = (modelToInstall(task) ?? modelsForTask(task)[0])?.name;
      // A working specialist that is only missing a setting or a model of its own says which.
      const ways = hasWorkingSpecialist(task) ? servingOptions(task).map((o) => ('settings' in o ? `set ${o.settings.filter((n) => settings[n] === undefined).join(', ')}` : `pull ${o.model}`)) : [];
      tasks.push({
        task,
        ready: false,
        models: preferred ? [preferred] : [],
        missing: preferred && !installed.has(preferred) ? [preferred] : [],
        reason: ways.length > 0
          ? ways.join(' or ')
          : modelToInstall(task) === undefined ? 'no runner in this build yet' : 'needs a model from the catalog',
      });
    }
  }
  return { executionProvider: models.executionProvider, loadedSessions: models.loadedSessions(), models: modelRows, tasks };
}
