import { createHash } from 'node:crypto';

/**
 * The continuous half of the hybrid message, as it travels in `Invocation.embeddings`: what a model's text
 * encoder made of an argument's words, keyed so that a specialist can tell whether it may use the numbers
 * instead of running its own text encoder. The key names three things, and a specialist looks up the key it
 * would write itself, so any of them differing means "not for me" and it encodes the words on its own:
 *
 *     <arg>@<encoder id>#<text digest>          e.g.  phrase@owlvit-base:text:3f9a1c2e#9b2c4d1e5f60
 *
 * - `arg`: the invocation argument the words came from (`phrase`, `prompt`);
 * - encoder id `<model>:text:<fingerprint>`: the catalog model whose text encoder ran, and a fingerprint of the
 *   graph file it ran (another export, precision or revision of the "same" model on a worker gives another id);
 * - text digest: the first 12 hex digits of the sha256 of the exact words the encoder read (after the model's
 *   own template, e.g. OWL-ViT's "a photo of a …"): an invocation whose phrase was edited after it was encoded
 *   (a planner copying the last turn's invocation, "again" with other words) cannot smuggle in stale numbers.
 *
 * The value packs the encoder's output tensors in a plain number array, so the job payload stays JSON:
 * `[count, rank₁, dims₁…, values₁…, rank₂, dims₂…, values₂…]` — tensor types are the encoder's own (the
 * consumer built the same graph, so it knows them); the dims are carried because they depend on the words.
 */

export type TextArgName = 'phrase' | 'prompt';

/** Hex digits of the text digest: 48 bits, plenty to tell the texts of one conversation apart. */
const DIGEST_HEX = 12;

export function textDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, DIGEST_HEX);
}

/** `<model>:text:<fingerprint>`: which text encoder, from which graph file. */
export function encoderId(model: string, fingerprint: string): string {
  return `${model}:text:${fingerprint}`;
}

export function embeddingKey(arg: TextArgName, encoder: string, text: string): string {
  return `${arg}@${encoder}#${textDigest(text)}`;
}

const KEY = /^(phrase|prompt)@([a-z0-9][a-z0-9._-]*:text:[0-9a-f]+)#([0-9a-f]{12})$/;

export interface EmbeddingKeyParts {
  arg: TextArgName;
  encoder: string;
  digest: string;
}

/** The parts of a key in our format; undefined for anything else (a planner's invention, an older format). */
export function parseEmbeddingKey(key: string): EmbeddingKeyParts | undefined {
  const m = KEY.exec(key);
  return m ? { arg: m[1] as TextArgName, encoder: m[2]!, digest: m[3]! } : undefined;
}

/** The model named by an encoder id (`owlvit-base:text:3f9a1c2e` → `owlvit-base`). */
export function modelOfEncoder(encoder: string): string {
  return encoder.slice(0, encoder.indexOf(':text:'));
}

/** The embedding a specialist may use for `text` read by `encoder`, when the invocation carries exactly that one. */
export function embeddingFor(
  embeddings: Readonly<Record<string, readonly number[]>> | undefined,
  arg: TextArgName,
  encoder: string,
  text: string,
): readonly number[] | undefined {
  return embeddings?.[embeddingKey(arg, encoder, text)];
}

/** One output tensor of a text encoder: its dims and values, in row-major order. */
export interface PackedTensor {
  dims: readonly number[];
  values: ArrayLike<number>;
}

/** The tensors as one number array (the layout in the comment at the top). */
export function packTensors(tensors: readonly PackedTensor[]): number[] {
  const out: number[] = [tensors.length];
  for (const t of tensors) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) throw new RangeError(`dims [${t.dims.join(',')}] hold ${count} values, not ${t.values.length}`);
    out.push(t.dims.length, ...t.dims);
    for (let i = 0; i < t.values.length; i++) out.push(t.values[i]!);
  }
  return out;
}

/** Sanity bounds for unpacking numbers that came over the wire. */
const MAX_RANK = 8;
const MAX_TENSORS = 64;

/**
 * The tensors of a packed array, or undefined when it is not one (wrong count, negative or fractional dims,
 * values missing or left over, a value that is not a finite number): the caller then encodes the text itself.
 */
export function unpackTensors(packed: readonly number[]): { dims: number[]; values: number[] }[] | undefined {
  if (!Array.isArray(packed) || packed.length === 0) return undefined;
  const count = packed[0];
  if (!Number.isInteger(count) || count! < 1 || count! > MAX_TENSORS) return undefined;
  const tensors: { dims: number[]; values: number[] }[] = [];
  let at = 1;
  for (let t = 0; t < count!; t++) {
    const rank = packed[at];
    if (!Number.isInteger(rank) || rank! < 0 || rank! > MAX_RANK || at + 1 + rank! > packed.length) return undefined;
    const dims = packed.slice(at + 1, at + 1 + rank!);
    if (!dims.every((d) => Number.isInteger(d) && d >= 0)) return undefined;
    at += 1 + rank!;
    const size = dims.reduce((a, b) => a * b, 1);
    if (at + size > packed.length) return undefined;
    const values = packed.slice(at, at + size);
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
    tensors.push({ dims, values });
    at += size;
  }
  return at === packed.length ? tensors : undefined;
}

/** How many numbers a packed embedding holds: what it costs in a job payload. */
export function embeddingSize(embeddings: Readonly<Record<string, readonly number[]>> | undefined): number {
  return Object.values(embeddings ?? {}).reduce((n, v) => n + v.length, 0);
}
