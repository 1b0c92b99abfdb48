import { randomInt } from 'node:crypto';
import type { Task } from '../../core/tasks.ts';
import type { GenerationFacts } from '../../core/types.ts';
import { InternalError, InvalidArgumentError } from '../../errors.ts';
import { numberArg } from '../ops/args.ts';
import { gridOf } from '../ops/grid.ts';
import type { ProducedMedia, SpecialistContext, SpecialistInput } from '../specialist.ts';
import type { GenerationOperation, GenerationRequest, GenerationResult } from './engine.ts';
import { chooseEngine, firstConfiguredEngine, noEngineError } from './engine-choice.ts';

/**
 * The part every generative specialist shares: the seed, prompt and size a request gets from the
 * invocation, the engine call with progress and rate-limited previews, and the produced media with what
 * made them (so the bot can record it and "again" can make the same picture).
 */

/** Previews are posted at most this often: chat platforms rate-limit message edits. */
const PREVIEW_EVERY_MS = 1500;
/** The side of a square picture when the request gives no size; SD-Turbo's native size. */
export const BASE_SIDE = 512;

const MAX_SEED = 4_294_967_295;

/** The invocation's seed (the bot fills one before queueing), or a fresh one for a caller that did not. */
export function seedOf(input: SpecialistInput): number {
  const given = Number(input.args.seed);
  return input.args.seed !== undefined && Number.isInteger(given) && given >= 0 && given <= MAX_SEED ? given : randomInt(0, MAX_SEED);
}

export function textArg(input: SpecialistInput, name: 'prompt' | 'negative'): string | undefined {
  const value = input.args[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function promptOf(input: SpecialistInput): string {
  const prompt = textArg(input, 'prompt');
  if (prompt === undefined) throw new InvalidArgumentError('What should I make? Describe it in words, e.g. "draw a red fox in the snow".', { arg: 'prompt' });
  return prompt;
}

/**
 * The settings every generative row shares (tasks.ts `generating`) as a request takes them: the negative
 * prompt (or `negativeFallback`, e.g. the one that made the picture being varied), the seed and the steps.
 */
export function sharedSettings(
  task: Task,
  input: SpecialistInput,
  negativeFallback?: string,
): Pick<GenerationRequest, 'negativePrompt' | 'seed' | 'steps' | 'embeddings'> {
  const negativePrompt = textArg(input, 'negative') ?? negativeFallback;
  // Every engine task's row has `steps`; the cast only names one of them for numberArg's types.
  const steps = numberArg(task as 'generate_image', input.args, 'steps');
  return {
    ...(negativePrompt ? { negativePrompt } : {}),
    seed: seedOf(input),
    ...(steps !== undefined ? { steps } : {}),
    // The prompt's planner embedding, if any; an engine uses it only when its key names that engine's encoder and these words.
    ...(input.embeddings ? { embeddings: input.embeddings } : {}),
  };
}

/** Width and height for "16:9" with about BASE_SIDE² pixels, in multiples of 64 (what diffusion models take). */
export function sizeForAspect(aspect: unknown, base = BASE_SIDE): { width: number; height: number } {
  const m = typeof aspect === 'string' ? /^(\d+(?:\.\d+)?)\s*[:x×]\s*(\d+(?:\.\d+)?)$/.exec(aspect.trim()) : null;
  const ratio = m ? Number(m[1]) / Number(m[2]) : 1;
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio > 4 || ratio < 0.25) {
    throw new InvalidArgumentError(`The aspect ratio has to be between 1:4 and 4:1, like "16:9"; got ${String(aspect)}.`, { arg: 'aspect' });
  }
  const round = (v: number) => Math.max(64, Math.round(v / 64) * 64);
  return { width: round(base * Math.sqrt(ratio)), height: round(base / Math.sqrt(ratio)) };
}

/** A picture's size scaled so its long side is at most `max` and both sides are multiples of 8. */
export function workingSize(width: number, height: number, max = 768): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  const round = (v: number) => Math.max(64, Math.round((v * scale) / 8) * 8);
  return { width: round(width), height: round(height) };
}

