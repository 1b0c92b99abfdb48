import type { JobProgress } from '../core/types.ts';
import type { VitronError } from '../errors.ts';

/**
 * One queue interface for every deployment: the in-process runner (default) and BullMQ on Redis
 * (REDIS_URL). Adapters and the bot never know which one runs their jobs.
 */
export interface JobSpec<P = unknown> {
  id: string;
  userId: string;
  conversationId: string;
  payload: P;
  /** Attempts already spent (a job resumed after a restart continues its count). */
  attemptsMade?: number;
  /**
   * A job enqueued before (recovery after a restart): the queue may already hold it, running or finished,
   * and must follow it rather than add it. A fresh job skips that lookup.
   */
  resumed?: boolean;
}

export interface RunningJob<P = unknown> {
  id: string;
  userId: string;
  conversationId: string;
  payload: P;
  /** 1-based attempt number. */
  attempt: number;
  /** Aborted on cancel or timeout; `signal.reason` is the JobCancelledError / JobTimeoutError. */
  signal: AbortSignal;
  progress(progress: JobProgress): void;
}

export type JobProcessor<P = unknown, R = unknown> = (job: RunningJob<P>) => Promise<R>;

export type QueueEvent<R = unknown> =
  | { type: 'queued'; jobId: string; position: number }
  | { type: 'started'; jobId: string; attempt: number }
  | { type: 'progress'; jobId: string; progress: JobProgress }
  | { type: 'retrying'; jobId: string; attempt: number; error: VitronError; delayMs: number }
  | { type: 'completed'; jobId: string; result: R; attempt: number }
  | { type: 'failed'; jobId: string; error: VitronError; attempt: number }
  | { type: 'cancelled'; jobId: string };

export interface QueueStats {
  queued: number;
  running: number;
}

export interface JobQueue<P = unknown, R = unknown> {
  readonly kind: 'in-process' | 'bullmq';
  /** Throws LimitReachedError when the user already has too many jobs waiting or running. */
  enqueue(spec: JobSpec<P>): Promise<{ position: number }>;
  /** True when the job was found waiting or running and is now being stopped. */
  cancel(jobId: string): Promise<boolean>;
  /** 1-based place in line for a waiting job; 0 when running; undefined when unknown. */
  position(jobId: string): number | undefined;
  /** Jobs of one user that are waiting or running. */
  activeJobsOf(userId: string): string[];
  subscribe(listener: (event: QueueEvent<R>) => void): () => void;
  stats(): QueueStats;
  /** Stops taking jobs; running jobs are aborted (their state stays for recovery at next start). */
  close(): Promise<void>;
}
