import type { PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import type { Task } from '../../core/tasks.ts';
import { InternalError, InvalidArgumentError, JobCancelledError, VitronError } from '../../errors.ts';
import { clipTokenizer } from './clip-tokenizer.ts';
import { returnFloats } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { readPreprocessing, stretchedPixels, type StretchedPreprocessing } from './stretched-preprocessing.ts';
import { parseFlorence } from './florence-parse.ts';
import type { FlorenceParse, FlorenceTask } from './florence-parse.ts';

/**
 * Florence-2 (base, `onnx-community/Florence-2-base-ft`) on onnxruntime: the four graphs of the Transformers.js
 * export, driven by our own greedy decoding loop (what `Florence2ForConditionalGeneration.generate` does,
 * without beams: ×3 the decoder cost on a 2-core CPU is not worth it for a chat answer).
 *
 *   vision_encoder          `pixel_values` [1,3,768,768] → `image_features` [1,577,768]
 *   embed_tokens            `input_ids` int64 [B,T] → `inputs_embeds` [B,T,768]
 *   encoder_model           `inputs_embeds` (image features, then the prompt's embeddings) + `attention_mask` → `last_hidden_state`
 *   decoder_model_merged    `inputs_embeds`, `encoder_hidden_states`, `encoder_attention_mask`,
 *                           `past_key_values.{i}.{decoder,encoder}.{key,value}`, `use_cache_branch` → `logits`, `present.*`
 *
 * Task tokens are never sent to the model: the processor swaps each for an English sentence (below).
 * Decoding starts at `decoder_start_token_id` (`</s>` = 2) and stops at `eos_token_id` (`</s>`) or after
 * `maxNewTokens`; the text keeps its special tokens so that `parseFlorence` can read the `<loc_N>` coordinates.
 */

export const FLORENCE_MODEL = 'florence-2-base';
export const FLORENCE_FILES = {
  vision: 'onnx/vision_encoder.onnx',
  embed: 'onnx/embed_tokens.onnx',
  encoder: 'onnx/encoder_model.onnx',
  decoder: 'onnx/decoder_model_merged.onnx',
} as const;
const CONFIG_FILE = 'config.json';
const PREPROCESSOR_FILE = 'preprocessor_config.json';

/** Enough for a caption or a dozen boxes (5 tokens each); OCR of a dense page is cut short rather than run for minutes. */
export const FLORENCE_MAX_NEW_TOKENS = 256;

/** Florence2Processor's preprocessing: stretched to 768² (no crop), bicubic, ×1/255, ImageNet mean/std. */
export const FLORENCE_DEFAULTS: StretchedPreprocessing = {
  width: 768,
  height: 768,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  rescale: 1 / 255,
  kernel: 'cubic',
};

/** The sentences the processor sends for task tokens (processing_florence2.py, `task_prompts_without_inputs`). */
const PROMPTS: Partial<Record<FlorenceTask, string>> = {
  '<OCR>': 'What is the text in the image?',
  '<OCR_WITH_REGION>': 'What is the text in the image, with regions?',
  '<CAPTION>': 'What does the image describe?',
  '<DETAILED_CAPTION>': 'Describe in detail what is shown in the image.',
  '<MORE_DETAILED_CAPTION>': 'Describe with a paragraph what is shown in the image.',
  '<OD>': 'Locate the objects with category name in the image.',
  '<DENSE_REGION_CAPTION>': 'Locate the objects in the image, with their descriptions.',
  '<REGION_PROPOSAL>': 'Locate the region proposals in the image.',
};

/** Prompts that carry the user's text (`task_prompts_with_input`). */
const PROMPTS_WITH_INPUT: Partial<Record<FlorenceTask, string>> = {
  '<CAPTION_TO_PHRASE_GROUNDING>': 'Locate the phrases in the caption: {input}',
  '<REFERRING_EXPRESSION_SEGMENTATION>': 'Locate {input} in the image with mask',
  '<REGION_TO_SEGMENTATION>': 'What is the polygon mask of region {input}',
  '<OPEN_VOCABULARY_DETECTION>': 'Locate {input} in the image.',
  '<REGION_TO_CATEGORY>': 'What is the region {input}?',
  '<REGION_TO_DESCRIPTION>': 'What does the region {input} describe?',
  '<REGION_TO_OCR>': 'What text is in the region {input}?',
};

/** The sentence the model reads for `task`; tasks about a phrase or region need `text`. */
export function florencePrompt(task: FlorenceTask, text?: string): string {
  const withInput = PROMPTS_WITH_INPUT[task];
  if (withInput !== undefined) {
    const input = text?.trim() ?? '';
    if (input === '') throw new InvalidArgumentError(`Florence-2's ${task} needs a phrase or region to work on, for example "find the red umbrella".`);
    return withInput.replaceAll('{input}', input);
  }
  const prompt = PROMPTS[task];
  if (prompt === undefined) throw new InternalError(`Florence-2 has no prompt for ${task}.`);
  return prompt;
}

export interface FlorenceOptions {
  /** Decoding stops after this many tokens even without `</s>` (default FLORENCE_MAX_NEW_TOKENS). */
  maxNewTokens?: number;
  /** The task asking, so that a missing model is reported against it. */
  task?: Task;
}

export interface FlorenceResult {
  /** The generated text with its special tokens (`<s>`, `<loc_N>`, …), as the model wrote it. */
  text: string;
  parsed: FlorenceParse;
  /** True when decoding was cut at maxNewTokens rather than ended by the model. */
  truncated: boolean;
}

interface GenerationIds {
  decoderStart: number;
  eos: number;
}

interface FlorenceConfig {
  ids: GenerationIds;
  pre: StretchedPreprocessing;
}

/** A token id from config.json, at the top level or in `text_config` (where the BART language model keeps them). */
function tokenId(config: Record<string, unknown> | undefined, key: string, fallback: number): number {
  const textConfig = config?.['text_config'];
  const candidates = [config?.[key], textConfig !== null && typeof textConfig === 'object' ? (textConfig as Record<string, unknown>)[key] : undefined];
  for (const value of candidates) if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return fallback;
}

async function florenceConfig(models: ModelRegistry, task: Task | undefined): Promise<FlorenceConfig> {
  const [config, preprocessor] = await Promise.all([models.json(FLORENCE_MODEL, CONFIG_FILE, task), models.json(FLORENCE_MODEL, PREPROCESSOR_FILE, task)]);
  // BART's ids: generation starts at </s> (2) and ends at it.
  const ids = { decoderStart: tokenId(config, 'decoder_start_token_id', 2), eos: tokenId(config, 'eos_token_id', 2) };
  return { ids, pre: preprocessor === undefined ? FLORENCE_DEFAULTS : readPreprocessing(preprocessor, FLORENCE_DEFAULTS, FLORENCE_MODEL) };
}

function output(result: ort.InferenceSession.OnnxValueMapType, name: string, graph: string): ort.Tensor {
  const tensor = result[name];
  if (tensor === undefined) throw new InternalError(`Florence-2's ${graph} returned no "${name}" tensor.`);
  return tensor;
}

function floats(tensor: ort.Tensor, name: string): Float32Array {
  if (tensor.type !== 'float32') throw new InternalError(`Florence-2's ${name} is ${tensor.type}; this runner reads the fp32 export only.`);
  return tensor.data as Float32Array;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof VitronError ? signal.reason : new JobCancelledError();
}

async function embed(session: ort.InferenceSession, ids: readonly number[]): Promise<ort.Tensor> {
  const inputIds = new ort.Tensor(
    'int64',
    BigInt64Array.from(ids, (id) => BigInt(id)),
    [1, ids.length],
  );
  try {
    return output(await session.run({ input_ids: inputIds }), 'inputs_embeds', 'embed_tokens');
  } finally {
    inputIds.dispose();
  }
}

/** [1,A,D] then [1,B,D] → [1,A+B,D]: the image's tokens first, as `_merge_input_ids_with_image_features` does. */
function concatTokens(first: ort.Tensor, second: ort.Tensor): ort.Tensor {
  const [, a, d] = first.dims;
  const [, b, d2] = second.dims;
  if (first.dims.length !== 3 || second.dims.length !== 3 || d !== d2) {
    throw new InternalError(
      `Florence-2's image features [${first.dims.join(',')}] and prompt embeddings [${second.dims.join(',')}] do not share a hidden size.`,
    );
  }
  const data = new Float32Array(first.size + second.size);
  data.set(floats(first, 'image_features'));
  data.set(floats(second, 'inputs_embeds'), first.size);
  return new ort.Tensor('float32', data, [1, a! + b!, d!]);
}

const ones = (length: number): ort.Tensor => new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);

