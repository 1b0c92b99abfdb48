import type { Settings } from '../config/settings.ts';
import { TASKS, acceptedKinds, factsOf, isSessionTask, usesEngine, type Task } from '../core/tasks.ts';
import { ENGINE_NAMES } from './engines/engine.ts';
import { firstConfiguredEngine, isConfigured, noEngineError } from './engines/engine-choice.ts';
import type { MediaKind } from '../core/types.ts';
import { UnsupportedMediaForTaskError, VitronError } from '../errors.ts';
import type { ModelEntry } from '../../models/catalog.ts';
import { missingModelError } from './models/missing-model.ts';
import { bestInstalledModel, modelToInstall, modelsForTask } from './models/model-choice.ts';
import { ModelRegistry } from './models/model-registry.ts';
import { WORKING_SPECIALISTS, specialistFor } from './registry.ts';
import type { ServingOption } from './specialist.ts';

/**
 * The one answer to "can this task run now, and if not, which setting or model would serve it?", for the
 * chat (checked before a job is queued, so the user hears at once), /healthz, `npm run models -- list`,
 * the workers (which jobs to take) and the in-process queue (which jobs an endpoint serves). Cheap: settings
 * and file checks, never a model load on the caller's thread.
 */

type IsInstalled = (model: string) => boolean;

/** Whether one way is complete: its settings all set, or its model installed. */
function isComplete(option: ServingOption, settings: Partial<Settings>, isInstalled: IsInstalled): boolean {
  return 'settings' in option ? option.settings.every((name) => settings[name] !== undefined) : isInstalled(option.model);
}

/**
 * Whether the task has a specialist that can produce results in this build (weights permitting) and, when
 * settings are given, with them: one that can only call an endpoint needs its URL set. Weights are not
 * looked at (an operator may pull them while the bot runs); `isServedNow` does that.
 */
export function hasWorkingSpecialist(task: Task, settings?: Partial<Settings>): boolean {
  return WORKING_SPECIALISTS.some(
    (s) => s.tasks.includes(task) && (settings === undefined || s.servedBy === undefined || s.servedBy.some((o) => isComplete(o, settings, () => true))),
  );
}

/**
 * Whether one of the task's specialist's ways is complete right now (settings set, or a model on disk).
 * True for specialists without `servedBy`: their `models` are checked on their own.
 */
function isServedNow(task: Task, settings: Partial<Settings>, isInstalled: IsInstalled): boolean {
  const servedBy = specialistFor(task)?.servedBy;
  return servedBy === undefined || servedBy.some((o) => isComplete(o, settings, isInstalled));
}

/** The settings and models that would let the task's specialist work, for "set X or pull Y" answers. */
function servingOptions(task: Task): readonly ServingOption[] {
  return specialistFor(task)?.servedBy ?? [];
}

/**
 * Whether the task's work is done by an endpoint (the first complete way of its specialist is a settings
 * one): such a job waits on the network, not on a CPU, and needs no inference thread.
 */
export function servedByEndpoint(task: Task, settings: Partial<Settings>, isInstalled: IsInstalled): boolean {
  // A generation engine is chosen by GENERATION_ENGINES' order, not by the specialist's list: SD-Turbo first
  // means onnxruntime, which must never run on the bot's own thread.
  if (factsOf(task).engine === 'always') {
    const engine = firstConfiguredEngine(settings, { isInstalled });
    return engine !== undefined && engine !== 'sd-turbo';
  }
  const first = specialistFor(task)?.servedBy?.find((o) => isComplete(o, settings, isInstalled));
  return first !== undefined && 'settings' in first;
}

/** The tasks a worker takes by default: every task whose specialist works with these settings. */
function tasksWithRunner(settings: Partial<Settings>): Task[] {
  return TASKS.filter((task) => !isSessionTask(task) && hasWorkingSpecialist(task, settings));
}

/** The tasks this machine takes: WORKER_TASKS, or every task whose specialist works. */
export function workerTasks(settings: Settings): Task[] {
  return settings.workerTasks ?? tasksWithRunner(settings);
}

/**
 * How `npm run models -- list` says a task will be served here: through an endpoint whose settings are
 * set, by an installed catalog model, or by nothing yet (with what would: a model to get, settings to set,
 * or models still waiting for a runner).
 */
