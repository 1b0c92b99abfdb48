import OpenAI, { toFile } from 'openai';
import type { ImagesResponse } from 'openai/resources/images';
import sharp from 'sharp';
import type { Settings } from '../../config/settings.ts';
import { CorruptMediaError, EngineRejectedError, EngineUnavailableError, SettingsError, VitronError } from '../../errors.ts';
import type { GeneratedImage, GenerationCallbacks, GenerationEngine, GenerationRequest, GenerationResult } from './engine.ts';
import { toImagesApiError } from './images-api-errors.ts';
import { closestSize, imagesApiModelFacts, sizeParameter } from './images-api-sizes.ts';

/**
 * The engine for any OpenAI-compatible Images API (OpenAI itself, LocalAI, a proxy): text-to-image through
 * `images.generate`, every edit through `images.edit` with the picture and the words, inpainting with a
 * mask converted to OpenAI's convention. The API takes no seed, steps or strength: seeds are recorded but
 * cannot reproduce a picture on this engine, and steps and strength are ignored.
 */

export type ImagesApiSettings = Pick<Settings, 'IMAGES_API_URL' | 'IMAGES_API_KEY' | 'IMAGES_API_MODEL' | 'IMAGES_API_TIMEOUT_MS'>;

/**
 * No retries inside the client: our job queue already retries every EngineUnavailableError with its own
 * backoff and attempt limit. The package's default (2) would multiply those attempts, hold a worker slot
 * while it sleeps, and stretch one job to three times IMAGES_API_TIMEOUT_MS.
 */
const MAX_RETRIES = 0;
/** Self-hosted servers often need no key, but the package refuses to start without one. */
const NO_KEY = 'no-key';