/** The encoder's view of the picture and the prompt: `last_hidden_state` [1,S,D] and its mask. */
async function encode(
  models: ModelRegistry,
  image: RawImage,
  promptIds: readonly number[],
  pre: StretchedPreprocessing,
  embedTokens: ort.InferenceSession,
  task: Task | undefined,
): Promise<{ hidden: ort.Tensor; mask: ort.Tensor }> {
  const [vision, encoder] = await Promise.all([
    models.session(FLORENCE_MODEL, { file: FLORENCE_FILES.vision, task }),
    models.session(FLORENCE_MODEL, { file: FLORENCE_FILES.encoder, task }),
  ]);
  const chw = await stretchedPixels(image, pre);
  const pixels = new ort.Tensor('float32', chw, [1, 3, pre.height, pre.width]);
  let imageFeatures: ort.Tensor;
  try {
    imageFeatures = output(await vision.run({ pixel_values: pixels }), 'image_features', 'vision_encoder');
  } finally {
    pixels.dispose();
    returnFloats(chw);
  }
  const promptEmbeds = await embed(embedTokens, promptIds);
  const inputsEmbeds = concatTokens(imageFeatures, promptEmbeds);
  imageFeatures.dispose();
  promptEmbeds.dispose();
  const mask = ones(inputsEmbeds.dims[1]!);
  try {
    const hidden = output(await encoder.run({ inputs_embeds: inputsEmbeds, attention_mask: mask }), 'last_hidden_state', 'encoder_model');
    return { hidden, mask };
  } catch (error) {
    mask.dispose();
    throw error;
  } finally {
    inputsEmbeds.dispose();
  }
}

