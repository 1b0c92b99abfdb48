import type { Settings } from '../../config/settings.ts';
import { embeddingKey, type TextArgName } from '../../core/embeddings.ts';
import { argSpec, usesEngine, type Task } from '../../core/tasks.ts';
import type { Invocation } from '../../core/types.ts';
import { firstConfiguredEngine, type EngineSettings } from '../engines/engine-choice.ts';
import { chooseModel } from '../engines/sd-turbo.ts';
import { sdTurboPromptEmbedding, sdTurboText, TEXT_ENCODER_FILE } from '../engines/sd-turbo-prompt.ts';
import { CLIPSEG_FILE, CLIPSEG_MODEL, clipsegText, clipsegTextEmbedding } from '../models/clipseg.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import { OWLVIT_FILE, OWLVIT_MODEL, owlvitTextEmbedding, queryOf } from '../models/owlvit.ts';
import { SPLIT_FORMAT } from '../models/split-halves.ts';
import { textEncoderId } from '../models/text-conditioning.ts';
import { isOpenVocabulary } from './detector.ts';

/**
 * Which text encoders an invocation's words will go through on a worker, so the planner side can run them
 * first (the continuous half of the message). It follows the routes the specialists take:
 *
 * - a phrase no detector class covers ("the logo", "the sky") goes to OWL-ViT for boxes (detect, ground, and
 *   every video path), and to CLIPSeg where the task only needs its outline on a picture (segment, cutout,
 *   remove); a COCO or face phrase goes to CenterNet or BlazeFace, which read no text;
 * - a prompt goes to SD-Turbo's text encoder when SD-Turbo is the engine that will paint (the first configured
 *   of GENERATION_ENGINES); ComfyUI and Images APIs encode on their own side.
 *
 * The target's kind is not known yet (references resolve after planning), so an outline phrase is encoded for
 * both models when both are installed. Style and colorize rewrite their prompt before the engine reads it (the
 * picture's own prompt is folded in), so their prompt embedding is re-made on the worker: the key's text digest
 * tells it the words differ.
 */

export interface TextNeed {
  arg: TextArgName;
  /** The catalog model whose text encoder reads the words. */
  model: string;
  /** The argument's words as the invocation has them. */
  words: string;
  /** The words as that encoder reads them (its template applied): the key is made from these. */
  text: string;
  task: Task;
}

export type NeedSettings = Partial<EngineSettings> & Pick<Settings, 'ORT_PROVIDER'>;

/** Whether the task only needs the outline of what its phrase names (the task table says so): CLIPSeg's job on a picture. */
function outlines(task: Task): boolean {
  const spec = argSpec(task, 'phrase');
  return spec?.kind === 'text' && spec.finds === 'outline';
}

function phraseNeeds(models: Pick<ModelRegistry, 'isInstalled'>, task: Task, phrase: string): TextNeed[] {
  if (!isOpenVocabulary(phrase)) return [];
  const needs: TextNeed[] = [];
  if (outlines(task) && models.isInstalled(CLIPSEG_MODEL)) needs.push({ arg: 'phrase', model: CLIPSEG_MODEL, words: phrase, text: clipsegText(phrase), task });
  // An open-vocabulary phrase always names a noun (isOpenVocabulary), so queryOf cannot refuse it here.
  if (models.isInstalled(OWLVIT_MODEL)) needs.push({ arg: 'phrase', model: OWLVIT_MODEL, words: phrase, text: queryOf(phrase).text, task });
  return needs;
}

function promptNeeds(models: ModelRegistry, settings: NeedSettings, task: Task, args: Readonly<Record<string, unknown>>): TextNeed[] {
  if (!usesEngine(task, args) || typeof args.prompt !== 'string' || firstConfiguredEngine(settings, models) !== 'sd-turbo') return [];
  return [{ arg: 'prompt', model: chooseModel(models, task), words: args.prompt, text: sdTurboText(args.prompt), task }];
}

/** The encodings an invocation's phrase and prompt need, for the models installed here; none on a fresh install. */
export function textNeeds(models: ModelRegistry, settings: NeedSettings, invocation: Pick<Invocation, 'task' | 'args'>): TextNeed[] {
  const { task, args } = invocation;
  const needs: TextNeed[] = [];
  if (typeof args.phrase === 'string' && args.phrase.trim() !== '' && argSpec(task, 'phrase')?.kind === 'text')
    needs.push(...phraseNeeds(models, task, args.phrase));
  if (typeof args.prompt === 'string' && args.prompt.trim() !== '') needs.push(...promptNeeds(models, settings, task, args));
  return needs;
}

/** The key the need's embedding will have (reads a fingerprint of the graph file once; encodes nothing). */
export async function keyOfNeed(models: ModelRegistry, need: TextNeed): Promise<string> {
  const encoder =
    need.model === CLIPSEG_MODEL
      ? await textEncoderId(models, need.model, CLIPSEG_FILE, SPLIT_FORMAT, need.task)
      : need.model === OWLVIT_MODEL
        ? await textEncoderId(models, need.model, OWLVIT_FILE, SPLIT_FORMAT, need.task)
        : await textEncoderId(models, need.model, TEXT_ENCODER_FILE, '', need.task);
  return embeddingKey(need.arg, encoder, need.text);
}

/**
 * Runs the need's text encoder: the packed embedding under its key, or undefined when this model cannot give one
 * here (its fused graph cannot be cut, a value does not fit an embedding). Blocks its thread while onnxruntime
 * runs: call it in a worker thread.
 */
export async function encodeNeed(models: ModelRegistry, need: TextNeed): Promise<{ key: string; values: number[] } | undefined> {
  if (need.model === CLIPSEG_MODEL) return clipsegTextEmbedding(models, need.words, need.task);
  if (need.model === OWLVIT_MODEL) return owlvitTextEmbedding(models, need.words, need.task);
  return sdTurboPromptEmbedding(models, need.model, need.words, need.task);
}
