import { embeddingKey } from '../../core/embeddings.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import { conditioningFor, packTyped, textEncoderId, type ConditioningSource, type TypedTensor } from '../models/text-conditioning.ts';
import { encodePrompt, type Hidden } from './sd-turbo-pipeline.ts';
import { MAX_TOKENS, sdTurboTokenizer } from './sd-turbo-tokenizer.ts';

/**
 * The prompt's hidden states for the UNet (`encoder_hidden_states`, [1,77,H]). SD-Turbo's text encoder is its own
 * graph (`text_encoder/model.onnx`), so the planner can run it before the job and send its output along: a prompt
 * that arrives as `prompt@sd-turbo…:text:…` for this very graph skips the text encoder here, and the graph is not
 * even loaded when every prompt arrives that way. Otherwise it is encoded here and remembered for the next job.
 */

export const TEXT_ENCODER_FILE = 'text_encoder/model.onnx';

/** The words the text encoder reads for a request's prompt (promptOf trims it). */
export const sdTurboText = (prompt: string): string => prompt.trim();

async function encodeHere(models: ModelRegistry, model: string, prompt: string, task?: string): Promise<TypedTensor[]> {
  const [tokenizer, textEncoder] = await Promise.all([sdTurboTokenizer(models, model, task), models.session(model, { task, file: TEXT_ENCODER_FILE })]);
  const hidden = await encodePrompt(textEncoder, tokenizer.encode(sdTurboText(prompt)));
  return [{ type: 'float32', dims: [...hidden.dims], data: hidden.data }];
}

/** A planner's hidden states must have the shape the UNet reads: one prompt of 77 positions. */
const isPromptShape = (tensors: readonly TypedTensor[]): boolean => {
  const dims = tensors[0]?.dims ?? [];
  return tensors.length === 1 && dims.length === 3 && dims[0] === 1 && dims[1] === MAX_TOKENS && dims[2]! > 0;
};

export async function promptHidden(
  models: ModelRegistry,
  model: string,
  prompt: string,
  task?: string,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<{ hidden: Hidden; from: ConditioningSource }> {
  const encoder = await textEncoderId(models, model, TEXT_ENCODER_FILE, '', task);
  const conditioning = await conditioningFor(
    models,
    { arg: 'prompt', encoder, text: sdTurboText(prompt), types: ['float32'], accepts: isPromptShape, encode: () => encodeHere(models, model, prompt, task) },
    embeddings,
  );
  const [tensor] = conditioning.tensors;
  return { hidden: { data: tensor!.data as Float32Array, dims: tensor!.dims }, from: conditioning.from };
}

/** The prompt's embedding for the invocation (planner side), for the export `model` that will make the picture. */
export async function sdTurboPromptEmbedding(
  models: ModelRegistry,
  model: string,
  prompt: string,
  task?: string,
): Promise<{ key: string; values: number[] } | undefined> {
  const encoder = await textEncoderId(models, model, TEXT_ENCODER_FILE, '', task);
  const values = packTyped(await encodeHere(models, model, prompt, task));
  return values === undefined ? undefined : { key: embeddingKey('prompt', encoder, sdTurboText(prompt)), values };
}