/**
 * Empty past tensors for the first decoder step, shaped from the graph's own metadata: fixed dims (heads,
 * head size) as declared, the batch 1, every other symbolic dim (the sequence lengths) 0 — as Transformers.js does.
 */
function emptyPast(decoder: ort.InferenceSession): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (const meta of decoder.inputMetadata) {
    if (!meta.name.startsWith('past_key_values.')) continue;
    if (!meta.isTensor || meta.type !== 'float32')
      throw new InternalError(`Florence-2's decoder input ${meta.name} is not a float32 tensor; this runner reads the fp32 export only.`);
    const dims = meta.shape.map((d) => (typeof d === 'number' ? d : d === 'batch_size' ? 1 : 0));
    past[meta.name] = new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return past;
}

/** Index of the largest logit in the last position of `logits` [1,T,V]. */
function greedyToken(logits: ort.Tensor): number {
  const data = floats(logits, 'logits');
  const vocab = logits.dims.at(-1)!;
  const start = data.length - vocab;
  let best = 0;
  for (let i = 1; i < vocab; i++) if (data[start + i]! > data[start + best]!) best = i;
  return best;
}

/** Greedy decoding with the key/value cache: one token in per step, present.* becomes the next step's past. */
async function generate(
  decoder: ort.InferenceSession,
  embedTokens: ort.InferenceSession,
  encoded: { hidden: ort.Tensor; mask: ort.Tensor },
  ids: GenerationIds,
  maxNewTokens: number,
  signal: AbortSignal | undefined,
): Promise<{ tokens: number[]; truncated: boolean }> {
  const tokens: number[] = [];
  let past = emptyPast(decoder);
  const wantsMask = decoder.inputNames.includes('attention_mask');
  let previous = ids.decoderStart;
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      throwIfAborted(signal);
      const inputsEmbeds = await embed(embedTokens, [previous]);
      // The merged graph's If picks the branch: without past (step 0) it computes the cross-attention keys from the encoder.
      const useCache = new ort.Tensor('bool', [step > 0], [1]);
      const decoderMask = wantsMask ? ones(step + 1) : undefined;
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: inputsEmbeds,
        encoder_hidden_states: encoded.hidden,
        encoder_attention_mask: encoded.mask,
        use_cache_branch: useCache,
        ...past,
        ...(decoderMask === undefined ? {} : { attention_mask: decoderMask }),
      };
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        // Only what the graph declares: exports differ in which of these they take (an unused input is an error to onnxruntime).
        result = await decoder.run(Object.fromEntries(Object.entries(feeds).filter(([name]) => decoder.inputNames.includes(name))));
      } finally {
        inputsEmbeds.dispose();
        useCache.dispose();
        decoderMask?.dispose();
      }
      const logits = output(result, 'logits', 'decoder_model_merged');
      const token = greedyToken(logits);
      logits.dispose();
      const next: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(result)) {
        if (!name.startsWith('present.')) continue;
        const pastName = name.replace('present.', 'past_key_values.');
        // The cross-attention cache is computed once, from the encoder, at step 0; later steps pass it through unchanged.
        if (name.includes('.encoder.') && step > 0) {
          next[pastName] = past[pastName]!;
          tensor.dispose();
        } else {
          next[pastName] = tensor;
          if (past[pastName] !== undefined) past[pastName].dispose();
        }
      }
      past = next;
      if (token === ids.eos) return { tokens, truncated: false };
      tokens.push(token);
      previous = token;
    }
    return { tokens, truncated: true };
  } finally {
    for (const tensor of Object.values(past)) tensor.dispose();
  }
}

