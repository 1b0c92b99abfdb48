import type { Settings } from '../../config/settings.ts';
import { factsOf, type Task } from '../../core/tasks.ts';
import { cannotYet } from '../../core/unavailable.ts';
import { TaskNotAvailableError } from '../../errors.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import type { ServingOption } from '../specialist.ts';
import {
  ENGINE_NAMES,
  type EngineName,
  type GenerationEngine,
  type GenerationOperation,
  isVideoEngine,
  type VideoEngine,
  type VideoOperation,
} from './engine.ts';

/**
 * Which engine serves a generation request: the first engine in GENERATION_ENGINES that is configured (its
 * URL set, or its weights pulled) and can do the operation for the task. Engines are made once per
 * configuration and kept: the ComfyUI client holds a WebSocket, SD-Turbo holds four warm sessions.
 */

export type EngineSettings = Pick<
  Settings,
  | 'GENERATION_ENGINES'
  | 'COMFYUI_URL'
  | 'COMFYUI_WORKFLOWS_DIR'
  | 'COMFYUI_TIMEOUT_MS'
  | 'IMAGES_API_URL'
  | 'IMAGES_API_KEY'
  | 'IMAGES_API_MODEL'
  | 'IMAGES_API_TIMEOUT_MS'
>;

/** How each engine is made; injected by tests, the defaults live in engines.ts. */
export interface EngineFactories {
  comfyui(settings: EngineSettings): GenerationEngine;
  'images-api'(settings: EngineSettings): GenerationEngine;
  'sd-turbo'(models: ModelRegistry): GenerationEngine;
}

/**
 * What makes each engine usable, in the words readiness uses ("set COMFYUI_URL", "pull sd-turbo"): any one
 * of its ways (SD-Turbo: the CUDA export or the CPU one).
 */
export const ENGINE_REQUIREMENT: Readonly<Record<EngineName, readonly ServingOption[]>> = {
  comfyui: [{ settings: ['COMFYUI_URL'] }],
  'images-api': [{ settings: ['IMAGES_API_URL'] }],
  'sd-turbo': [{ model: 'sd-turbo' }, { model: 'sd-turbo-cpu' }],
};

/** The ways a generative specialist can be served, in the default order (readiness names them when none is ready). */
export const GENERATION_SERVING: readonly ServingOption[] = [
  ...ENGINE_REQUIREMENT.comfyui,
  ...ENGINE_REQUIREMENT['images-api'],
  ...ENGINE_REQUIREMENT['sd-turbo'],
];

export function isConfigured(name: EngineName, settings: Partial<EngineSettings>, models: Pick<ModelRegistry, 'isInstalled'>): boolean {
  return ENGINE_REQUIREMENT[name].some((way) =>
    'settings' in way ? way.settings.every((key) => settings[key as keyof EngineSettings] !== undefined) : models.isInstalled(way.model),
  );
}

/** The engine a request would go to first (before asking what it supports), by GENERATION_ENGINES' order. */
export function firstConfiguredEngine(settings: Partial<EngineSettings>, models: Pick<ModelRegistry, 'isInstalled'>): EngineName | undefined {
  const order = (settings.GENERATION_ENGINES ?? ENGINE_NAMES) as readonly EngineName[];
  return order.find((name) => isConfigured(name, settings, models));
}

/**
 * The refusal when no engine is configured: the chat hears that pictures cannot be made here; the operator
 * hint says which setting to set or which model to pull.
 */
export function noEngineError(task: Task): TaskNotAvailableError {
  const doing = factsOf(task).doing ?? task;
  return new TaskNotAvailableError(
    task,
    `${doing} needs an image generator, and none is set up here: set COMFYUI_URL (a ComfyUI server) or IMAGES_API_URL (an OpenAI-compatible Images API), or pull SD-Turbo with \`npm run models -- pull sd-turbo\` (see docs/generation.md).`,
    'image generation',
    cannotYet({ can: 'generate pictures', enable: 'image generation' }),
  );
}

const made = new Map<string, GenerationEngine>();

