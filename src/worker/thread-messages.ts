import type { JobProgress } from '../core/types.ts';
import type { SerializedError } from '../errors.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';

export type ToThread = { type: 'run'; payload: JobPayload } | { type: 'cancel'; reason: SerializedError };

export type FromThread =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; progress: JobProgress }
  | { type: 'done'; jobId: string; outcome: JobOutcome }
  | { type: 'error'; jobId: string; error: SerializedError }
  | { type: 'models'; loaded: string[] };