/**
 * Throws the "set COMFYUI_URL or IMAGES_API_URL, or pull sd-turbo" answer when no engine is set up: a
 * specialist that finds and cuts before it paints calls it first, so the user hears it before that work.
 */
export function requireEngine(task: Task, context: Pick<SpecialistContext, 'settings' | 'models'>): void {
  if (firstConfiguredEngine(context.settings, context.models) === undefined) throw noEngineError(task);
}

export interface Generated {
  result: GenerationResult;
  request: GenerationRequest;
}

/**
 * Runs the request on the engine chosen for the task (trying `operations` in order), reporting its steps
 * as this specialist's progress between `from` and `to`.
 */
export async function generate(
  task: Task,
  operations: readonly GenerationOperation[],
  request: Omit<GenerationRequest, 'operation' | 'task'>,
  context: SpecialistContext,
  span: { from: number; to: number } = { from: 0.05, to: 0.95 },
): Promise<Generated> {
  requireEngine(task, context);
  if (context.engines === undefined) throw new InternalError('The job runner gave this specialist no generation engines.');
  const { engine, operation } = chooseEngine(task, operations, context.settings, context.models, context.engines);
  const full: GenerationRequest = { ...request, operation, task };
  let lastPreview = 0;
  context.progress(span.from, `starting ${engine.name}`);
  const result = await engine.generate(full, {
    progress: (step, total, note) => context.progress(span.from + ((span.to - span.from) * Math.min(step, total)) / Math.max(1, total), note),
    preview: (image) => {
      const now = Date.now();
      if (now - lastPreview < PREVIEW_EVERY_MS) return;
      lastPreview = now;
      context.preview?.(image);
    },
    signal: context.signal,
  });
  if (result.images.length === 0) throw new InvalidArgumentError('The image generator returned no picture; try another prompt.');
  return { result, request: full };
}

/** What made image `index` of a result, as the bot records it. */
export function factsOf(generated: Generated, index: number): GenerationFacts {
  const { result, request } = generated;
  const image = result.images[index]!;
  return {
    prompt: request.prompt,
    ...(request.negativePrompt ? { negativePrompt: request.negativePrompt } : {}),
    seed: image.seed,
    ...(result.steps !== undefined ? { steps: result.steps } : {}),
    ...(request.strength !== undefined && request.operation !== 'text-to-image' ? { strength: request.strength } : {}),
    width: result.width,
    height: result.height,
    engine: result.engine,
    model: result.model,
  };
}

/**
 * The produced media for a result whose images are final as they are: one picture, or each picture of a
 * batch (the first becomes the conversation's current one) and a numbered grid that the chat shows with a
 * button per picture.
 */
export async function generatedMedia(generated: Generated, label: string): Promise<ProducedMedia[]> {
  const images = generated.result.images;
  const media: ProducedMedia[] = images.map((image, i) => ({
    bytes: image.png,
    kind: 'image',
    mime: 'image/png',
    role: 'result',
    label: images.length === 1 ? label : `${label} ${i + 1} of ${images.length}`,
    generation: factsOf(generated, i),
  }));
  if (images.length > 1)
    media.push({
      bytes: await gridOf(images.map((i) => i.png)),
      kind: 'image',
      mime: 'image/png',
      role: 'grid',
      label: `${label}: ${images.length} to choose from`,
    });
  return media;
}

/** "with SD-Turbo (seed 42, 1 step)": how a reply names what made the picture. */
export function madeWith(generated: Generated): string {
  const { result } = generated;
  const seeds = result.images.map((i) => i.seed);
  const seedText = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}–${seeds.at(-1)}`;
  const steps = result.steps === undefined ? '' : `, ${result.steps} step${result.steps === 1 ? '' : 's'}`;
  return `with ${result.model} on ${result.engine} (${seedText}${steps})`;
}
