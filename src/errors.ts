import { taskUnavailableText } from './core/unavailable.ts';

/**
 * Every error that the bot can explain to a user or act on. Callers branch on `instanceof` or `code`,
 * never on message text. `retryable` is the queue's only input for retry decisions: bad input is never
 * retried; transient faults (a busy model, a restarting store) are.
 */
export type ErrorCode =
  | 'SETTINGS_INVALID'
  | 'MEDIA_EMPTY'
  | 'MEDIA_TOO_LARGE'
  | 'MEDIA_UNSUPPORTED'
  | 'MEDIA_CORRUPT'
  | 'MEDIA_LIMIT'
  | 'MEDIA_NOT_FOUND'
  | 'PROMPT_EMPTY'
  | 'PROMPT_NOT_UNDERSTOOD'
  | 'REFERENCE_UNRESOLVED'
  | 'NOTHING_TO_UNDO'
  | 'NOTHING_TO_REDO'
  | 'TASK_UNSUPPORTED_MEDIA'
  | 'INVALID_ARGUMENT'
  | 'MODEL_NOT_INSTALLED'
  | 'TASK_NOT_AVAILABLE'
  | 'TOOL_MISSING'
  | 'LIMIT_REACHED'
  | 'JOB_CANCELLED'
  | 'JOB_TIMEOUT'
  | 'JOB_INTERRUPTED'
  | 'WORKER_CRASHED'
  | 'STORE_UNAVAILABLE'
  | 'STORE_IN_USE'
  | 'NOT_FOUND'
  | 'DOWNLOAD_REFUSED'
  | 'DOWNLOAD_FAILED'
  | 'LLM_UNAVAILABLE'
  | 'LLM_REJECTED'
  | 'LLM_BAD_RESPONSE'
  | 'ENGINE_UNAVAILABLE'
  | 'ENGINE_REJECTED'
  | 'CONTENT_BLOCKED'
  | 'QUOTA_REACHED'
  | 'RATE_LIMITED'
  | 'DUPLICATE_EVENT'
  | 'INTERNAL';

export interface ErrorDetails {
  [key: string]: unknown;
}

export class VitronError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details: ErrorDetails } {
    return { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }
}

/** A setting is wrong: the message is one line naming the setting, what was expected and what arrived. */
export class SettingsError extends VitronError {
  constructor(
    readonly setting: string,
    expected: string,
    received: string,
  ) {
    super('SETTINGS_INVALID', `Setting ${setting}: expected ${expected}, received ${received}`, { details: { setting } });
  }
}

/** Bad input from a user: never retried, always explained. */
export class BadInputError extends VitronError {
  constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
    super(code, message, { retryable: false, details });
  }
}

export class MediaError extends BadInputError {}

export class MediaTooLargeError extends MediaError {
  constructor(what: string, limit: string, actual: string) {
    super('MEDIA_TOO_LARGE', `${what} is too large: ${actual}, the limit is ${limit}.`, { limit, actual });
  }
}

export class MediaLimitError extends MediaError {
  constructor(what: string, limit: string, actual: string) {
    super('MEDIA_LIMIT', `${what} is over the limit: ${actual}, the limit is ${limit}.`, { limit, actual });
  }
}

export class UnsupportedMediaError extends MediaError {
  constructor(message: string, details?: ErrorDetails) {
    super('MEDIA_UNSUPPORTED', message, details);
  }
}

export class CorruptMediaError extends MediaError {
  constructor(message: string, details?: ErrorDetails) {
    super('MEDIA_CORRUPT', message, details);
  }
}

export class EmptyMediaError extends MediaError {
  constructor(name = 'The file') {
    super('MEDIA_EMPTY', `${name} is empty (0 bytes).`);
  }
}

/** A blob that a stored record points at is gone from the media store (deleted, or a store was swapped). */
export class MediaNotFoundError extends MediaError {
  constructor(readonly sha256: string) {
    super('MEDIA_NOT_FOUND', `The media ${sha256.slice(0, 12)}… is no longer in the media store.`, { sha256 });
  }
}

/** "the second image" when there is one image: the user gets the question, never a guess. */
export class UnresolvedReferenceError extends BadInputError {
  constructor(message: string, details?: ErrorDetails) {
    super('REFERENCE_UNRESOLVED', message, details);
  }
}

export class NothingToUndoError extends BadInputError {
  constructor(message = 'There is nothing to undo yet: no edit has been made in this conversation.') {
    super('NOTHING_TO_UNDO', message);
  }
}

export class NothingToRedoError extends BadInputError {
  constructor(message = 'There is nothing to redo: no edit has been undone since the last change.') {
    super('NOTHING_TO_REDO', message);
  }
}

export class InvalidArgumentError extends BadInputError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_ARGUMENT', message, details);
  }
}

