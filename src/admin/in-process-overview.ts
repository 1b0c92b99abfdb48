import { ForwardingJobQueue } from '../queue/forwarding-queue.ts';
import type { JobQueue, JobSpec, QueueEvent } from '../queue/job-queue.ts';
import { sortUsers, userLoad, type QueueAdmin, type QueueOverview, type RunningJobView, type UserLoad } from './queue-overview.ts';

interface Owned {
  userId: string;
  name: string;
  state: 'waiting' | 'delayed' | 'running';
  attempt?: number;
  startedAt?: number;
}

const LANE = 'in-process';

/** What the wrapper reads of a payload: the tasks, for the job's name. */
type WithSteps = { steps: readonly { invocation: { task: string } }[] };

/**
 * The JobQueue interface answers per user only for a user id one already has, and queue events carry only
 * job ids: this wrapper notes each job's user as it is enqueued and follows its events, so the admin can
 * list users. Hand it to the bot in place of the queue it wraps (like observeQueue).
 */
export class OwnerTrackingQueue<P extends WithSteps, R> extends ForwardingJobQueue<P, R> {
  private readonly jobs = new Map<string, Owned>();
  private readonly unsubscribe: () => void;
  /** Outcomes since this process started: the in-process queue keeps no finished jobs. */
  readonly finished = { completed: 0, failed: 0, cancelled: 0 };

  constructor(inner: JobQueue<P, R>) {
    super(inner);
    this.unsubscribe = inner.subscribe((event) => this.record(event));
  }

  override async enqueue(spec: JobSpec<P>): Promise<{ position: number }> {
    // Before delegating: the in-process queue emits `started` from inside enqueue when a slot is free.
    if (!this.jobs.has(spec.id))
      this.jobs.set(spec.id, { userId: spec.userId, name: spec.payload.steps.map((s) => s.invocation.task).join('+'), state: 'waiting' });
    try {
      return await this.inner.enqueue(spec);
    } catch (error) {
      if (this.inner.position(spec.id) === undefined) this.jobs.delete(spec.id);
      throw error;
    }
  }

  override async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.unsubscribe();
      this.jobs.clear();
    }
  }

  /** The unfinished jobs this process knows, with their user. */
  snapshot(): ReadonlyMap<string, Readonly<Owned>> {
    return this.jobs;
  }

  private record(event: QueueEvent<R>): void {
    const job = this.jobs.get(event.jobId);
    switch (event.type) {
      case 'started':
        if (job) Object.assign(job, { state: 'running', attempt: event.attempt, startedAt: Date.now() });
        break;
      case 'retrying':
        if (job) job.state = 'delayed';
        break;
      case 'completed':
      case 'failed':
      case 'cancelled':
        // Counted only for jobs seen entering: a second `cancelled` for the same job must not count twice.
        if (this.jobs.delete(event.jobId)) this.finished[event.type]++;
        break;
      case 'queued':
      case 'progress':
        break;
    }
  }
}

/** The overview of the embedded queue: one pseudo-lane and one "worker", the inference pool of this process. */
export class InProcessQueueAdmin implements QueueAdmin {
  readonly kind = 'in-process' as const;
  readonly bullQueues = [];

  constructor(
    private readonly queue: OwnerTrackingQueue<WithSteps, unknown>,
    private readonly options: { concurrency: number },
  ) {}

  async overview(): Promise<QueueOverview> {
    const byUser = new Map<string, UserLoad>();
    const running: RunningJobView[] = [];
    let waiting = 0;
    let delayed = 0;
    for (const [id, job] of this.queue.snapshot()) {
      const load = userLoad(byUser, job.userId);
      if (job.state === 'running') {
        load.running++;
        running.push({
          id,
          lane: LANE,
          userId: job.userId,
          name: job.name,
          ...(job.startedAt ? { startedAt: new Date(job.startedAt).toISOString() } : {}),
          ...(job.attempt ? { attempt: job.attempt } : {}),
        });
      } else {
        load.waiting++;
        if (job.state === 'delayed') delayed++;
        else waiting++;
      }
    }
    const { finished } = this.queue;
    return {
      kind: this.kind,
      at: new Date().toISOString(),
      lanes: [
        {
          lane: LANE,
          paused: false,
          counts: { waiting, prioritized: null, delayed, active: running.length, completed: finished.completed, failed: finished.failed },
        },
      ],
      users: sortUsers(byUser),
      running,
      workers: [{ id: LANE, lane: LANE, name: 'inference pool', concurrency: this.options.concurrency, runningJobIds: running.map((j) => j.id) }],
      truncated: false,
      notes: [
        'In-process queue: jobs run in this process; completed and failed count jobs since it started (finished jobs are not kept).',
        'Delayed: a job backing off after a transient fault (once its delay ends it waits in line, still shown as delayed until it starts).',
      ],
    };
  }

  async close(): Promise<void> {
    // The tracked queue is closed by the bot; nothing of its own to release.
  }
}