export type TaskServing =
  | { way: 'endpoint'; settings: readonly string[] }
  | { way: 'model'; model: ModelEntry }
  | { way: 'stopgap'; model: string; does: string; toInstall?: ModelEntry; endpoints: (readonly string[])[] }
  | { way: 'none'; toInstall?: ModelEntry; endpoints: (readonly string[])[]; waiting: string[] };

/** The task's complete stopgap way (caption from the detectors), when nothing better is there. */
function stopgapWay(task: Task, isInstalled: IsInstalled): { model: string; stopgap: string } | undefined {
  for (const option of servingOptions(task)) {
    if ('model' in option && option.stopgap !== undefined && isInstalled(option.model)) return { model: option.model, stopgap: option.stopgap };
  }
  return undefined;
}

export function taskServing(task: Task, settings: Partial<Settings>, isInstalled: IsInstalled): TaskServing {
  const endpoints = servingOptions(task).flatMap((o) => ('settings' in o ? [o.settings] : []));
  const ready = endpoints.find((names) => names.every((name) => settings[name] !== undefined));
  if (ready !== undefined) return { way: 'endpoint', settings: ready };
  const chosen = bestInstalledModel(task, (entry) => isInstalled(entry.name));
  if (chosen !== undefined) return { way: 'model', model: chosen };
  const toInstall = modelToInstall(task);
  const stopgap = stopgapWay(task, isInstalled);
  if (stopgap !== undefined) return { way: 'stopgap', model: stopgap.model, does: stopgap.stopgap, ...(toInstall ? { toInstall } : {}), endpoints };
  const waiting = modelsForTask(task)
    .filter((e) => e.notRunYet !== undefined)
    .map((e) => e.name);
  return { way: 'none', ...(toInstall ? { toInstall } : {}), endpoints, waiting };
}

/**
 * Checks, before a job is queued, that its task can run here on this kind of media; the same check tells a
 * worker whether to take a job.
 */
export interface TaskReadiness {
  /**
   * Throws a BadInputError (UnsupportedMediaForTaskError, ModelNotInstalledError, TaskNotAvailableError) when it
   * cannot run. With `args`, a task that needs a generation engine only for some requests ("replace the dog
   * with a cat", not "replace the dog with this") is checked for one.
   */
  check(task: Task, kinds: readonly MediaKind[], args?: Readonly<Record<string, unknown>>): void;
  /** Whether `check(task, [])` passes: the task can run here on some media. */
  canRun(task: Task): boolean;
  /** Whether the task's work goes to an endpoint rather than to an inference thread. */
  servedByEndpoint(task: Task): boolean;
  /** Each catalog model, and for one not installed how an operator gets it (the pull command and files, for /healthz). */
  models(): { name: string; installed: boolean; tasks: string[]; howToGet?: string }[];
}

export function createTaskReadiness(settings: Settings): TaskReadiness {
  const registry = new ModelRegistry({ settings });
  const isInstalled = (model: string) => registry.isInstalled(model);
  const check = (task: Task, kinds: readonly MediaKind[], args?: Readonly<Record<string, unknown>>) => {
    const specialist = specialistFor(task);
    if (!specialist) return;
    const accepted = acceptedKinds(task);
    for (const kind of kinds) {
      if (!accepted.includes(kind)) throw new UnsupportedMediaForTaskError(task, kind, accepted);
    }
    if (
      args !== undefined &&
      usesEngine(task, args) &&
      !ENGINE_NAMES.some((name) => settings.GENERATION_ENGINES.includes(name) && isConfigured(name, settings, registry))
    ) {
      throw noEngineError(task);
    }
    const served = hasWorkingSpecialist(task, settings) && isServedNow(task, settings, isInstalled);
    if (!served) throw missingModelError(task, servingOptions(task), registry, settings.MODELS_DIR);
    for (const model of specialist.models) registry.require(model, task);
  };
  return {
    check,
    canRun(task) {
      try {
        check(task, []);
        return true;
      } catch (error) {
        if (error instanceof VitronError) return false;
        throw error;
      }
    },
    servedByEndpoint: (task) => servedByEndpoint(task, settings, isInstalled),
    models() {
      return registry.entries().map((entry) => {
        const installed = registry.isInstalled(entry.name);
        return { name: entry.name, installed, tasks: [...entry.tasks], ...(installed ? {} : { howToGet: registry.howToGet(entry.name) }) };
      });
    },
  };
}