function engineKey(name: EngineName, settings: EngineSettings, models: ModelRegistry): string {
  if (name === 'comfyui') return `comfyui ${settings.COMFYUI_URL} ${settings.COMFYUI_WORKFLOWS_DIR ?? ''} ${settings.COMFYUI_TIMEOUT_MS}`;
  if (name === 'images-api') return `images-api ${settings.IMAGES_API_URL} ${settings.IMAGES_API_MODEL} ${settings.IMAGES_API_KEY?.length ?? 0}`;
  return `sd-turbo ${models.settings.MODELS_DIR}`;
}

/** One engine per configuration; a test with its own fake server gets its own engine. */
const modelRegistries = new WeakMap<ModelRegistry, Map<string, GenerationEngine>>();

function engine(name: EngineName, settings: EngineSettings, models: ModelRegistry, factories: EngineFactories): GenerationEngine {
  // SD-Turbo's sessions belong to one registry (disposed with it); endpoint clients are shared by URL.
  const cache = name === 'sd-turbo' ? (modelRegistries.get(models) ?? new Map<string, GenerationEngine>()) : made;
  if (name === 'sd-turbo') modelRegistries.set(models, cache);
  const key = engineKey(name, settings, models);
  let found = cache.get(key);
  if (found === undefined) {
    found = name === 'sd-turbo' ? factories['sd-turbo'](models) : factories[name](settings);
    cache.set(key, found);
  }
  return found;
}

export interface ChosenEngine {
  engine: GenerationEngine;
  operation: GenerationOperation;
}

/**
 * The engine for a task, trying `operations` in order (an instruction edit falls back to image-to-image on
 * an engine without an instruction model): the first configured engine that supports the first operation
 * wins; only when none does is the next operation tried.
 */
export function chooseEngine(
  task: Task,
  operations: readonly GenerationOperation[],
  settings: EngineSettings,
  models: ModelRegistry,
  factories: EngineFactories,
): ChosenEngine {
  const names = (settings.GENERATION_ENGINES as EngineName[]).filter((name) => isConfigured(name, settings, models));
  if (names.length === 0) throw noEngineError(task);
  for (const operation of operations) {
    for (const name of names) {
      const candidate = engine(name, settings, models, factories);
      if (candidate.supports(operation, task)) return { engine: candidate, operation };
    }
  }
  const doing = factsOf(task).doing?.toLowerCase() ?? task.replaceAll('_', ' ');
  throw new TaskNotAvailableError(
    task,
    `None of the configured image generators (${names.join(', ')}) can do ${doing}: add a ComfyUI workflow file for it (see docs/comfyui.md) or configure another engine.`,
    'image generation',
    `This server's image generators can't do ${doing} yet — ask its admin to add it.`,
  );
}

/** What makes video work possible here: only ComfyUI has video models (Wan 2.2, SVD) behind this interface. */
export const VIDEO_SERVING: readonly ServingOption[] = ENGINE_REQUIREMENT.comfyui;

/** The operator's half of "no video model here": which setting, which workflow files, which page. */
export function noVideoEngineHint(task: Task, operation: VideoOperation): string {
  const doing = factsOf(task).doing ?? task;
  return `${doing} needs a video model, and none is set up here: set COMFYUI_URL to a ComfyUI with Wan 2.2 TI2V 5B (workflow ${operation.replaceAll('-', '_')}.json; see docs/generation.md, "Video with an engine").`;
}

/**
 * The first configured engine (GENERATION_ENGINES' order) with a video workflow for the operation and task,
 * or undefined: callers without a fallback throw noVideoEngineError, animate falls back to a camera move.
 */
export function chooseVideoEngine(
  task: Task,
  operation: VideoOperation,
  settings: EngineSettings,
  models: ModelRegistry,
  factories: EngineFactories,
): VideoEngine | undefined {
  const names = (settings.GENERATION_ENGINES as EngineName[]).filter((name) => isConfigured(name, settings, models));
  for (const name of names) {
    const candidate = engine(name, settings, models, factories);
    if (isVideoEngine(candidate) && candidate.supportsVideo(operation, task)) return candidate;
  }
  return undefined;
}

export function noVideoEngineError(task: Task, operation: VideoOperation): TaskNotAvailableError {
  return new TaskNotAvailableError(
    task,
    noVideoEngineHint(task, operation),
    'video generation',
    cannotYet(factsOf(task).ability ?? { can: 'make videos', enable: 'video generation' }),
  );
}
