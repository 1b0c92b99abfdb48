import { z } from 'zod';
import type { Settings } from '../../config/settings.ts';
import { InternalError, JobCancelledError, VisionLlmBadResponseError, VisionLlmRejectedError, VisionLlmUnavailableError, VitronError } from '../../errors.ts';
import { explainImageError, openImage, type ImageLimits } from '../../media/image.ts';

/**
 * A client for any OpenAI-compatible chat endpoint that takes images (Ollama, vLLM, llama.cpp server,
 * LM Studio): one user message of text plus JPEG data URLs, one answer back. The API key goes in the
 * Authorization header and nowhere else: every text built from a server's reply is scrubbed of it.
 */

export type VisionLlmSettings = Pick<
  Settings,
  'LLM_URL' | 'LLM_MODEL' | 'LLM_API_KEY' | 'LLM_TIMEOUT_MS' | 'LLM_MAX_IMAGE_SIDE'
>;

export interface VisionChatRequest {
  prompt: string;
  /** JPEG bytes (see encodeForVisionLlm), in the order the prompt refers to them. */
  images: readonly Buffer[];
  maxTokens: number;
  /** The job's signal: cancelling the job cancels the request. */
  signal: AbortSignal;
}

export interface VisionChatAnswer {
  text: string;
  /** The model stopped at maxTokens (finish_reason "length"). */
  truncated: boolean;
}

/** Low but not zero: descriptions should be stable from run to run without looping on one phrase. */
const TEMPERATURE = 0.1;
const JPEG_QUALITY = 85;

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
});

const modelListSchema = z.object({ data: z.array(z.object({ id: z.string() })) });
/** How long the follow-up GET /models may take: it only improves an error message. */
const MODEL_LIST_TIMEOUT_MS = 5000;
const MODELS_NAMED = 10;

/** OpenAI, Ollama and llama.cpp put the reason in error.message; vLLM in message; some send a bare string. */
const errorBodySchema = z.union([z.object({ error: z.object({ message: z.string() }) }), z.object({ error: z.string() }), z.object({ message: z.string() })]);

/**
 * An image as the endpoint receives it: upright, longest side at most `maxSide` (never enlarged),
 * transparency flattened onto white, JPEG. Vision models tile or downscale large inputs anyway; sending
 * them whole only costs upload time and tokens.
 */
export async function encodeForVisionLlm(bytes: Uint8Array, limits: ImageLimits, maxSide: number): Promise<Buffer> {
  try {
    return await openImage(bytes, limits)
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: JPEG_QUALITY })
      .toBuffer();
  } catch (error) {
    throw explainImageError(error, limits);
  }
}

