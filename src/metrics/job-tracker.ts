import type { Counter, Histogram } from 'prom-client';
import type { JobPayload } from '../core/job.ts';

export type JobOutcomeLabel = 'succeeded' | 'failed' | 'cancelled' | 'retried';

/** The instruments a tracker writes to; they live in one `Metrics` registry. */
export interface JobInstruments {
  duration: Histogram<'task'>;
  outcomes: Counter<'task' | 'outcome'>;
  failures: Counter<'task' | 'code'>;
}

/** The label of a job whose task was never seen: one enqueued by another process, for example. */
export const UNKNOWN_TASK = 'unknown';

/**
 * A job's `task` label. A chain ("crop it and make it black and white") is one job timed as a whole, so its
 * label names its tasks in order ("transform+adjust"); single-step jobs, by far the most, keep a clean
 * label. The task vocabulary is fixed, so the label set stays small.
 */
export function taskLabel(payload: Pick<JobPayload, 'steps'> | undefined): string {
  const tasks = [...new Set((payload?.steps ?? []).map((step) => step.invocation.task))];
  return tasks.length === 0 ? UNKNOWN_TASK : tasks.join('+');
}

interface Tracked {
  task: string;
  /** Set while an attempt runs; cleared when it ends. */
  startedAt?: number;
}

/**
 * Follows jobs from queued to their end, so durations and outcomes carry the job's task although queue
 * events name only the job id. Entries are removed at each job's end; the cap keeps a stream of events
 * whose ends never arrive (another process's jobs) from growing without bound.
 */
export class JobTracker {
  private readonly jobs = new Map<string, Tracked>();

  constructor(
    private readonly instruments: JobInstruments,
    /** Milliseconds from a monotonic clock; injected so tests set durations exactly. */
    private readonly now: () => number,
    private readonly maxTracked = 10_000,
  ) {}

  /** Remembers the task of a job before it starts (queue events do not carry payloads). */
  queued(jobId: string, task: string): void {
    this.remember(jobId, { task });
  }

  started(jobId: string, task?: string): void {
    const known = this.jobs.get(jobId);
    this.remember(jobId, { task: task ?? known?.task ?? UNKNOWN_TASK, startedAt: this.now() });
  }

  /** An attempt failed transiently and the job waits for another; its duration is not a job duration. */
  retrying(jobId: string): void {
    const job = this.jobs.get(jobId);
    this.instruments.outcomes.inc({ task: job?.task ?? UNKNOWN_TASK, outcome: 'retried' });
    if (job) delete job.startedAt;
  }

  succeeded(jobId: string): void {
    this.end(jobId, 'succeeded');
  }

  failed(jobId: string, code: string): void {
    const task = this.end(jobId, 'failed');
    this.instruments.failures.inc({ task, code });
  }

  /** A cancelled job is not timed: its duration says when the user gave up, not how long the task takes. */
  cancelled(jobId: string): void {
    this.end(jobId, 'cancelled');
  }

  /** Jobs with an attempt running now, per task. */
  runningByTask(): Map<string, number> {
    const running = new Map<string, number>();
    for (const job of this.jobs.values()) {
      if (job.startedAt !== undefined) running.set(job.task, (running.get(job.task) ?? 0) + 1);
    }
    return running;
  }

  /** Drops a job without counting it (it was refused before entering the queue). */
  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }

  get tracked(): number {
    return this.jobs.size;
  }

  private end(jobId: string, outcome: JobOutcomeLabel): string {
    const job = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    const task = job?.task ?? UNKNOWN_TASK;
    if (job?.startedAt !== undefined && outcome !== 'cancelled') {
      this.instruments.duration.observe({ task }, Math.max(0, this.now() - job.startedAt) / 1000);
    }
    this.instruments.outcomes.inc({ task, outcome });
    return task;
  }

  private remember(jobId: string, job: Tracked): void {
    this.jobs.delete(jobId);
    this.jobs.set(jobId, job);
    if (this.jobs.size > this.maxTracked) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) this.jobs.delete(oldest);
    }
  }
}
