import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import { embeddingSize, parseEmbeddingKey } from '../core/embeddings.ts';
import { LruCache } from '../core/lru.ts';
import type { Invocation } from '../core/types.ts';
import { keyOfNeed, textNeeds, type NeedSettings, type TextNeed } from '../vision/find/text-needs.ts';
import { ModelRegistry } from '../vision/models/model-registry.ts';
import { TextEncoderThread } from './text-encoder-thread.ts';

/**
 * The planner-side text encoder (BotDeps.embed): fills each invocation's `embeddings` — the continuous half of
 * the hybrid message — with what the text encoder of the installed model that will read its phrase or prompt
 * makes of those words, keyed as src/core/embeddings.ts says, before the job is queued. A worker on this
 * machine or another then reads the numbers instead of running that encoder (on every frame of a video job,
 * the phrase is not encoded at all there).
 *
 * - Nothing is encoded for a model that is not installed here: on a fresh install the embedder only strips.
 * - Each (encoder, words) is encoded once and kept in a bounded LRU: the same phrase in two steps of a turn, in
 *   "again", or asked by another user costs one encoding.
 * - A turn never waits long for it: what is not ready after `waitMs` (the first use loads a text encoder) is
 *   left to the worker, and lands in the cache for the next turn.
 * - Whatever a planner put in `embeddings` itself is dropped: an LLM cannot know our encoders' numbers, and a
 *   stale copy from an earlier turn must not travel. Only what this embedder made is sent.
 * - Nothing it fails at fails the turn: the worker encodes the words itself and reports any real problem
 *   (a phrase too long, a damaged model) in the job, where it belongs.
 */

export type EncodeFn = (need: TextNeed) => Promise<{ key: string; values: number[] } | undefined>;

export interface EmbedderOptions {
  /** A registry on the bot's thread, asked only which models are installed and for graph fingerprints. */
  models: ModelRegistry;
  settings: NeedSettings;
  /** Runs a text encoder off the bot's event loop (TextEncoderThread.encode). */
  encode: EncodeFn;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** How long a turn waits for its encodings before it is queued without the missing ones. */
  waitMs?: number;
  cache?: { maxEntries: number; maxValues: number };
}

/** Long enough for a warm encoder (milliseconds for a phrase, well under a second for an SD prompt on CPU). */
export const EMBED_WAIT_MS = 1500;
/** A few hundred phrases or ~50 SD prompts (77×1024 numbers each), whichever fills first. */
export const EMBED_CACHE = { maxEntries: 512, maxValues: 4_000_000 };
/** An invocation carries at most this many numbers (an SD prompt is 78 852 with its header). */
const MAX_VALUES_PER_INVOCATION = 200_000;

export interface EmbedderStats {
  /** Encodings asked of the encoder. */
  encoded: number;
  /** Embeddings served from the cache (or from an encoding already under way). */
  reused: number;
  /** Encodings still running when a turn stopped waiting. */
  late: number;
}

export interface Embedder {
  embed(invocations: readonly Invocation[]): Promise<Invocation[]>;
  readonly stats: EmbedderStats;
}

export function createEmbedder(options: EmbedderOptions): Embedder {
  const waitMs = options.waitMs ?? EMBED_WAIT_MS;
  const limits = options.cache ?? EMBED_CACHE;
  const cache = new LruCache<string, number[]>({ maxEntries: limits.maxEntries, maxWeight: limits.maxValues, weigh: (v) => v.length });
  const running = new Map<string, Promise<number[] | undefined>>();
  /**
   * Encoder ids that gave nothing here (a fused graph the cut refuses): not asked again, or every turn would wake
   * the thread to re-read a 600 MB graph. Another file gets another id, so a re-pulled model is tried afresh.
   */
  const unable = new Set<string>();
  const stats: EmbedderStats = { encoded: 0, reused: 0, late: 0 };

  /** The need's embedding from the cache, from an encoding under way, or from a new one. */
  async function valuesFor(need: TextNeed): Promise<{ key: string; values: number[] } | undefined> {
    const key = await keyOfNeed(options.models, need);
    const encoder = parseEmbeddingKey(key)?.encoder ?? key;
    if (unable.has(encoder)) return undefined;
    const known = cache.get(key);
    if (known !== undefined) {
      stats.reused++;
      return { key, values: known };
    }
    let pending = running.get(key);
    if (pending !== undefined) stats.reused++;
    else {
      stats.encoded++;
      pending = options.encode(need).then((result) => {
        if (result === undefined) unable.add(encoder);
        // The encoder computes the key from its own graph: if it differs, the files changed under us; keep nothing.
        if (result === undefined || result.key !== key) return undefined;
        cache.set(key, result.values);
        return result.values;
      });
      running.set(key, pending);
      const forget = () => running.delete(key);
      pending.then(forget, forget);
    }
    const values = await pending;
    return values === undefined ? undefined : { key, values };
  }

  async function embedOne(invocation: Invocation, deadline: Promise<void>): Promise<Invocation> {
    const { embeddings: given, ...discrete } = invocation;
    if (given !== undefined) options.logger?.debug({ task: invocation.task, keys: Object.keys(given) }, 'embeddings from the planner dropped');
    let needs: TextNeed[];
    try {
      needs = textNeeds(options.models, options.settings, invocation);
    } catch (error) {
      options.logger?.warn({ err: error, task: invocation.task }, 'could not tell which text encoders this invocation needs; queued without embeddings');
      return discrete;
    }
    if (needs.length === 0) return discrete;
    const embeddings: Record<string, number[]> = {};
    const settled = needs.map((need) =>
      valuesFor(need).then(
        (found) => {
          if (found !== undefined) embeddings[found.key] = found.values;
          return true;
        },
        (error: unknown) => {
          options.logger?.warn({ err: error, task: invocation.task, model: need.model }, 'text encoding failed; the worker encodes the words itself');
          return true;
        },
      ),
    );
    const finished = await Promise.race([Promise.all(settled), deadline.then(() => false)]);
    if (!finished) stats.late++;
    // A copy: encodings that finish after the deadline must not change an invocation already queued.
    const sent = { ...embeddings };
    if (Object.keys(sent).length === 0) return discrete;
    if (embeddingSize(sent) > MAX_VALUES_PER_INVOCATION) {
      options.logger?.warn({ task: invocation.task, values: embeddingSize(sent) }, 'embeddings too large for the job payload; not sent');
      return discrete;
    }
    return { ...discrete, embeddings: sent };
  }

  return {
    stats,
    async embed(invocations) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      });
      try {
        return await Promise.all(invocations.map((invocation) => embedOne(invocation, deadline)));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface TextEmbedder extends Embedder {
  close(): Promise<void>;
}

/**
 * The embedder the bot runs with: a registry on its own thread that only looks at files, and the text encoder
 * thread that is started on the first turn with words for an installed model.
 */
export function createTextEmbedder(
  settings: Settings,
  logger: Pick<Logger, 'warn' | 'info' | 'debug'>,
  options: { waitMs?: number; idleMs?: number } = {},
): TextEmbedder & { readonly thread: TextEncoderThread } {
  const models = new ModelRegistry({ settings, log: { warn: (message) => logger.warn(message) } });
  const thread = new TextEncoderThread({ settings, logger, ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }) });
  const embedder = createEmbedder({
    models,
    settings,
    encode: (need) => thread.encode(need),
    logger,
    ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
  });
  return {
    thread,
    stats: embedder.stats,
    embed: (invocations) => embedder.embed(invocations),
    close: () => thread.close(),
  };
}
