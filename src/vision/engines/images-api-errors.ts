import OpenAI from 'openai';
import { ContentBlockedError, EngineRejectedError, EngineUnavailableError, JobCancelledError, type VitronError } from '../../errors.ts';

/**
 * Turns what the openai package throws into our typed errors, by its error classes, `status` and `code`:
 * the queue retries only what is worth retrying (429, 5xx, network, timeout), a refusal by the server's
 * moderation reaches the user as one sentence, and a wrong key, model or URL names the setting to fix.
 */

const ENGINE = 'images-api';

export interface ImagesApiErrorContext {
  model: string;
  url: string;
  timeoutMs: number;
  apiKey: string | undefined;
  signal: AbortSignal;
}

/** Error codes OpenAI uses for refusals by its safety system (gpt-image: moderation_blocked; DALL·E: content_policy_violation). */
const MODERATION_CODES = new Set(['moderation_blocked', 'content_policy_violation']);
/** 429s that are not about speed: the account is out of credit, and retrying cannot help. */
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached']);

export const MODERATION_SENTENCE = "The image service's safety system refused this request (the prompt or the picture); rephrase it and try again.";

export function toImagesApiError(error: unknown, context: ImagesApiErrorContext): VitronError {
  // An abort from the job shows up as APIUserAbortError, but a fetch of a result URL throws a DOMException:
  // the signal is the one fact both share.
  if (context.signal.aborted || error instanceof OpenAI.APIUserAbortError) return new JobCancelledError();
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new EngineUnavailableError(ENGINE, `The Images API at ${context.url} did not answer within ${context.timeoutMs} ms (IMAGES_API_TIMEOUT_MS).`, {
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new EngineUnavailableError(ENGINE, `The Images API at ${context.url} could not be reached (IMAGES_API_URL): ${scrub(error.message, context)}`, {
      cause: error,
    });
  }
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) {
    return new EngineUnavailableError(ENGINE, `The Images API request failed: ${scrub(String((error as Error)?.message ?? error), context)}`, { cause: error });
  }
  const status = error.status;
  const said = scrub(serverMessage(error), context);
  if (isModerationRefusal(error, said)) return new ContentBlockedError(MODERATION_SENTENCE, { engine: ENGINE, status, reason: said });
  if (status === 429 && QUOTA_CODES.has(error.code ?? '')) {
    return new EngineRejectedError(ENGINE, `The account behind IMAGES_API_KEY has no Images API quota left: ${said}`, { status });
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfter = error.headers?.get('retry-after');
    const wait = retryAfter ? ` (it asks to wait ${retryAfter} s)` : '';
    return new EngineUnavailableError(ENGINE, `The Images API is busy or failing (${status})${wait}: ${said}`, { status, cause: error });
  }
  if (status === 401) return new EngineRejectedError(ENGINE, `The Images API refused IMAGES_API_KEY (401): ${said}`, { status });
  if (status === 403) {
    return new EngineRejectedError(ENGINE, `The Images API denies IMAGES_API_KEY access to IMAGES_API_MODEL=${context.model} (403): ${said}`, { status });
  }
  if (error.param === 'model' || error.code === 'model_not_found') {
    return new EngineRejectedError(ENGINE, `The Images API does not know IMAGES_API_MODEL=${context.model} (${status}): ${said}`, { status });
  }
  if (status === 404) {
    return new EngineRejectedError(ENGINE, `The Images API has no such endpoint at IMAGES_API_URL=${context.url} (404): ${said}`, { status });
  }
  return new EngineRejectedError(ENGINE, `The Images API rejected the request (${status}): ${said}`, { status });
}

/**
 * By code when the server gives one; by the message only for 400s without a code, because some
 * OpenAI-compatible servers (and older OpenAI answers) say "content policy" / "safety system" and nothing else.
 */
function isModerationRefusal(error: InstanceType<typeof OpenAI.APIError>, said: string): boolean {
  if (MODERATION_CODES.has(error.code ?? '')) return true;
  return error.status === 400 && !error.code && /content policy|safety system/i.test(said);
}

/** The server's own sentence (`error.message` of its JSON), not the package's "400 …" wrapper. */
function serverMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' && body.message !== '' ? body.message : error.message;
}

/** Servers echo a wrong key back ("Incorrect API key provided: sk-…"); it must not reach logs or users. */
function scrub(text: string, context: ImagesApiErrorContext): string {
  return context.apiKey ? text.split(context.apiKey).join('***') : text;
}