export class UnsupportedMediaForTaskError extends BadInputError {
  constructor(task: string, kind: string, accepted: readonly string[]) {
    super('TASK_UNSUPPORTED_MEDIA', `${task} works on ${accepted.join(' or ')}, not on a ${kind}.`, { task, kind, accepted });
  }
}

/**
 * The task exists but its weights are not on this machine. The message is for the chat user ("This server
 * can't describe pictures yet — ask its admin to enable captions."); what to pull and where the files go is
 * the operator's, in `details.operatorHint`, which the bot logs and never posts in a chat.
 */
export class ModelNotInstalledError extends BadInputError {
  constructor(
    readonly task: string,
    readonly modelName: string,
    howToGet: string,
  ) {
    const operatorHint = `${task} needs the model "${modelName}", which is not installed. ${howToGet}`.trim();
    super('MODEL_NOT_INSTALLED', taskUnavailableText(task), { task, model: modelName, operatorHint });
  }

  /** What an operator does about it: the pull command or package, and the files. */
  get operatorHint(): string {
    return this.details.operatorHint as string;
  }
}

/**
 * A task nothing here can run yet: no code for it in this build, or no engine or endpoint set up. The
 * message is for the chat user (`chat`, by default the task table's words); the explanation with settings
 * and commands is `details.operatorHint`.
 */
export class TaskNotAvailableError extends BadInputError {
  /** `what` names the missing ability when it is narrower than the task ("image generation"). */
  constructor(
    readonly task: string,
    explanation: string,
    what = task.replace('_', ' '),
    chat = taskUnavailableText(task),
  ) {
    super('TASK_NOT_AVAILABLE', chat, { task, operatorHint: `This build cannot do ${what} yet. ${explanation}`.trim() });
  }

  get operatorHint(): string {
    return this.details.operatorHint as string;
  }
}

/** The operator's side of a refusal (what to pull or set), when the error carries one; for logs. */
export function operatorHintOf(error: unknown): string | undefined {
  if (!(error instanceof VitronError)) return undefined;
  const hint = error.details.operatorHint;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

export class ToolMissingError extends VitronError {
  constructor(tool: string, hint: string) {
    super('TOOL_MISSING', `${tool} is not available on this machine. ${hint}`, { details: { tool } });
  }
}

/**
 * An external tool (ffmpeg, ffprobe) failed on input that had already passed inspection: our fault, not the
 * user's. Carries the tool's exit status and the tail of its stderr, which is what a maintainer needs.
 */
export class ToolFailedError extends VitronError {
  constructor(tool: string, exit: string, stderr: string) {
    const lastLine = stderr.trim().split('\n').pop() ?? '';
    super('INTERNAL', `${tool} failed (${exit})${lastLine ? `: ${lastLine}` : ''}`, { details: { tool, exit, stderr } });
  }
}

export class LimitReachedError extends BadInputError {
  constructor(message: string, details?: ErrorDetails) {
    super('LIMIT_REACHED', message, details);
  }
}

export class NotFoundError extends BadInputError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} was not found.`);
  }
}

/** An attachment URL the bot will not fetch (a host that is not the platform's file host, a bad scheme). */
export class DownloadRefusedError extends BadInputError {
  constructor(message: string, details?: ErrorDetails) {
    super('DOWNLOAD_REFUSED', message, details);
  }
}

/** The platform's file host failed or timed out: worth another try. */
export class DownloadFailedError extends VitronError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('DOWNLOAD_FAILED', message, { retryable: true, details: options.status === undefined ? {} : { status: options.status }, cause: options.cause });
  }
}

/** The vision chat endpoint (LLM_URL) is down, overloaded, failing (5xx) or too slow: worth another try. */
export class VisionLlmUnavailableError extends VitronError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('LLM_UNAVAILABLE', message, {
      retryable: true,
      details: options.status === undefined ? {} : { status: options.status },
      cause: options.cause,
    });
  }
}

/**
 * The vision chat endpoint refused the request (4xx: unknown model, wrong key, image too large): the same
 * request fails again until an operator changes a setting, so it is not retried and names the setting.
 */
export class VisionLlmRejectedError extends VitronError {
  constructor(message: string, status: number) {
    super('LLM_REJECTED', message, { retryable: false, details: { status } });
  }
}

/** The vision chat endpoint answered something that is not an OpenAI chat completion. */
export class VisionLlmBadResponseError extends VitronError {
  constructor(message: string, cause?: unknown) {
    super('LLM_BAD_RESPONSE', message, { retryable: false, cause });
  }
}

/**
 * A generation engine (ComfyUI, an Images API) is down, restarting, overloaded (429, 5xx), dropped its
 * socket mid-job or is too slow: worth another try. `engine` names it for logs and the user's sentence.
 */
export class EngineUnavailableError extends VitronError {
  constructor(engine: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super('ENGINE_UNAVAILABLE', message, {
      retryable: true,
      details: options.status === undefined ? { engine } : { engine, status: options.status },
      cause: options.cause,
    });
  }
}

/**
 * A generation engine refused the request in a way a retry cannot fix: a workflow the server does not
 * accept (unknown node, missing model), a wrong key or model name, a node error while running. The message
 * names the setting or file to change.
 */
export class EngineRejectedError extends VitronError {
  constructor(engine: string, message: string, details: ErrorDetails = {}) {
    super('ENGINE_REJECTED', message, { retryable: false, details: { engine, ...details } });
  }
}

/**
 * The prompt or the picture was refused on content grounds: the operator's block list, the NSFW filter, or
 * an engine's own moderation. Bad input: never retried; the message says why in one sentence.
 */
export class ContentBlockedError extends BadInputError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('CONTENT_BLOCKED', message, details);
  }
}

/** A user used up a daily quota (GENERATION_DAILY_QUOTA): says when it resets. */
export class QuotaReachedError extends BadInputError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('QUOTA_REACHED', message, details);
  }
}

/** A chat platform delivered the same event again (a retry): the turn exists and must not run twice. */
export class DuplicateEventError extends BadInputError {
  constructor(readonly eventKey: string) {
    super('DUPLICATE_EVENT', 'This message was already handled.', { eventKey });
  }
}

/** A user sent more turns than USER_RATE_LIMIT_PER_MINUTE allows. */
export class RateLimitedError extends BadInputError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', `You are sending requests faster than this bot allows; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
  }
}

