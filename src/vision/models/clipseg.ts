import type { PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Task } from '../../core/tasks.ts';
import { InternalError, InvalidArgumentError } from '../../errors.ts';
import { clipTokenizer } from './clip-tokenizer.ts';
import { returnFloats } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import { PREPROCESSOR_CONFIG, readPreprocessing, stretchedPixels, type StretchedPreprocessing } from './stretched-preprocessing.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';
import { embeddingKey } from '../../core/embeddings.ts';
import { halvesOf, textHalfOf, type FusedTextModel, type Halves } from './split-halves.ts';
import { conditioningFor, packTyped, toOrt, type ConditioningSource } from './text-conditioning.ts';

/**
 * CLIPSeg (rd64 refined) on onnxruntime, as exported for Transformers.js (`Xenova/clipseg-rd64-refined`,
 * `CLIPSegForImageSegmentation`): a mask for any phrase, coarse (352²) but not limited to COCO's 80 classes.
 *
 * `onnx/model.onnx`: `input_ids` int64 [B,T] and `attention_mask` int64 [B,T] (CLIP BPE, `<|startoftext|>` …
 * `<|endoftext|>`, at most 77 tokens), `pixel_values` float [B,3,352,352] (ViTImageProcessor: stretched to
 * 352² without keeping the aspect, bilinear, ×1/255, ImageNet mean/std) → `logits` [B,352,352], one map per
 * phrase (an export traced with `.squeeze()` answers [352,352] for one phrase; both are read). Sizes, mean,
 * std and rescale come from `preprocessor_config.json` when it states them.
 *
 * The graph is run in two halves cut at what the words alone decide (split-halves.ts): the text half is CLIP's
 * text tower with whatever CLIPSeg computes from its conditional embedding before it meets the picture; the
 * rest reads those tensors. A phrase the planner already encoded with this very graph (the invocation's
 * `phrase@clipseg-rd64:text:…` embedding) skips the text half; a graph that cannot be cut runs fused.
 */

export const CLIPSEG_MODEL = 'clipseg-rd64';
export const CLIPSEG_FILE = 'onnx/model.onnx';
/** CLIPSeg's maps are soft; 0.4 keeps the object without the halo that 0.3 lets in (tune on real weights). */
export const CLIPSEG_THRESHOLD = 0.4;
/** CLIP's text encoder has 77 positions; tokenizer_config.json's model_max_length says so too. */
const CLIP_MAX_TOKENS = 77;

export interface PhraseMask {
  mask: Mask;
  /** Sigmoid of the logits, 0..255, at the image's size: for overlays that show how sure the model is. */
  probability: Uint8Array;
  /** Fraction of the picture inside the mask. */
  coverage: number;
}

/** The ViTImageProcessor values of CIDAS/clipseg-rd64-refined, for keys the config leaves out. */
export const CLIPSEG_DEFAULTS: StretchedPreprocessing = {
  width: 352,
  height: 352,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  rescale: 1 / 255,
  kernel: 'linear',
};

/** CLIPSeg's preprocessing from its `preprocessor_config.json`; keys the config leaves out keep CLIPSeg's own values. */
export function clipsegPreprocessing(config: Record<string, unknown>): StretchedPreprocessing {
  return readPreprocessing(config, CLIPSEG_DEFAULTS, CLIPSEG_MODEL);
}

/** Logits → sigmoid probabilities, 0..255. */
export function sigmoidBytes(logits: Float32Array): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = Math.round(255 / (1 + Math.exp(-logits[i]!)));
  return out;
}

/**
 * One phrase's logits map (mapWidth × mapHeight, stretched over the whole picture) → the probability at the
 * image's size (sharp, bilinear, which undoes the stretch) and the mask of what is above `threshold`.
 */
