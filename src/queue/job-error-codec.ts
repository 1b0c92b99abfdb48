import {
  InternalError,
  JobKeepsCrashingWorkersError,
  type VitronError,
  asVitronError,
  deserializeError,
  serializeError,
  type SerializedError,
} from '../errors.ts';

/**
 * BullMQ keeps only an error's message (`failedReason`), and the bot lives in another process than the
 * worker that failed. The message therefore carries our whole error as JSON, so the bot rebuilds the
 * same class (cancelled, timed out, bad input, transient) from the queue event alone.
 */
const MARK = 'vitron-error:';

export function encodeJobError(error: unknown): string {
  return `${MARK}${JSON.stringify(serializeError(error))}`;
}

/**
 * The reason BullMQ gives a job that lost its worker (lock expired, worker gone) more than the workers'
 * maxStalledCount allows. BullMQ exports no constant for it: it is a literal in its moveStalledJobsToWait
 * Lua script (bullmq 6.7), so it is matched exactly, and a BullMQ upgrade that rewords it shows up in
 * test/faults/poisoned-job.test.ts.
 */
export const BULLMQ_STALLED_LIMIT_REASON = 'job stalled more than allowable limit';

export interface FailureFacts {
  /** How many times the job lost its worker (BullMQ's `stalledCounter`), when the caller read it. */
  stalls?: number;
}

/** The error behind a failedReason: ours decoded, BullMQ's stalled limit explained, anything else internal. */
export function decodeJobError(failedReason: string | undefined, facts: FailureFacts = {}): VitronError {
  if (failedReason?.startsWith(MARK)) {
    try {
      const data = JSON.parse(failedReason.slice(MARK.length)) as SerializedError;
      if (typeof data.code === 'string' && typeof data.message === 'string') return deserializeError({ ...data, details: data.details ?? {} });
    } catch {
      // Not ours after all: fall through to a plain internal error with the text as it came.
    }
  }
  if (failedReason === BULLMQ_STALLED_LIMIT_REASON) return new JobKeepsCrashingWorkersError(facts.stalls);
  return failedReason === undefined ? new InternalError('The job failed without a reason.') : asVitronError(new Error(failedReason));
}
