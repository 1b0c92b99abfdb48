import type { PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import type { Task } from '../../core/tasks.ts';
import { InternalError, InvalidArgumentError } from '../../errors.ts';
import { clipTokenizer } from './clip-tokenizer.ts';
import { returnFloats } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { readPreprocessing, stretchedPixels, type StretchedPreprocessing } from './stretched-preprocessing.ts';
import type { Detection } from '../ops/detection.ts';
import { isPluralWord, singularForms } from '../../core/plurals.ts';
import { suppressOverlaps } from '../ops/nms.ts';
import { parseReferring } from '../../core/referring.ts';
import { embeddingKey } from '../../core/embeddings.ts';
import { halvesOf, textHalfOf, type FusedTextModel } from './split-halves.ts';
import { conditioningFor, packTyped, toOrt } from './text-conditioning.ts';

/**
 * OWL-ViT base/32 on onnxruntime, as exported for Transformers.js (`Xenova/owlvit-base-patch32`,
 * `OwlViTForObjectDetection`): boxes for any phrase, not only COCO's 80 classes.
 *
 * `onnx/model.onnx`: `input_ids` int64 [Q,T] and `attention_mask` int64 [Q,T] (one row per query, CLIP BPE,
 * padded to the text encoder's 16 positions as OwlViTProcessor does), `pixel_values` float [1,3,768,768]
 * (OwlViTImageProcessor: stretched to 768² without keeping the aspect, bicubic, ×1/255, CLIP mean/std) →
 * `logits` [1,P,Q] (P = 24² patches, one score per patch and query, before the sigmoid) and `pred_boxes`
 * [1,P,4] (cx, cy, w, h as fractions of the stretched square, so of the original picture too). The export
 * also answers `text_embeds` and `image_embeds`, which we do not ask for.
 *
 * The graph runs in two halves cut at what the query words alone decide (split-halves.ts): the text half is
 * CLIP's text tower and what OWL-ViT computes from the query embeddings before they meet the patches. A query
 * the planner already encoded with this graph (`phrase@owlvit-base:text:…`, keyed by the templated words "a
 * photo of a …") skips it; so does a phrase this thread encoded before (every detector frame of a video after
 * the first). A graph that cannot be cut runs fused.
 */

export const OWLVIT_MODEL = 'owlvit-base';
export const OWLVIT_FILE = 'onnx/model.onnx';
const PREPROCESSOR_FILE = 'preprocessor_config.json';
/** Transformers.js' zero-shot-object-detection default; OWL-ViT's sigmoid scores are low (a clear cat is ~0.3). */
export const OWLVIT_THRESHOLD = 0.1;
/**
 * Neighbouring patches predict the same object with near-identical boxes; the OWL-ViT demos suppress at
 * 0.3 IoU, lower than CenterNet's 0.5, because these duplicates are many and only slightly shifted.
 */
export const OWLVIT_NMS_IOU = 0.3;
/**
 * Candidates kept for suppression, best first: suppression is quadratic, and a vague phrase can pass the
 * threshold on hundreds of patches (576 per query). 300 still leaves room for the duplicates of several objects.
 */
export const OWLVIT_MAX_CANDIDATES = 300;
/** OWL-ViT's text encoder has 16 positions (text_config.max_position_embeddings; tokenizer_config's model_max_length). */
export const OWLVIT_MAX_TOKENS = 16;
/**
 * OWL-ViT was trained on class names set in CLIP's prompt templates; the Hugging Face examples query with
 * "a photo of a cat". A bare noun works too but scores lower.
 */
export const OWLVIT_QUERY_TEMPLATE = (noun: string): string => `a photo of a ${noun}`;

/** OwlViTImageProcessor's defaults (google/owlvit-base-patch32), for keys the config leaves out. */
export const OWLVIT_DEFAULTS: StretchedPreprocessing = {
  width: 768,
  height: 768,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  rescale: 1 / 255,
  kernel: 'cubic',
};

/** One phrase as asked of the model: the label its boxes get and the text the model reads. */
export interface PhraseQuery {
  label: string;
  text: string;
}

/**
 * "all the red umbrellas on the left" → label "red umbrella", text "a photo of a red umbrella". Referring
 * words are not sent: the detections are selected from afterwards (`select` in referring.ts).
 */
export function queryOf(phrase: string): PhraseQuery {
  const noun = parseReferring(phrase).noun;
  if (noun === undefined)
    throw new InvalidArgumentError(`Say what to look for, for example "where is the red umbrella?" ("${phrase.trim()}" names no thing).`, { phrase });
  const words = noun.split(' ');
  const head = words.at(-1)!;
  // The second form is the first real singular ("umbrellas" → umbrella, "berries" → berry, "boxes" → box).
  if (isPluralWord(head)) words[words.length - 1] = singularForms(head)[1] ?? head;
  const label = words.join(' ');
  return { label, text: OWLVIT_QUERY_TEMPLATE(label) };
}

export interface TokenizedQueries {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  /** Tokens per row (every row is padded to the same length). */
  length: number;
}

/**
 * The queries as one [Q, 16] batch: `<|startoftext|>` … `<|endoftext|>`, then the pad token with attention 0.
 * A query longer than the text encoder's positions is refused rather than cut: cutting drops `<|endoftext|>`,
 * the token CLIP reads the meaning from.
 */
export function tokenizeQueries(tokenizer: PreTrainedTokenizer, texts: readonly string[]): TokenizedQueries {
  const limit = Math.min(OWLVIT_MAX_TOKENS, Number.isFinite(tokenizer.model_max_length) ? tokenizer.model_max_length : OWLVIT_MAX_TOKENS);
  const pad = BigInt(tokenizer.pad_token_id ?? 0);
  const inputIds = new BigInt64Array(texts.length * limit).fill(pad);
  const attentionMask = new BigInt64Array(texts.length * limit);
  texts.forEach((text, row) => {
    const encoded = tokenizer(text, { padding: false, truncation: false, return_tensor: false }) as { input_ids: number[] };
    const ids = encoded.input_ids;
    if (ids.length > limit) {
      throw new InvalidArgumentError(
        `"${text.length > 60 ? `${text.slice(0, 57)}…` : text}" is too long for the open-vocabulary detector (${ids.length} tokens, at most ${limit}): name the thing in a few words.`,
      );
    }
    ids.forEach((id, i) => {
      inputIds[row * limit + i] = BigInt(id);
      attentionMask[row * limit + i] = 1n;
    });
  });
  return { inputIds, attentionMask, length: limit };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const clamp = (v: number, max: number): number => Math.min(max, Math.max(0, v));

/**
 * The model's raw answer → boxes in pixels of the picture: every (patch, query) whose sigmoid score passes
 * `threshold` becomes a detection of that query's label, with the patch's box (cx, cy, w, h as fractions,
 * scaled by the picture's own width and height: the processor stretched it, so the fractions hold for it
 * unchanged), clipped to the picture; then the best OWLVIT_MAX_CANDIDATES have their duplicates suppressed.
 */
export function phraseDetections(
  logits: Float32Array,
  boxes: Float32Array,
  labels: readonly string[],
  width: number,
  height: number,
  threshold = OWLVIT_THRESHOLD,
): Detection[] {
  const queries = labels.length;
  const patches = boxes.length / 4;
  if (!Number.isInteger(patches) || logits.length !== patches * queries) {
    throw new InternalError(
      `OWL-ViT answered ${logits.length} logits and ${boxes.length / 4} boxes for ${queries} queries: expected one logit per box and query.`,
    );
  }
  const found: Detection[] = [];
  for (let p = 0; p < patches; p++) {
    for (let q = 0; q < queries; q++) {
      const score = sigmoid(logits[p * queries + q]!);
      if (score <= threshold) continue;
      const [cx, cy, w, h] = [boxes[p * 4]!, boxes[p * 4 + 1]!, boxes[p * 4 + 2]!, boxes[p * 4 + 3]!];
      const x1 = clamp((cx - w / 2) * width, width);
      const y1 = clamp((cy - h / 2) * height, height);
      const x2 = clamp((cx + w / 2) * width, width);
      const y2 = clamp((cy + h / 2) * height, height);
      if (x2 - x1 < 1 || y2 - y1 < 1) continue;
      found.push({ x1, y1, x2, y2, label: labels[q]!, score });
    }
  }
  const best = found.length > OWLVIT_MAX_CANDIDATES ? found.sort((a, b) => b.score - a.score).slice(0, OWLVIT_MAX_CANDIDATES) : found;
  return suppressOverlaps(best, OWLVIT_NMS_IOU);
}

async function preprocessing(models: ModelRegistry, task: Task | undefined): Promise<StretchedPreprocessing> {
  const config = await models.json(OWLVIT_MODEL, PREPROCESSOR_FILE, task);
  // `size: 768` means 768×768 to OwlViTImageProcessor (Python); the centre crop to crop_size that follows is then a no-op.
  return config === undefined ? OWLVIT_DEFAULTS : readPreprocessing(config, OWLVIT_DEFAULTS, OWLVIT_MODEL);
}

/** The dims of `logits` [1,P,Q] and `pred_boxes` [1,P,4] checked against each other and the queries. */
function checkOutputs(logits: readonly number[], boxes: readonly number[], queries: number): void {
  const [lb, lp, lq] = logits;
  const [bb, bp, four] = boxes;
  if (logits.length !== 3 || boxes.length !== 3 || lb !== 1 || bb !== 1 || lp !== bp || lq !== queries || four !== 4) {
    throw new InternalError(`OWL-ViT returned logits [${logits.join(',')}] and pred_boxes [${boxes.join(',')}]; expected [1,P,${queries}] and [1,P,4].`);
  }
}

/** OWL-ViT's fused graph as the text half and the rest. */
export const OWLVIT_TEXT: FusedTextModel = { model: OWLVIT_MODEL, file: OWLVIT_FILE, textInputs: ['input_ids', 'attention_mask'] };

function textFeeds(tokens: TokenizedQueries, queries: number): Record<string, ort.Tensor> {
  return {
    input_ids: new ort.Tensor('int64', tokens.inputIds, [queries, tokens.length]),
    attention_mask: new ort.Tensor('int64', tokens.attentionMask, [queries, tokens.length]),
  };
}

/**
 * Boxes for each phrase ("the red umbrella", "a logo"), labelled with the phrase's noun, in pixels of
 * `image`, best first after suppressing duplicates. One run of the model answers all phrases. `embeddings` are
 * the invocation's: a phrase's embedding for this graph, when among them, replaces the text half's run.
 */
export async function detectByPhrase(
  models: ModelRegistry,
  image: RawImage,
  phrases: readonly string[],
  task?: Task,
  threshold = OWLVIT_THRESHOLD,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<Detection[]> {
  const queries = phrases.map(queryOf);
  if (queries.length === 0) return [];
  // The halves (or the fused session) first: a missing model is reported with its pull command before anything else is read.
  const halves = await halvesOf(models, OWLVIT_TEXT, task);
  const session = halves?.rest ?? (await models.session(OWLVIT_MODEL, { file: OWLVIT_FILE, task }));
  const [tokenizer, pre] = await Promise.all([clipTokenizer(models, OWLVIT_MODEL, task), preprocessing(models, task)]);
  const tokens = tokenizeQueries(
    tokenizer,
    queries.map((q) => q.text),
  );
  const text = textFeeds(tokens, queries.length);
  let feeds: Record<string, ort.Tensor> = text;
  if (halves !== undefined) {
    // A planner encodes one phrase per key; several queries at once are one encoding of this thread's own.
    const conditioning = await conditioningFor(
      models,
      {
        arg: 'phrase',
        encoder: halves.encoder,
        text: queries.map((q) => q.text).join('\n'),
        types: halves.plan.frontier.map((f) => f.type),
        encode: () => halves.encode(text),
      },
      embeddings,
    );
    feeds = {};
    for (const name of halves.plan.restTextInputs) feeds[name] = text[name]!;
    halves.plan.frontier.forEach((f, i) => {
      feeds[f.name] = toOrt(conditioning.tensors[i]!);
    });
  }
  const chw = await stretchedPixels(image, pre);
  feeds['pixel_values'] = new ort.Tensor('float32', chw, [1, 3, pre.height, pre.width]);
  try {
    const out = await session.run(feeds, ['logits', 'pred_boxes']);
    const logits = out['logits'];
    const boxes = out['pred_boxes'];
    if (logits === undefined || boxes === undefined) throw new InternalError('OWL-ViT returned no "logits" or "pred_boxes" tensor.');
    try {
      checkOutputs(logits.dims, boxes.dims, queries.length);
      return phraseDetections(
        logits.data as Float32Array,
        boxes.data as Float32Array,
        queries.map((q) => q.label),
        image.width,
        image.height,
        threshold,
      );
    } finally {
      logits.dispose();
      boxes.dispose();
    }
  } finally {
    feeds['pixel_values']!.dispose();
    returnFloats(chw);
  }
}

/**
 * The phrase's embedding for the invocation (planner side): the text half's output for the query OWL-ViT would
 * read ("a photo of a red umbrella"), packed, under its key; undefined when the graph cannot be cut here.
 */
export async function owlvitTextEmbedding(models: ModelRegistry, phrase: string, task?: Task): Promise<{ key: string; values: number[] } | undefined> {
  const query = queryOf(phrase);
  const half = await textHalfOf(models, OWLVIT_TEXT, task);
  if (half === undefined) return undefined;
  const tokens = tokenizeQueries(await clipTokenizer(models, OWLVIT_MODEL, task), [query.text]);
  const values = packTyped(await half.encode(textFeeds(tokens, 1)));
  return values === undefined ? undefined : { key: embeddingKey('phrase', half.encoder, query.text), values };
}
