import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { InternalError } from '../../errors.ts';
import { fileWithRole } from '../models/model-files.ts';
import type { ModelLocation } from '../models/model-files.ts';
import type { ModelRegistry } from '../models/model-registry.ts';

/**
 * SD-Turbo's CLIP tokenizer. The diffusers layout ships the "slow" files (tokenizer/vocab.json, merges.txt,
 * tokenizer_config.json) and no tokenizer.json, which is all Transformers.js reads; so the tokenizer.json of
 * CLIP (openai/clip-vit-large-patch14's: NFC + whitespace + lowercase, CLIP's split regex, byte-level BPE
 * with `</w>`, start/end tokens around the text) is assembled here from those files and handed to
 * Transformers.js' CLIPTokenizer. The hub is never asked. clip-tokenizer.ts reads a tokenizer.json from disk
 * and so does not fit.
 */

export const MAX_TOKENS = 77;
const START = '<|startoftext|>';
const END = '<|endoftext|>';

export const TOKENIZER_FILES = {
  vocab: 'tokenizer/vocab.json',
  merges: 'tokenizer/merges.txt',
  config: 'tokenizer/tokenizer_config.json',
} as const;

export interface PromptTokenizer {
  /** Exactly 77 ids: start, the prompt (truncated), end, then the pad token. */
  encode(prompt: string): number[];
}

function clipTokenizerJson(vocab: Record<string, number>, merges: string[]): Record<string, unknown> {
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(START), special(END)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [END, vocab[END]], cls: [START, vocab[START]], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function tokenizerText(location: ModelLocation, name: string): Promise<Buffer> {
  const file = fileWithRole(location, 'tokenizer', name);
  if (file === undefined) return Promise.reject(new InternalError(`Model "${location.entry.name}" lists no ${name}.`));
  return file.read();
}

async function load(location: ModelLocation): Promise<PromptTokenizer> {
  const model = location.entry.name;
  let tokenizer: PreTrainedTokenizer;
  let padId: number;
  let endId: number;
  try {
    const [vocabBytes, mergesBytes, configBytes] = await Promise.all([
      tokenizerText(location, TOKENIZER_FILES.vocab),
      tokenizerText(location, TOKENIZER_FILES.merges),
      tokenizerText(location, TOKENIZER_FILES.config),
    ]);
    const vocab = JSON.parse(vocabBytes.toString('utf8')) as Record<string, number>;
    // merges.txt: a "#version" header, then one "left right" pair per line.
    const merges = mergesBytes
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('#version'));
    const config = JSON.parse(configBytes.toString('utf8')) as Record<string, unknown>;
    if (vocab[START] === undefined || vocab[END] === undefined) throw new Error(`vocab.json lacks ${START} or ${END}`);
    // SD 2.x (and so SD-Turbo) pads with "!" (id 0), SD 1.x with the end token: the text encoder sees every
    // one of the 77 positions, so the pad token matters; tokenizer_config.json says which.
    const pad = tokenName(config.pad_token) ?? END;
    padId = vocab[pad] ?? vocab[END];
    endId = vocab[END];
    const { CLIPTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    tokenizer = new CLIPTokenizer(clipTokenizerJson(vocab, merges), { ...config, model_max_length: MAX_TOKENS });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new InternalError(
      `The tokenizer of "${model}" could not be read from its tokenizer/ folder: ${reason}. Run \`npm run models -- check\`, then \`npm run models -- remove ${model}\` and pull it again.`,
      error,
    );
  }
  return {
    encode(prompt: string): number[] {
      const ids = [...(tokenizer.encode(prompt) as number[])];
      // Truncation keeps the end token last, as CLIPTokenizer(truncation=True) does.
      if (ids.length > MAX_TOKENS) ids.splice(MAX_TOKENS - 1, ids.length - MAX_TOKENS + 1, endId);
      while (ids.length < MAX_TOKENS) ids.push(padId);
      return ids;
    },
  };
}

/** tokenizer_config.json writes special tokens as a string or as {content: …}. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return undefined;
}

const cache = new WeakMap<ModelRegistry, Map<string, Promise<PromptTokenizer>>>();

/** The model's tokenizer, read once per registry; a missing model rejects with ModelNotInstalledError. */
export function sdTurboTokenizer(models: ModelRegistry, model: string, task?: string): Promise<PromptTokenizer> {
  let location: ModelLocation;
  try {
    location = models.require(model, task);
  } catch (error) {
    return Promise.reject(error);
  }
  let perModel = cache.get(models);
  if (perModel === undefined) {
    perModel = new Map();
    cache.set(models, perModel);
  }
  let pending = perModel.get(model);
  if (pending === undefined) {
    pending = load(location);
    perModel.set(model, pending);
    pending.catch(() => perModel.delete(model));
  }
  return pending;
}