export function createImagesApiEngine(settings: ImagesApiSettings): GenerationEngine {
  const url = settings.IMAGES_API_URL;
  if (url === undefined) throw new SettingsError('IMAGES_API_URL', 'the base URL of an OpenAI-compatible Images API (https://api.openai.com/v1)', 'nothing');
  const model = settings.IMAGES_API_MODEL;
  const facts = imagesApiModelFacts(model);
  const client = new OpenAI({
    baseURL: url,
    apiKey: settings.IMAGES_API_KEY ?? NO_KEY,
    timeout: settings.IMAGES_API_TIMEOUT_MS,
    maxRetries: MAX_RETRIES,
    // Our settings are the only configuration: OPENAI_ORG_ID / OPENAI_PROJECT_ID in the environment must not leak in.
    organization: null,
    project: null,
  });

  async function run(request: GenerationRequest, callbacks: GenerationCallbacks): Promise<GenerationResult> {
    const size = closestSize(facts, request.width, request.height);
    const prompt = promptWithAvoid(request);
    const calls = callCounts(request.count, facts.maxPerCall);
    const options = { signal: callbacks.signal };
    const edit = request.operation === 'text-to-image' ? undefined : await editInputs(request);
    const pngs: Buffer[] = [];
    for (const [index, n] of calls.entries()) {
      callbacks.progress(
        index + 1,
        calls.length + 1,
        `sent to the Images API (${model})${calls.length > 1 ? `, request ${index + 1} of ${calls.length}` : ''}`,
      );
      const common = { model, prompt, n, size: sizeParameter(size), ...(facts.askForBase64 ? { response_format: 'b64_json' as const } : {}) };
      const response: ImagesResponse = edit
        ? await client.images.edit({ ...common, image: edit.image, ...(edit.mask ? { mask: edit.mask } : {}), stream: false }, options)
        : await client.images.generate({ ...common, stream: false }, options);
      pngs.push(...(await decodeImages(response, callbacks.signal)));
    }
    if (pngs.length === 0) throw new EngineRejectedError('images-api', `The Images API (${model}) answered without any image.`);
    callbacks.progress(calls.length + 1, calls.length + 1, 'images received');
    const images: GeneratedImage[] = pngs.map((png, i) => ({ png, seed: request.seed + i }));
    const meta = await sharp(images[0]!.png).metadata();
    return { images, engine: 'images-api', model, width: meta.width ?? size.width, height: meta.height ?? size.height };
  }

  async function editInputs(request: GenerationRequest): Promise<{ image: File; mask?: File }> {
    if (request.image === undefined)
      throw new EngineRejectedError('images-api', `The ${request.operation} request for ${request.task} came without a picture.`);
    // One orientation for picture and mask: the API applies the mask to the picture as displayed.
    const { data: png, info } = await sharp(request.image)
      .rotate()
      .png()
      .toBuffer({ resolveWithObject: true })
      .catch((error: unknown) => {
        // A picture sharp cannot read is bad input, not an engine failure: no retry can fix it.
        throw new CorruptMediaError(`The picture to edit could not be read: ${error instanceof Error ? error.message : String(error)}`);
      });
    const image = await toFile(png, 'image.png', { type: 'image/png' });
    if (request.operation !== 'inpaint') return { image };
    if (request.mask === undefined) throw new EngineRejectedError('images-api', `The inpaint request for ${request.task} came without a mask.`);
    const mask = await toFile(await openAiMask(request.mask, info.width, info.height), 'mask.png', { type: 'image/png' });
    return { image, mask };
  }

  /**
   * Results arrive as base64 (always from GPT image models) or as URLs (DALL·E without response_format,
   * some compatible servers): a URL is fetched once, within the same timeout and cancellable, and without
   * our key, which belongs to the API and not to whatever host stores the picture.
   */
  async function decodeImages(response: ImagesResponse, signal: AbortSignal): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const item of response.data ?? []) {
      if (item.b64_json) out.push(await asPng(Buffer.from(item.b64_json, 'base64')));
      else if (item.url) out.push(await asPng(await fetchResult(item.url, signal)));
    }
    return out;
  }

  async function fetchResult(resultUrl: string, signal: AbortSignal): Promise<Buffer> {
    const answer = await fetch(resultUrl, { signal: AbortSignal.any([signal, AbortSignal.timeout(settings.IMAGES_API_TIMEOUT_MS)]) });
    if (!answer.ok) {
      const message = `The Images API's result URL answered ${answer.status}.`;
      if (answer.status >= 500 || answer.status === 429) throw new EngineUnavailableError('images-api', message, { status: answer.status });
      throw new EngineRejectedError('images-api', message, { status: answer.status });
    }
    return Buffer.from(await answer.arrayBuffer());
  }

  return {
    name: 'images-api',
    /**
     * Every operation for every task: the Images API edits by words, so one endpoint serves style, colorize,
     * outpaint, replace… alike. The one exception is a model without an edit endpoint (dall-e-3), which
     * can only draw from text.
     */
    supports: (operation) => operation === 'text-to-image' || facts.edits,
    async generate(request, callbacks) {
      try {
        if (callbacks.signal.aborted) throw callbacks.signal.reason;
        return await run(request, callbacks);
      } catch (error) {
        // Ours already (a missing picture, an unreadable mask, a result URL's status): only the package's errors need mapping.
        if (error instanceof VitronError && !callbacks.signal.aborted) throw error;
        throw toImagesApiError(error, { model, url, timeoutMs: settings.IMAGES_API_TIMEOUT_MS, apiKey: settings.IMAGES_API_KEY, signal: callbacks.signal });
      }
    },
  };
}

/** The API has no negative prompt: the words to avoid go into the prompt itself. */
export function promptWithAvoid(request: Pick<GenerationRequest, 'prompt' | 'negativePrompt'>): string {
  const avoid = request.negativePrompt?.trim();
  return avoid ? `${request.prompt}\nAvoid: ${avoid}` : request.prompt;
}

/** How many images each call asks for: one call when the model takes n, else `count` calls of one. */
function callCounts(count: number, maxPerCall: number): number[] {
  const calls: number[] = [];
  for (let left = count; left > 0; left -= maxPerCall) calls.push(Math.min(left, maxPerCall));
  return calls;
}

/**
 * Our masks are white (≥ 128) where to repaint; OpenAI's are PNGs that are transparent (alpha 0) where to
 * edit and opaque elsewhere, the size of the picture. Any alpha the mask of ours had is ignored: only its
 * brightness counts, as engine.ts says.
 */
export async function openAiMask(mask: Buffer, width: number, height: number): Promise<Buffer> {
  const grey = await sharp(mask).removeAlpha().greyscale().resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba[i * 4 + 3] = grey[i]! >= 128 ? 0 : 255;
  return sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** GPT image models may be set to answer in WebP or JPEG, and compatible servers do as they please. */
async function asPng(bytes: Buffer): Promise<Buffer> {
  return bytes.subarray(0, 8).equals(PNG_SIGNATURE) ? bytes : sharp(bytes).png().toBuffer();
}
