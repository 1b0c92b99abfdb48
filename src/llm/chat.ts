import type OpenAI from 'openai';
import type { Settings } from '../config/settings.ts';
import { InternalError, JobCancelledError, VisionLlmBadResponseError, VisionLlmRejectedError, VisionLlmUnavailableError, VitronError } from '../errors.ts';

/**
 * One chat completion from the LLM endpoint (LLM_URL: Ollama, vLLM, llama.cpp server, LM Studio, OpenAI) through
 * the official `openai` client: the vision specialists ask it about pictures, the LLM planner asks it for plans.
 * Every failure becomes a typed error; the API key goes in the Authorization header and nowhere else: every
 * text built from a server's reply is scrubbed of it.
 */

export type LlmSettings = Pick<Settings, 'LLM_URL' | 'LLM_MODEL' | 'LLM_API_KEY' | 'LLM_TIMEOUT_MS'>;

export type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  /** Structured output: the answer must be JSON of this schema (OpenAI json_schema; vLLM, llama.cpp and Ollama take it too). */
  jsonSchema?: { name: string; schema: Record<string, unknown>; strict: boolean };
  /** Cancelling the job cancels the request (a turn's planning has none: only the timeout ends it). */
  signal?: AbortSignal;
  /** Overrides LLM_TIMEOUT_MS (the planner waits less than a caption job). */
  timeoutMs?: number;
}

export interface ChatAnswer {
  text: string;
  /** The model stopped at maxTokens (finish_reason "length"). */
  truncated: boolean;
}

/** How long the follow-up GET /models may take: it only improves an error message. */
const MODEL_LIST_TIMEOUT_MS = 5000;
const MODELS_NAMED = 10;

const clients = new Map<string, OpenAI>();

/** The client library, loaded by the first chat: a bot without LLM_URL never holds it (≈25 MiB idle RSS). */
type OpenAIClass = typeof OpenAI;
let library: Promise<OpenAIClass> | undefined;
const loadOpenAI = (): Promise<OpenAIClass> => (library ??= import('openai').then((m) => m.default));

function clientFor(Client: OpenAIClass, settings: LlmSettings): OpenAI {
  const key = `${settings.LLM_URL}\n${settings.LLM_API_KEY ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    client = new Client({
      baseURL: settings.LLM_URL,
      // Local servers take no key; the client insists on one, and sends it only as a bearer token.
      apiKey: settings.LLM_API_KEY ?? 'none',
      // Retries are the queue's decision (typed retryable errors), never a hidden second wait here.
      maxRetries: 0,
      // Without a key, no Authorization header at all (a null header is dropped): some proxies reject "Bearer none".
      ...(settings.LLM_API_KEY === undefined ? { defaultHeaders: { authorization: null } } : {}),
    });
    clients.set(key, client);
  }
  return client;
}

export async function chat(settings: LlmSettings, request: ChatRequest): Promise<ChatAnswer> {
  const model = settings.LLM_MODEL;
  if (settings.LLM_URL === undefined || model === undefined) throw new InternalError('chat called without LLM_URL and LLM_MODEL.');
  const scrub = scrubber(settings.LLM_API_KEY);
  const signal = request.signal ?? new AbortController().signal;
  if (signal.aborted) throw cancelled(signal);
  const timeoutMs = request.timeoutMs ?? settings.LLM_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const OpenAI = await loadOpenAI();
  const client = clientFor(OpenAI, settings);
  let completion: unknown;
  try {
    completion = await client.chat.completions.create(
      {
        model,
        messages: request.messages,
        max_tokens: request.maxTokens,
        temperature: request.temperature,
        stream: false,
        ...(request.jsonSchema ? { response_format: { type: 'json_schema', json_schema: request.jsonSchema } } : {}),
      },
      // The body is read under the same signal: a server that sends headers and then stalls is a timeout too.
      { signal: AbortSignal.any([signal, timeout]), timeout: timeoutMs },
    );
  } catch (error) {
    if (signal.aborted) throw cancelled(signal);
    if (timeout.aborted || error instanceof OpenAI.APIConnectionTimeoutError) {
      throw new VisionLlmUnavailableError(`The model did not answer within ${timeoutMs / 1000} s; try again, or ask an operator to raise LLM_TIMEOUT_MS.`, {
        cause: error,
      });
    }
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const served = error.status === 404 ? await servedModels(client) : undefined;
      throw httpError(error.status, scrub(serverReason(error)), model, served);
    }
    if (error instanceof OpenAI.APIConnectionError) {
      throw new VisionLlmUnavailableError(`The model server is not reachable (${scrub(networkReason(error))}); try again in a moment.`, { cause: error });
    }
    // A 200 whose body is not JSON: the client's parser throws a SyntaxError.
    throw new VisionLlmBadResponseError(
      `The model server answered with something that is not JSON (${scrub(String((error as Error)?.message ?? error)).slice(0, 80)}); check that LLM_URL points at an OpenAI-compatible /v1 API.`,
      error,
    );
  }
  return parseCompletion(completion, scrub);
}

function parseCompletion(completion: unknown, scrub: (text: string) => string): ChatAnswer {
  // A body that does not parse as JSON comes back from the client as its text.
  if (typeof completion === 'string') {
    throw new VisionLlmBadResponseError(
      `The model server answered with something that is not JSON (${JSON.stringify(scrub(completion.slice(0, 60)))}); check that LLM_URL points at an OpenAI-compatible /v1 API.`,
    );
  }
  const choices = (completion as { choices?: unknown } | null)?.choices;
  const choice = Array.isArray(choices) ? (choices[0] as { message?: { content?: unknown }; finish_reason?: unknown } | undefined) : undefined;
  if (typeof completion !== 'object' || completion === null || choice?.message === undefined) {
    const where = typeof completion !== 'object' || completion === null ? 'the top level' : Array.isArray(choices) ? 'choices.0.message' : 'choices';
    throw new VisionLlmBadResponseError(
      `The model server's answer is not an OpenAI chat completion (problem at ${where}); check that LLM_URL points at an OpenAI-compatible /v1 API.`,
    );
  }
  const content = typeof choice.message.content === 'string' ? choice.message.content.trim() : '';
  if (content === '') throw new VisionLlmBadResponseError('The model returned an empty answer.');
  return { text: content, truncated: choice.finish_reason === 'length' };
}

