import { InternalError, VitronError, asVitronError, deserializeError, serializeError, type SerializedError } from '../errors.ts';

/**
 * BullMQ keeps only an error's message (`failedReason`), and the bot lives in another process than the
 * worker that failed. The message therefore carries our whole error as JSON, so the bot rebuilds the
 * same class (cancelled, timed out, bad input, transient) from the queue event alone.
 */
const MARK = 'vitron-error:';

export function encodeJobError(error: unknown): string {
  return `${MARK}${JSON.stringify(serializeError(error))}`;
}

/** The error behind a failedReason; a reason BullMQ wrote itself (a job stalled too often) is internal. */
export function decodeJobError(failedReason: string | undefined): VitronError {
  if (failedReason?.startsWith(MARK)) {
    try {
      const data = JSON.parse(failedReason.slice(MARK.length)) as SerializedError;
      if (typeof data.code === 'string' && typeof data.message === 'string') return deserializeError({ ...data, details: data.details ?? {} });
    } catch {
      // Not ours after all: fall through to a plain internal error with the text as it came.
    }
  }
  return failedReason === undefined ? new InternalError('The job failed without a reason.') : asVitronError(new Error(failedReason));
}

