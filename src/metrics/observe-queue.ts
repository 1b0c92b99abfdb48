import { ForwardingJobQueue } from '../queue/forwarding-queue.ts';
import type { JobQueue, JobSpec, QueueEvent } from '../queue/job-queue.ts';
import type { JobPayload } from '../core/job.ts';
import { taskLabel } from './job-tracker.ts';
import type { Metrics, QueueDepthSource } from './metrics.ts';

export interface ObserveQueueOptions {
  /** The `lane` label of the queue's stats() rows in vitron_queue_jobs; 'all' by default. */
  lane?: string;
  /** Where queue depth comes from instead of the queue's stats() (BullMQ: the lanes' counts in Redis). */
  depth?: QueueDepthSource;
}

/** The observed queue, usable wherever the original was; `stopObserving` detaches the metrics only. */
export interface ObservedQueue<P, R> extends JobQueue<P, R> {
  stopObserving(): void;
}

/**
 * Records a queue's jobs in `metrics`: durations and outcomes per task from its events, and its depth
 * (stats()) at every scrape. Queue events carry only job ids, so the task is taken from each payload as it
 * is enqueued: hand the returned queue to the bot in place of the original. A job enqueued elsewhere (by
 * another bot process on a shared queue) is still counted, under the task "unknown".
 */
export function observeQueue<P extends Pick<JobPayload, 'steps'>, R>(
  metrics: Metrics,
  queue: JobQueue<P, R>,
  options: ObserveQueueOptions = {},
): ObservedQueue<P, R> {
  return new ObservedJobQueue(metrics, queue, options.lane ?? 'all', options.depth);
}

class ObservedJobQueue<P extends Pick<JobPayload, 'steps'>, R> extends ForwardingJobQueue<P, R> implements ObservedQueue<P, R> {
  private readonly unsubscribe: () => void;
  private readonly removeDepthSource: () => void;
  private observing = true;

  constructor(
    private readonly metrics: Metrics,
    inner: JobQueue<P, R>,
    lane: string,
    depth: QueueDepthSource | undefined,
  ) {
    super(inner);
    this.unsubscribe = inner.subscribe((event) => this.record(event));
    this.removeDepthSource = metrics.addQueueDepthSource(
      depth ??
        (() => {
          const { queued, running } = inner.stats();
          return [
            { lane, state: 'queued', count: queued },
            { lane, state: 'running', count: running },
          ];
        }),
    );
  }

  override async enqueue(spec: JobSpec<P>): Promise<{ position: number }> {
    // Before delegating: the in-process queue emits `started` from inside enqueue when a slot is free.
    if (this.observing) this.metrics.jobs.queued(spec.id, taskLabel(spec.payload));
    try {
      return await this.inner.enqueue(spec);
    } catch (error) {
      // Refused (a per-user limit): it never entered the queue, so it has no outcome to count.
      if (this.inner.position(spec.id) === undefined) this.metrics.jobs.forget(spec.id);
      throw error;
    }
  }

  stopObserving(): void {
    if (!this.observing) return;
    this.observing = false;
    this.unsubscribe();
    this.removeDepthSource();
  }

  override async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.stopObserving();
    }
  }

  private record(event: QueueEvent<R>): void {
    const jobs = this.metrics.jobs;
    switch (event.type) {
      case 'started':
        jobs.started(event.jobId);
        break;
      case 'retrying':
        jobs.retrying(event.jobId);
        break;
      case 'completed':
        jobs.succeeded(event.jobId);
        break;
      case 'failed':
        jobs.failed(event.jobId, event.error.code);
        break;
      case 'cancelled':
        jobs.cancelled(event.jobId);
        break;
      case 'queued':
      case 'progress':
        break;
    }
  }
}