/** The model ids GET /models lists, or undefined when the server does not say (best effort, never throws). */
async function servedModels(client: OpenAI): Promise<string[] | undefined> {
  try {
    const page = await client.models.list({ signal: AbortSignal.timeout(MODEL_LIST_TIMEOUT_MS), timeout: MODEL_LIST_TIMEOUT_MS });
    return page.data.map((m) => m.id);
  } catch {
    return undefined;
  }
}

function httpError(status: number, reason: string, model: string, served?: readonly string[]): VitronError {
  const said = `HTTP ${status}${reason ? `: ${reason}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    return new VisionLlmUnavailableError(`The model server is busy or failing (${said}); try again in a moment.`, { status });
  }
  if (status === 401 || status === 403) {
    return new VisionLlmRejectedError(`The model server refused the credentials (${said}). An operator should check LLM_API_KEY.`, status);
  }
  if (status === 404) {
    const listed =
      served === undefined || served.length === 0
        ? 'a model it lists at /v1/models'
        : `one it serves (${served.slice(0, MODELS_NAMED).join(', ')}${served.length > MODELS_NAMED ? ', …' : ''})`;
    return new VisionLlmRejectedError(
      `The model server does not serve the model "${model}" (${said}). An operator should set LLM_MODEL to ${listed} or pull it there (e.g. \`ollama pull ${model}\`), and check that LLM_URL ends in /v1.`,
      status,
    );
  }
  if (status === 413) {
    return new VisionLlmRejectedError(`The model server found the request too large (${said}). An operator should lower LLM_MAX_IMAGE_SIDE.`, status);
  }
  return new VisionLlmRejectedError(
    `The model server refused the request (${said}). An operator should check that LLM_MODEL ("${model}") is a vision model that accepts images.`,
    status,
  );
}

/** The server's own words about a failure, short enough for one chat line. */
function serverReason(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown; error?: unknown } | string | undefined;
  let reason: string;
  if (typeof body === 'string') reason = body;
  else if (typeof body?.message === 'string') reason = body.message;
  else if (typeof body?.error === 'string') reason = body.error;
  else if (typeof (body?.error as { message?: unknown } | undefined)?.message === 'string') reason = (body!.error as { message: string }).message;
  else reason = error.message.replace(/^\d{3}\s*/, '');
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** The client says only "Connection error."; the system error code (ECONNREFUSED, ENOTFOUND) is in the causes. */
function networkReason(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message : String(error);
}

function scrubber(key: string | undefined): (text: string) => string {
  return key === undefined ? (text) => text : (text) => text.split(key).join('[key]');
}

function cancelled(signal: AbortSignal): VitronError {
  return signal.reason instanceof VitronError ? signal.reason : new JobCancelledError();
}