export class JobCancelledError extends VitronError {
  constructor() {
    super('JOB_CANCELLED', 'The job was cancelled.');
  }
}

export class JobTimeoutError extends VitronError {
  constructor(seconds: number) {
    super('JOB_TIMEOUT', `The job took longer than ${seconds} s and was stopped.`, { details: { seconds } });
  }
}

export class JobInterruptedError extends VitronError {
  constructor() {
    super('JOB_INTERRUPTED', 'The job was interrupted because the bot stopped while it ran.', { retryable: true });
  }
}

/** The inference thread died (native crash, out of memory): transient from the job's point of view. */
export class WorkerCrashedError extends VitronError {
  constructor(message: string) {
    super('WORKER_CRASHED', `The worker stopped unexpectedly: ${message}`, { retryable: true });
  }
}

/**
 * A job whose worker process was gone every time it ran (killed for memory, a native crash): the queue gave
 * it up rather than let it take down one worker after another. Often the input itself is what crashes it,
 * so it is not retried, and the user is told so.
 */
export class JobKeepsCrashingWorkersError extends VitronError {
  constructor(runs?: number) {
    const times = runs === undefined ? 'each time it ran' : `${runs} times`;
    super(
      'WORKER_CRASHED',
      `The job stopped the worker running it ${times}, so it was given up. The file itself may be what makes it crash; try another file, or ask for something else.`,
      { retryable: false, details: runs === undefined ? {} : { runs } },
    );
  }
}

export class StoreUnavailableError extends VitronError {
  constructor(cause: unknown) {
    super('STORE_UNAVAILABLE', 'The database is not reachable right now; try again in a moment.', { retryable: true, cause });
  }
}

/**
 * The embedded database's directory is open in another process (a second `npm start`, or `npm run mcp` next
 * to it): two PGlite processes on one directory corrupt it, so the second one stops at start-up instead.
 */
export class StoreInUseError extends VitronError {
  constructor(dir: string, pid: number) {
    super(
      'STORE_IN_USE',
      `The embedded database in ${dir} is in use by process ${pid}. Stop that process, give this one its own PGLITE_DIR (or DATA_DIR), or set DATABASE_URL to share a PostgreSQL server.`,
      { retryable: false, details: { dir, pid } },
    );
  }
}

export class InternalError extends VitronError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL', message, { retryable: false, cause });
  }
}

/** Wraps anything thrown at an edge into a VitronError, keeping the original as `cause`. */
export function asVitronError(error: unknown): VitronError {
  if (error instanceof VitronError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`Something went wrong: ${message}`, error);
}

/** Errors cross the worker-thread boundary as plain objects; this brings back the right class's behaviour. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details: ErrorDetails;
}

export function serializeError(error: unknown): SerializedError {
  return asVitronError(error).toJSON();
}

/** Neither transient nor the user's doing (an endpoint set up wrong): not retried, yet logged as a failure. */
const OPERATOR_FAULTS: readonly ErrorCode[] = ['LLM_REJECTED', 'LLM_BAD_RESPONSE'];

export function deserializeError(data: SerializedError): VitronError {
  if (data.code === 'JOB_CANCELLED') return new JobCancelledError();
  if (data.retryable) return new VitronError(data.code, data.message, { retryable: true, details: data.details });
  if (data.code === 'INTERNAL') return new InternalError(data.message);
  if (OPERATOR_FAULTS.includes(data.code)) return new VitronError(data.code, data.message, { retryable: false, details: data.details });
  return new BadInputError(data.code, data.message, data.details);
}