export interface ModelReadiness {
  name: string;
  installed: boolean;
  tasks: readonly string[];
  source: string;
  licence: string;
  approxBytes: number;
}

/** One task's readiness as /healthz and the README table show it. */
export interface TaskStatus {
  task: Task;
  ready: boolean;
  /** The models the task's specialist needs (or, without a specialist, the catalog's preferred model). */
  models: string[];
  missing: string[];
  reason?: string;
  /**
   * For the operator, never the chat: what to pull or set (the command and files) when the task cannot run,
   * or when it runs on a stopgap (caption from the detectors), how to get the real thing.
   */
  operatorHint?: string;
}

export interface Readiness {
  executionProvider: 'cpu' | 'cuda';
  loadedSessions: string[];
  models: ModelReadiness[];
  tasks: TaskStatus[];
}

/** How an operator replaces a stopgap with the real thing: the same words as a refusal would carry, minus the refusal. */
function betterWays(task: Task, models: ModelRegistry): string {
  const ways = servingOptions(task).filter((o) => !('model' in o && o.stopgap !== undefined));
  const hint = missingModelError(task, ways, models, models.settings.MODELS_DIR).operatorHint;
  // "caption needs the model …, which is not installed." is the refusal's opening; here the task does run.
  return `For the real thing: ${hint.replace(/^.*? which is not installed\. /, '')}`;
}

/**
 * What can run here right now, per model and per task. A task whose specialist works through an endpoint or
 * a model of its choice (answer needs LLM_URL; caption that or Florence-2) is ready only when one of
 * them is there; until then it says what to set or pull.
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
  const isInstalled = (model: string) => installed.has(model);
  const tasks: TaskStatus[] = [];
  for (const task of TASKS) {
    if (isSessionTask(task)) continue;
    if (hasWorkingSpecialist(task, settings) && isServedNow(task, settings, isInstalled)) {
      const needed = [...(specialistFor(task)?.models ?? [])];
      const missing = needed.filter((m) => !installed.has(m));
      const first = servingOptions(task).find((o) => isComplete(o, settings, isInstalled));
      const stopgap = first !== undefined && 'model' in first ? first.stopgap : undefined;
      let operatorHint: string | undefined;
      if (missing.length > 0) operatorHint = missing.map((m) => models.howToGet(m)).join(' ');
      else if (stopgap !== undefined) operatorHint = `${task} runs on a stopgap: ${stopgap}. ${betterWays(task, models)}`;
      tasks.push({
        task,
        ready: missing.length === 0,
        models: needed,
        missing,
        ...(missing.length ? { reason: `model not installed: ${missing.join(', ')}` } : {}),
        ...(stopgap !== undefined && missing.length === 0 ? { reason: `stopgap: ${stopgap}` } : {}),
        ...(operatorHint !== undefined ? { operatorHint } : {}),
      });
    } else {
      const preferred = (modelToInstall(task) ?? modelsForTask(task)[0])?.name;
      // A working specialist that is only missing a setting or a model of its own says which.
      const ways = hasWorkingSpecialist(task)
        ? servingOptions(task).map((o) => ('settings' in o ? `set ${o.settings.filter((n) => settings[n] === undefined).join(', ')}` : `pull ${o.model}`))
        : [];
      tasks.push({
        task,
        ready: false,
        models: preferred ? [preferred] : [],
        missing: preferred && !installed.has(preferred) ? [preferred] : [],
        reason: ways.length > 0 ? ways.join(' or ') : modelToInstall(task) === undefined ? 'no runner in this build yet' : 'needs a model from the catalog',
        operatorHint: missingModelError(task, servingOptions(task), { isInstalled }, models.settings.MODELS_DIR).operatorHint,
      });
    }
  }
  return { executionProvider: models.executionProvider, loadedSessions: models.loadedSessions(), models: modelRows, tasks };
}