export async function logitsToPhraseMask(
  logits: Float32Array,
  map: { width: number; height: number },
  width: number,
  height: number,
  threshold = CLIPSEG_THRESHOLD,
): Promise<PhraseMask> {
  if (logits.length !== map.width * map.height) throw new InternalError(`CLIPSeg logits hold ${logits.length} values for a ${map.width}×${map.height} map.`);
  const small = sigmoidBytes(logits);
  let probability: Uint8Array = small;
  if (map.width !== width || map.height !== height) {
    const resized = await sharp(small, { raw: { width: map.width, height: map.height, channels: 1 } })
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      // sharp turns one-channel raw input into sRGB on output unless told to stay grey.
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    probability = new Uint8Array(resized.buffer, resized.byteOffset, resized.length);
  }
  const cut = threshold * 255;
  const data = new Uint8Array(width * height);
  let on = 0;
  for (let i = 0; i < data.length; i++) {
    if (probability[i]! > cut) {
      data[i] = 255;
      on++;
    }
  }
  return { mask: { data, width, height }, probability, coverage: data.length === 0 ? 0 : on / data.length };
}

/** The map size of a `logits` tensor for one phrase: [H,W], [1,H,W] or [1,1,H,W]. */
export function singleMapSize(dims: readonly number[]): { width: number; height: number } {
  const height = dims.at(-2);
  const width = dims.at(-1);
  const batch = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  if (height === undefined || width === undefined || batch !== 1) {
    throw new InternalError(`CLIPSeg returned logits of shape [${dims.join(',')}], expected one map: [1,H,W] or [H,W].`);
  }
  return { width, height };
}

/** CLIPSeg's CLIP tokenizer, read from the model's folder under MODELS_DIR on first use. */
export function clipsegTokenizer(models: ModelRegistry, task: Task = 'segment'): Promise<PreTrainedTokenizer> {
  return clipTokenizer(models, CLIPSEG_MODEL, task);
}

export interface TokenizedPhrase {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/**
 * The phrase as CLIP token ids, `<|startoftext|>` … `<|endoftext|>`, unpadded (one phrase is its own longest).
 * A phrase longer than the text encoder's positions is refused rather than cut: cutting drops `<|endoftext|>`,
 * the token CLIP reads the phrase's meaning from.
 */
export function tokenizePhrase(tokenizer: PreTrainedTokenizer, phrase: string): TokenizedPhrase {
  const text = phrase.trim();
  if (text === '') throw new InvalidArgumentError('Say what to segment, for example "segment the sky" or "segment the red umbrella".');
  const limit = Math.min(CLIP_MAX_TOKENS, Number.isFinite(tokenizer.model_max_length) ? tokenizer.model_max_length : CLIP_MAX_TOKENS);
  const encoded = tokenizer(text, { padding: false, truncation: false, return_tensor: false }) as { input_ids: number[]; attention_mask: number[] };
  if (encoded.input_ids.length > limit) {
    throw new InvalidArgumentError(
      `"${text.length > 60 ? `${text.slice(0, 57)}…` : text}" is too long for CLIPSeg (${encoded.input_ids.length} tokens, at most ${limit}): name the thing in a few words.`,
    );
  }
  return {
    inputIds: BigInt64Array.from(encoded.input_ids, (id) => BigInt(id)),
    attentionMask: BigInt64Array.from(encoded.attention_mask, (m) => BigInt(m)),
  };
}

async function preprocessing(models: ModelRegistry, task: Task): Promise<StretchedPreprocessing> {
  const config = await models.json(CLIPSEG_MODEL, PREPROCESSOR_CONFIG, task);
  return config === undefined ? CLIPSEG_DEFAULTS : clipsegPreprocessing(config);
}

/** CLIPSeg's fused graph as the text half and the rest. */
export const CLIPSEG_TEXT: FusedTextModel = { model: CLIPSEG_MODEL, file: CLIPSEG_FILE, textInputs: ['input_ids', 'attention_mask'] };

/** The words CLIPSeg's text encoder reads for a phrase (an embedding's key is made from them). */
export const clipsegText = (phrase: string): string => phrase.trim();

function textFeeds(tokens: TokenizedPhrase): Record<string, ort.Tensor> {
  return {
    input_ids: new ort.Tensor('int64', tokens.inputIds, [1, tokens.inputIds.length]),
    attention_mask: new ort.Tensor('int64', tokens.attentionMask, [1, tokens.attentionMask.length]),
  };
}

/** Feeds of the rest half: the picture, the text inputs it still reads, and the phrase's conditioning. */
async function conditionedFeeds(
  models: ModelRegistry,
  halves: Halves,
  phrase: string,
  tokens: TokenizedPhrase,
  embeddings: Readonly<Record<string, readonly number[]>> | undefined,
): Promise<{ feeds: Record<string, ort.Tensor>; from: ConditioningSource }> {
  const text = textFeeds(tokens);
  const conditioning = await conditioningFor(
    models,
    { arg: 'phrase', encoder: halves.encoder, text: clipsegText(phrase), types: halves.plan.frontier.map((f) => f.type), encode: () => halves.encode(text) },
    embeddings,
  );
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of halves.plan.restTextInputs) feeds[name] = text[name]!;
  halves.plan.frontier.forEach((f, i) => {
    feeds[f.name] = toOrt(conditioning.tensors[i]!);
  });
  return { feeds, from: conditioning.from };
}

