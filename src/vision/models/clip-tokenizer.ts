import path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { Task } from '../../core/tasks.ts';
import { InternalError } from '../../errors.ts';
import { fileWithRole } from './model-files.ts';
import type { ModelRegistry } from './model-registry.ts';

/**
 * The CLIP BPE tokenizer of a pulled Hugging Face model (CLIPSeg, OWL-ViT), read by Transformers.js'
 * `AutoTokenizer` from the model's folder under MODELS_DIR on first use. The hub is never asked.
 */

const TOKENIZER_FILE = 'tokenizer.json';

/** Tokenizers per registry (a new registry reads the files again), per model folder; a failed load is forgotten. */
const tokenizers = new WeakMap<ModelRegistry, Map<string, Promise<PreTrainedTokenizer>>>();

async function loadTokenizer(folder: string, model: string): Promise<PreTrainedTokenizer> {
  try {
    // Imported on first use: Transformers.js takes ~0.5 s to import, which a bot that never needs a text model should not pay.
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    // The folder goes in as an absolute path rather than through env.localModelPath: Transformers.js memoizes
    // file lookups by model id, not by that (global) setting.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    return await AutoTokenizer.from_pretrained(folder);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new InternalError(
      `The tokenizer of "${model}" could not be loaded from ${path.join(folder, TOKENIZER_FILE)} (and tokenizer_config.json): ${reason}. ` +
        `The files may be incomplete or damaged: run \`npm run models -- check\`, then \`npm run models -- remove ${model}\` and pull it again.`,
      error,
    );
  }
}

/** The model's tokenizer; a missing model rejects with ModelNotInstalledError naming how to get it. */
export function clipTokenizer(models: ModelRegistry, model: string, task?: Task): Promise<PreTrainedTokenizer> {
  let folder: string;
  try {
    const file = fileWithRole(models.require(model, task), 'tokenizer', TOKENIZER_FILE);
    if (file?.path === undefined) throw new InternalError(`Model "${model}" has no ${TOKENIZER_FILE} on disk.`);
    folder = path.dirname(file.path);
  } catch (error) {
    return Promise.reject(error);
  }
  let cache = tokenizers.get(models);
  if (cache === undefined) {
    cache = new Map();
    tokenizers.set(models, cache);
  }
  let pending = cache.get(folder);
  if (pending === undefined) {
    pending = loadTokenizer(folder, model);
    cache.set(folder, pending);
    pending.catch(() => cache.delete(folder));
  }
  return pending;
}
