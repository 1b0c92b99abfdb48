import type { JobProgress } from '../core/types.ts';
import type { SerializedError } from '../errors.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import type { SafetyVerdict } from '../core/types.ts';
import type { ClassifiableMedia } from '../safety/nsfw-classifier.ts';

export type ToThread =
  | { type: 'run'; payload: JobPayload }
  | { type: 'cancel'; reason: SerializedError }
  /** Safety for an upload: answered beside the thread's job (the classifier's model lives in this thread). */
  | { type: 'classify'; id: number; media: ClassifiableMedia };

export type FromThread =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; progress: JobProgress }
  | { type: 'done'; jobId: string; outcome: JobOutcome }
  | { type: 'error'; jobId: string; error: SerializedError }
  | { type: 'models'; loaded: string[] }
  | { type: 'classified'; id: number; verdict: SafetyVerdict }
  | { type: 'classify-error'; id: number; error: SerializedError };