/** The prompt's ids, `<s>` … `</s>` as BART's tokenizer wraps them. */
function tokenizePrompt(tokenizer: PreTrainedTokenizer, prompt: string): number[] {
  const encoded = tokenizer(prompt, { padding: false, truncation: false, return_tensor: false }) as { input_ids: number[] };
  return encoded.input_ids;
}

/**
 * Runs Florence-2's `task` on `image` (with `text` for the tasks about a phrase or region) and reads the answer
 * into boxes, OCR lines, polygons or text in the image's pixels. A missing model rejects with
 * ModelNotInstalledError naming the pull command; an abort stops between decoder steps.
 */
export async function runFlorence(
  models: ModelRegistry,
  image: RawImage,
  task: FlorenceTask,
  text?: string,
  signal?: AbortSignal,
  options: FlorenceOptions = {},
): Promise<FlorenceResult> {
  const prompt = florencePrompt(task, text);
  const maxNewTokens = options.maxNewTokens ?? FLORENCE_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new InternalError(`maxNewTokens should be a positive whole number, got ${maxNewTokens}.`);
  // The sessions first: a missing model is reported with its pull command before anything else is read.
  const [embedTokens, decoder] = await Promise.all([
    models.session(FLORENCE_MODEL, { file: FLORENCE_FILES.embed, task: options.task }),
    models.session(FLORENCE_MODEL, { file: FLORENCE_FILES.decoder, task: options.task }),
  ]);
  const [tokenizer, config] = await Promise.all([clipTokenizer(models, FLORENCE_MODEL, options.task), florenceConfig(models, options.task)]);
  throwIfAborted(signal);
  const encoded = await encode(models, image, tokenizePrompt(tokenizer, prompt), config.pre, embedTokens, options.task);
  let generated: { tokens: number[]; truncated: boolean };
  try {
    generated = await generate(decoder, embedTokens, encoded, config.ids, maxNewTokens, signal);
  } finally {
    encoded.hidden.dispose();
    encoded.mask.dispose();
  }
  // Special tokens stay: the coordinates are <loc_N> tokens, and parseFlorence drops <s>, </s> and <pad> itself.
  const answer = tokenizer.decode(generated.tokens, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  return { text: answer, parsed: parseFlorence(answer, task, { width: image.width, height: image.height }), truncated: generated.truncated };
}