export interface ClipsegLogits {
  logits: Float32Array;
  map: { width: number; height: number };
  /** Where the phrase's conditioning came from; undefined when the fused graph ran (it encodes inside). */
  conditioning?: ConditioningSource;
}

/**
 * The logits of one phrase over one picture. `embeddings` are the invocation's: the phrase's embedding for this
 * graph, when among them, replaces the text half's run.
 */
export async function clipsegLogits(
  models: ModelRegistry,
  image: RawImage,
  phrase: string,
  task: Task = 'segment',
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<ClipsegLogits> {
  // The halves (or the fused session) first: a missing model is reported with its pull command before anything else is read.
  const halves = await halvesOf(models, CLIPSEG_TEXT, task);
  const session = halves?.rest ?? (await models.session(CLIPSEG_MODEL, { file: CLIPSEG_FILE, task }));
  const [tokenizer, pre] = await Promise.all([clipsegTokenizer(models, task), preprocessing(models, task)]);
  const tokens = tokenizePhrase(tokenizer, phrase);
  const conditioned = halves === undefined ? undefined : await conditionedFeeds(models, halves, phrase, tokens, embeddings);
  const chw = await stretchedPixels(image, pre);
  const feeds: Record<string, ort.Tensor> = conditioned?.feeds ?? { input_ids: new ort.Tensor('int64', tokens.inputIds, [1, tokens.inputIds.length]) };
  feeds['pixel_values'] = new ort.Tensor('float32', chw, [1, 3, pre.height, pre.width]);
  // Some exports fold the mask away (no padding in a batch of one); feeding an input a graph lacks is an error.
  if (halves === undefined && session.inputNames.includes('attention_mask'))
    feeds['attention_mask'] = new ort.Tensor('int64', tokens.attentionMask, [1, tokens.attentionMask.length]);
  try {
    const out = await session.run(feeds, ['logits']);
    const logits = out['logits'];
    if (logits === undefined) throw new InternalError('CLIPSeg returned no "logits" tensor.');
    const map = singleMapSize(logits.dims);
    // Copied out so the tensor's native memory can go now.
    const values = Float32Array.from(logits.data as Float32Array);
    logits.dispose();
    return { logits: values, map, ...(conditioned ? { conditioning: conditioned.from } : {}) };
  } finally {
    feeds['pixel_values']!.dispose();
    returnFloats(chw);
  }
}

/**
 * The phrase's embedding for the invocation (planner side): the text half's output, packed, under its key;
 * undefined when the graph cannot be cut here (then nothing is sent and the worker encodes the phrase itself).
 */
export async function clipsegTextEmbedding(
  models: ModelRegistry,
  phrase: string,
  task: Task = 'segment',
): Promise<{ key: string; values: number[] } | undefined> {
  const half = await textHalfOf(models, CLIPSEG_TEXT, task);
  if (half === undefined) return undefined;
  const tokens = tokenizePhrase(await clipsegTokenizer(models, task), phrase);
  const values = packTyped(await half.encode(textFeeds(tokens)));
  return values === undefined ? undefined : { key: embeddingKey('phrase', half.encoder, clipsegText(phrase)), values };
}

/** The mask of whatever `phrase` names in the picture ("the sky", "the red umbrella", "the logo"). */
export async function clipsegMask(
  models: ModelRegistry,
  image: RawImage,
  phrase: string,
  task: Task = 'segment',
  threshold = CLIPSEG_THRESHOLD,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<PhraseMask> {
  const { logits, map } = await clipsegLogits(models, image, phrase, task, embeddings);
  return logitsToPhraseMask(logits, map, image.width, image.height, threshold);
}
