import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { embeddingKey, encoderId, packTensors, unpackTensors, type TextArgName } from '../../core/embeddings.ts';
import { LruCache } from '../../core/lru.ts';
import { InternalError } from '../../errors.ts';
import { fileWithRole } from './model-files.ts';
import { fileFingerprint } from './model-fingerprint.ts';
import type { ModelRegistry } from './model-registry.ts';
import type { FrontierType } from './onnx-split.ts';

/**
 * What a model's text encoder made of some words, where it comes from, and how it travels. A runner that
 * conditions on text (CLIPSeg, OWL-ViT, SD-Turbo) asks `conditioningFor` and gets, in this order:
 *
 * 1. the planner's embedding, when the invocation carries one under exactly the key this runner would write
 *    (same argument, same encoder id, same words) and it unpacks to tensors of the types its graph reads;
 * 2. an encoding this registry (this inference thread) made earlier for the same key — so a video's phrase is
 *    encoded once per job, not once per frame, and a phrase asked again is not encoded again;
 * 3. its own text encoder, run now and remembered.
 *
 * Only the runner's own encodings are remembered across jobs: a planner's numbers serve the job that carried
 * them and nothing else (one user's invocation must not decide what another user's phrase means).
 */

export interface TypedTensor {
  type: FrontierType;
  dims: readonly number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export function toOrt(t: TypedTensor): ort.Tensor {
  return new ort.Tensor(t.type, t.data, t.dims);
}

/** A copy of an output tensor's values (the tensor's native memory can then go). */
export function fromOrt(tensor: ort.Tensor): TypedTensor {
  const dims = [...tensor.dims];
  switch (tensor.type) {
    case 'float32':
      return { type: 'float32', dims, data: Float32Array.from(tensor.data as Float32Array) };
    case 'int64':
      return { type: 'int64', dims, data: BigInt64Array.from(tensor.data as BigInt64Array) };
    case 'int32':
      return { type: 'int32', dims, data: Int32Array.from(tensor.data as Int32Array) };
    case 'bool':
      return { type: 'bool', dims, data: Uint8Array.from(tensor.data as Uint8Array) };
    default:
      throw new InternalError(`A text encoder answered a ${tensor.type} tensor; embeddings carry float32, int64, int32 and bool.`);
  }
}

/** The tensors as an embedding's plain numbers (src/core/embeddings.ts), or undefined when a value does not fit one. */
export function packTyped(tensors: readonly TypedTensor[]): number[] | undefined {
  const plain = tensors.map((t) => ({ dims: t.dims, values: t.data instanceof BigInt64Array ? Array.from(t.data, Number) : t.data }));
  for (const p of plain) {
    // int64 beyond 2^53 cannot cross JSON exactly; no token-derived value comes near it, but a wrong number must not travel.
    if (Array.isArray(p.values) && !p.values.every(Number.isSafeInteger)) return undefined;
  }
  return packTensors(plain);
}

/** An embedding's numbers as tensors of the expected types, or undefined when they are not that (count, type, range). */
export function unpackTyped(packed: readonly number[], types: readonly FrontierType[]): TypedTensor[] | undefined {
  const plain = unpackTensors(packed);
  if (plain === undefined || plain.length !== types.length) return undefined;
  const out: TypedTensor[] = [];
  for (const [i, t] of plain.entries()) {
    const type = types[i]!;
    if (type === 'float32') {
      out.push({ type, dims: t.dims, data: Float32Array.from(t.values) });
      continue;
    }
    if (!t.values.every(Number.isSafeInteger)) return undefined;
    if (type === 'bool' && !t.values.every((v) => v === 0 || v === 1)) return undefined;
    if (type === 'int32' && !t.values.every((v) => v >= -(2 ** 31) && v < 2 ** 31)) return undefined;
    const data = type === 'int64' ? BigInt64Array.from(t.values, BigInt) : type === 'int32' ? Int32Array.from(t.values) : Uint8Array.from(t.values);
    out.push({ type, dims: t.dims, data });
  }
  return out;
}

const ids = new WeakMap<ModelRegistry, Map<string, Promise<string>>>();

/**
 * The encoder id of a model's text encoder here: the model and a fingerprint of the graph file that holds the
 * encoder (`variant` folds in how we cut a fused graph, so a changed cut is another encoder).
 */
export function textEncoderId(models: ModelRegistry, model: string, file: string, variant = '', task?: string): Promise<string> {
  let perRegistry = ids.get(models);
  if (perRegistry === undefined) {
    perRegistry = new Map();
    ids.set(models, perRegistry);
  }
  const key = `${model}\u0000${file}\u0000${variant}`;
  let pending = perRegistry.get(key);
  if (pending === undefined) {
    pending = (async () => {
      const located = fileWithRole(models.require(model, task), 'onnx', file);
      if (located === undefined) throw new InternalError(`Model "${model}" has no ONNX file named ${file}.`);
      const print = await fileFingerprint(located);
      const fingerprint = variant === '' ? print : createHash('sha256').update(`${print}:${variant}`).digest('hex').slice(0, print.length);
      return encoderId(model, fingerprint);
    })();
    perRegistry.set(key, pending);
    pending.catch(() => perRegistry.delete(key));
  }
  return pending;
}

/** Bounds of each registry's memory of its own encodings: a few hundred phrases, or ~50 SD prompts (77×1024). */
const MEMO_ENTRIES = 256;
const MEMO_VALUES = 4_000_000;

interface Memo {
  done: LruCache<string, TypedTensor[]>;
  running: Map<string, Promise<TypedTensor[]>>;
}

const memos = new WeakMap<ModelRegistry, Memo>();

function memoOf(models: ModelRegistry): Memo {
  let memo = memos.get(models);
  if (memo === undefined) {
    memo = {
      done: new LruCache({ maxEntries: MEMO_ENTRIES, maxWeight: MEMO_VALUES, weigh: (ts) => ts.reduce((n, t) => n + t.data.length, 0) }),
      running: new Map(),
    };
    memos.set(models, memo);
  }
  return memo;
}

export type ConditioningSource = 'planner' | 'memo' | 'encoded';

export interface Conditioning {
  key: string;
  tensors: TypedTensor[];
  from: ConditioningSource;
}

export interface ConditioningRequest {
  arg: TextArgName;
  encoder: string;
  /** The exact words the encoder reads (after the model's own template). */
  text: string;
  /** The types of the tensors the encoder answers, in order: a planner's embedding must unpack to exactly these. */
  types: readonly FrontierType[];
  /** A further check of a planner's tensors (their shape), when the runner knows what it must be. */
  accepts?: (tensors: readonly TypedTensor[]) => boolean;
  /** Runs this model's own text encoder on `text`. */
  encode(): Promise<TypedTensor[]>;
}

export async function conditioningFor(
  models: ModelRegistry,
  request: ConditioningRequest,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<Conditioning> {
  const key = embeddingKey(request.arg, request.encoder, request.text);
  const given = embeddings?.[key];
  if (given !== undefined) {
    const tensors = unpackTyped(given, request.types);
    if (tensors !== undefined && (request.accepts?.(tensors) ?? true)) return { key, tensors, from: 'planner' };
  }
  const memo = memoOf(models);
  const known = memo.done.get(key);
  if (known !== undefined) return { key, tensors: known, from: 'memo' };
  let running = memo.running.get(key);
  if (running === undefined) {
    running = request.encode();
    memo.running.set(key, running);
    running.then(
      (tensors) => {
        memo.running.delete(key);
        memo.done.set(key, tensors);
      },
      () => memo.running.delete(key),
    );
    return { key, tensors: await running, from: 'encoded' };
  }
  return { key, tensors: await running, from: 'memo' };
}
