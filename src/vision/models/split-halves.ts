import type * as ort from 'onnxruntime-node';
import { InternalError } from '../../errors.ts';
import { fileWithRole } from './model-files.ts';
import type { ModelRegistry } from './model-registry.ts';
import { splitTextGraph, type SplitPlan } from './onnx-split.ts';
import { fromOrt, textEncoderId, type TypedTensor } from './text-conditioning.ts';

/**
 * A fused text+image graph (CLIPSeg, OWL-ViT) run as two halves cut by onnx-split.ts: the text half (the text
 * encoder, loaded only when this process encodes words itself) and the rest (loaded whenever the model runs).
 * The halves are made from the pulled `model.onnx` in memory, once per registry; nothing is written to disk.
 * A graph that cannot be cut, or whose halves onnxruntime will not load, is reported once and the caller runs
 * the fused graph as before: the continuous half of the message is then not used by this model.
 */

export interface FusedTextModel {
  model: string;
  /** The catalog's fused graph. */
  file: string;
  /** The graph inputs that carry the words (everything else is the picture). */
  textInputs: readonly string[];
}

/**
 * Names the cut in encoder ids: embeddings made by another cut (another frontier) must not be read as ours.
 * Change it whenever onnx-split.ts changes which tensors make up the frontier.
 */
export const SPLIT_FORMAT = 'split-1';

export interface Halves {
  /** Encoder id of the text half (src/core/embeddings.ts). */
  encoder: string;
  plan: SplitPlan;
  rest: ort.InferenceSession;
  /** Runs the text half (loading it on first use) on the text inputs' feeds; the frontier tensors, in plan order. */
  encode(feeds: Record<string, ort.Tensor>): Promise<TypedTensor[]>;
}

class SplitRefusedError extends InternalError {}

interface State {
  plans: Map<string, SplitPlan>;
  /** Models whose graph could not be cut or loaded in halves here, with the reason (said once). */
  refused: Map<string, string>;
}

const states = new WeakMap<ModelRegistry, State>();

function stateOf(models: ModelRegistry): State {
  let state = states.get(models);
  if (state === undefined) {
    state = { plans: new Map(), refused: new Map() };
    states.set(models, state);
  }
  return state;
}

function half(models: ModelRegistry, spec: FusedTextModel, which: 'text' | 'rest', task?: string): Promise<ort.InferenceSession> {
  return models.derivedSession(
    spec.model,
    `${spec.file}#${which}`,
    async (location) => {
      const file = fileWithRole(location, 'onnx', spec.file);
      if (file === undefined) throw new InternalError(`Model "${spec.model}" has no ONNX file named ${spec.file}.`);
      const split = splitTextGraph(await file.read(), spec.textInputs, { [which]: true });
      if ('refused' in split) throw new SplitRefusedError(split.refused);
      stateOf(models).plans.set(spec.model, split.plan);
      return split[which]!;
    },
    task,
  );
}

/** Why this model runs fused here, when it does. */
export function refusedReason(models: ModelRegistry, model: string): string | undefined {
  return stateOf(models).refused.get(model);
}

function refuse(models: ModelRegistry, spec: FusedTextModel, error: unknown): undefined {
  const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const state = stateOf(models);
  if (!state.refused.has(spec.model)) {
    state.refused.set(spec.model, reason);
    models.warn(
      `${spec.model}: ${spec.file} is not run in two halves (${reason}); the fused graph runs, and planner text embeddings are not used for this model.`,
    );
  }
  return undefined;
}

/**
 * The halves of the model, or undefined when this registry runs it fused. A missing model still rejects with
 * ModelNotInstalledError (the caller reports it); only cutting or loading the halves falls back.
 */
export async function halvesOf(models: ModelRegistry, spec: FusedTextModel, task?: string): Promise<Halves | undefined> {
  const state = stateOf(models);
  if (state.refused.has(spec.model)) return undefined;
  models.require(spec.model, task);
  let rest: ort.InferenceSession;
  let encoder: string;
  try {
    [rest, encoder] = await Promise.all([half(models, spec, 'rest', task), textEncoderId(models, spec.model, spec.file, SPLIT_FORMAT, task)]);
  } catch (error) {
    return refuse(models, spec, error);
  }
  const plan = state.plans.get(spec.model)!;
  return { encoder, plan, rest, encode: async (feeds) => runText(spec, plan, await half(models, spec, 'text', task), feeds) };
}

/** The text half on the text inputs' feeds: the frontier tensors, copied out, in plan order. */
async function runText(spec: FusedTextModel, plan: SplitPlan, session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<TypedTensor[]> {
  const wanted = Object.fromEntries(plan.textInputs.map((name) => [name, feeds[name]]));
  if (Object.values(wanted).some((t) => t === undefined)) throw new InternalError(`${spec.model}'s text half reads ${plan.textInputs.join(', ')}.`);
  const out = await session.run(
    wanted as Record<string, ort.Tensor>,
    plan.frontier.map((f) => f.name),
  );
  try {
    return plan.frontier.map((f) => fromOrt(out[f.name]!));
  } finally {
    for (const tensor of Object.values(out)) tensor.dispose();
  }
}

/**
 * Only the text half and its encoder id, for a process that encodes words for others (the bot's text encoder
 * thread) and never runs the picture side; undefined when the graph cannot be cut here.
 */
export async function textHalfOf(models: ModelRegistry, spec: FusedTextModel, task?: string): Promise<Omit<Halves, 'rest'> | undefined> {
  const state = stateOf(models);
  if (state.refused.has(spec.model)) return undefined;
  models.require(spec.model, task);
  try {
    const [session, encoder] = await Promise.all([half(models, spec, 'text', task), textEncoderId(models, spec.model, spec.file, SPLIT_FORMAT, task)]);
    const plan = state.plans.get(spec.model)!;
    return { encoder, plan, encode: (feeds) => runText(spec, plan, session, feeds) };
  } catch (error) {
    return refuse(models, spec, error);
  }
}