/** Asks the configured endpoint one question about some images; throws typed errors for every failure. */
export async function askVisionLlm(settings: VisionLlmSettings, request: VisionChatRequest): Promise<VisionChatAnswer> {
  const base = settings.LLM_URL;
  const model = settings.LLM_MODEL;
  if (base === undefined || model === undefined) throw new InternalError('askVisionLlm called without LLM_URL and LLM_MODEL.');
  const scrub = scrubber(settings.LLM_API_KEY);
  if (request.signal.aborted) throw cancelled(request.signal);

  const body = {
    model,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: request.prompt },
          ...request.images.map((jpeg) => ({ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg.toString('base64')}` } })),
        ],
      },
    ],
    max_tokens: request.maxTokens,
    temperature: TEMPERATURE,
    stream: false,
  };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (settings.LLM_API_KEY !== undefined) headers.authorization = `Bearer ${settings.LLM_API_KEY}`;

  const timeout = AbortSignal.timeout(settings.LLM_TIMEOUT_MS);
  let status: number;
  let text: string;
  try {
    // The body is read under the same signal: a server that sends headers and then stalls is a timeout too.
    const response = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.any([request.signal, timeout]),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (request.signal.aborted) throw cancelled(request.signal);
    if (timeout.aborted) {
      throw new VisionLlmUnavailableError(
        `The vision model did not answer within ${settings.LLM_TIMEOUT_MS / 1000} s; try again, or ask an operator to raise LLM_TIMEOUT_MS.`,
        { cause: error },
      );
    }
    throw new VisionLlmUnavailableError(`The vision model server is not reachable (${scrub(networkReason(error))}); try again in a moment.`, { cause: error });
  }

  if (status === 404) {
    // Most often a model name the server does not know: naming the ones it has saves the operator a step.
    const served = await servedModels(base, headers, request.signal);
    throw httpError(status, scrub(serverReason(text)), model, served);
  }
  if (status < 200 || status >= 300) throw httpError(status, scrub(serverReason(text)), model);
  return parseCompletion(text, scrub);
}

/** The model ids GET /models lists, or undefined when the server does not say (best effort, never throws). */
async function servedModels(base: string, headers: Record<string, string>, signal: AbortSignal): Promise<string[] | undefined> {
  try {
    const response = await fetch(`${base}/models`, {
      headers: { accept: 'application/json', ...(headers.authorization ? { authorization: headers.authorization } : {}) },
      signal: AbortSignal.any([signal, AbortSignal.timeout(MODEL_LIST_TIMEOUT_MS)]),
    });
    if (!response.ok) return undefined;
    const parsed = modelListSchema.safeParse(await response.json());
    return parsed.success ? parsed.data.data.map((m) => m.id) : undefined;
  } catch {
    return undefined;
  }
}

function parseCompletion(text: string, scrub: (s: string) => string): VisionChatAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VisionLlmBadResponseError(
      `The vision model server answered with something that is not JSON (${JSON.stringify(scrub(text.slice(0, 60)))}); check that LLM_URL points at an OpenAI-compatible /v1 API.`,
      error,
    );
  }
  const parsed = completionSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'the top level';
    throw new VisionLlmBadResponseError(
      `The vision model server's answer is not an OpenAI chat completion (problem at ${where}); check that LLM_URL points at an OpenAI-compatible /v1 API.`,
    );
  }
  const choice = parsed.data.choices[0]!;
  const content = (choice.message.content ?? '').trim();
  if (content === '') throw new VisionLlmBadResponseError('The vision model returned an empty answer.');
  return { text: content, truncated: choice.finish_reason === 'length' };
}

function httpError(status: number, reason: string, model: string, served?: readonly string[]): VitronError {
  const said = `HTTP ${status}${reason ? `: ${reason}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    return new VisionLlmUnavailableError(`The vision model server is busy or failing (${said}); try again in a moment.`, { status });
  }
  if (status === 401 || status === 403) {
    return new VisionLlmRejectedError(`The vision model server refused the credentials (${said}). An operator should check LLM_API_KEY.`, status);
  }
  if (status === 404) {
    const listed =
      served === undefined || served.length === 0
        ? 'a model it lists at /v1/models'
        : `one it serves (${served.slice(0, MODELS_NAMED).join(', ')}${served.length > MODELS_NAMED ? ', …' : ''})`;
    return new VisionLlmRejectedError(
      `The vision model server does not serve the model "${model}" (${said}). An operator should set LLM_MODEL to ${listed} or pull it there (e.g. \`ollama pull ${model}\`), and check that LLM_URL ends in /v1.`,
      status,
    );
  }
  if (status === 413) {
    return new VisionLlmRejectedError(
      `The vision model server found the request too large (${said}). An operator should lower LLM_MAX_IMAGE_SIDE.`,
      status,
    );
  }
  return new VisionLlmRejectedError(
    `The vision model server refused the request (${said}). An operator should check that LLM_MODEL ("${model}") is a vision model that accepts images.`,
    status,
  );
}

/** The server's own words about a failure, short enough for one chat line. */
function serverReason(text: string): string {
  let reason = text;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const data = parsed.data;
      reason = 'message' in data ? data.message : typeof data.error === 'string' ? data.error : data.error.message;
    }
  } catch {
    // Not JSON (an HTML error page from a proxy): its first words are still the best clue.
  }
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Node's fetch says only "fetch failed"; the system error code (ECONNREFUSED, ENOTFOUND) is in the cause. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function scrubber(key: string | undefined): (text: string) => string {
  return key === undefined ? (text) => text : (text) => text.split(key).join('[key]');
}

function cancelled(signal: AbortSignal): VitronError {
  return signal.reason instanceof VitronError ? signal.reason : new JobCancelledError();
}
