import type { JobQueue, JobSpec, QueueEvent, QueueStats } from './job-queue.ts';

/**
 * A JobQueue that hands every call to the queue it wraps. Wrappers that watch a queue (metrics, the
 * admin's owner tracking) extend it and override only what they watch.
 */
export class ForwardingJobQueue<P, R> implements JobQueue<P, R> {
  constructor(protected readonly inner: JobQueue<P, R>) {}

  get kind(): JobQueue<P, R>['kind'] {
    return this.inner.kind;
  }

  enqueue(spec: JobSpec<P>): Promise<{ position: number }> {
    return this.inner.enqueue(spec);
  }

  cancel(jobId: string): Promise<boolean> {
    return this.inner.cancel(jobId);
  }

  position(jobId: string): number | undefined {
    return this.inner.position(jobId);
  }

  activeJobsOf(userId: string): string[] {
    return this.inner.activeJobsOf(userId);
  }

  subscribe(listener: (event: QueueEvent<R>) => void): () => void {
    return this.inner.subscribe(listener);
  }

  stats(): QueueStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
