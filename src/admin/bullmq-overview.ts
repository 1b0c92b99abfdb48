import { Queue, type Job } from 'bullmq';
import type { BullJobData } from '../queue/bullmq-queue.ts';
import { queueNameOf } from '../queue/lanes.ts';
import { bullConnection } from '../queue/redis-setup.ts';
import {
  JOB_STATES,
  sortUsers,
  userLoad,
  type JobStateName,
  type LaneOverview,
  type QueueAdmin,
  type QueueOverview,
  type RunningJobView,
  type UserLoad,
  type WorkerView,
} from './queue-overview.ts';

export interface BullmqQueueAdminOptions {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  lanes: readonly string[];
  /** Jobs read per state and lane for the per-user counts (default 1000): the page stays cheap on a deep queue. */
  sampleLimit?: number;
}

const UNFINISHED: readonly { state: JobStateName; running: boolean }[] = [
  { state: 'active', running: true },
  { state: 'waiting', running: false },
  { state: 'prioritized', running: false },
  { state: 'delayed', running: false },
];

/**
 * Reads the lanes straight from Redis through queues of its own, so it sees every bot's and worker's jobs,
 * not just those this process enqueued (which is all the bot's JobQueue keeps track of).
 */
export class BullmqQueueAdmin implements QueueAdmin {
  readonly kind = 'bullmq' as const;
  private readonly queues: { lane: string; queue: Queue }[];
  private readonly sampleLimit: number;

  constructor(options: BullmqQueueAdminOptions) {
    const connection = bullConnection(options.redisUrl);
    this.queues = options.lanes.map((lane) => ({ lane, queue: new Queue(queueNameOf(lane), { connection, prefix: options.prefix }) }));
    this.sampleLimit = options.sampleLimit ?? 1000;
  }

  get bullQueues(): readonly Queue[] {
    return this.queues.map((q) => q.queue);
  }

  async ready(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.queue.waitUntilReady()));
  }

  async overview(): Promise<QueueOverview> {
    const lanes = await Promise.all(this.queues.map(({ lane, queue }) => this.readLane(lane, queue)));
    const byUser = new Map<string, UserLoad>();
    const notes = new Set<string>();
    let truncated = false;
    for (const lane of lanes) {
      truncated ||= lane.truncated;
      for (const job of lane.unfinished) {
        const load = userLoad(byUser, job.userId);
        if (job.running) load.running++;
        else load.waiting++;
      }
      for (const note of lane.notes) notes.add(note);
    }
    const workers = lanes.flatMap((l) => l.workers);
    if (workers.some((w) => w.runningJobIds === null)) {
      notes.add('Workers without a name cannot be matched to their jobs: running jobs are listed per lane.');
    }
    if (truncated) notes.add(`Per-user counts and running jobs are taken from the first ${this.sampleLimit} jobs of each state per lane.`);
    return {
      kind: this.kind,
      at: new Date().toISOString(),
      lanes: lanes.map((l) => l.overview),
      users: sortUsers(byUser),
      running: lanes.flatMap((l) => l.running),
      workers,
      truncated,
      sampleLimit: this.sampleLimit,
      notes: [...notes],
    };
  }

  private async readLane(lane: string, queue: Queue) {
    const notes: string[] = [];
    const [counts, paused, clients] = await Promise.all([
      queue.getJobCounts(...JOB_STATES),
      queue.isPaused(),
      queue.getWorkers().catch((error: unknown) => {
        // Managed Redis services may refuse CLIENT LIST; the rest of the overview is still worth showing.
        notes.push(`Workers could not be listed (${error instanceof Error ? error.message : String(error)}).`);
        return [] as Record<string, string>[];
      }),
    ]);
    const overview: LaneOverview = {
      lane,
      queue: queue.name,
      paused,
      counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobStateName, number>,
    };

    let truncated = false;
    const unfinished: { userId: string; running: boolean }[] = [];
    const running: RunningJobView[] = [];
    for (const { state, running: isRunning } of UNFINISHED) {
      if ((counts[state] ?? 0) === 0) continue;
      const jobs = await queue.getJobs(state, 0, this.sampleLimit - 1);
      if ((counts[state] ?? 0) > jobs.length) truncated = true;
      for (const job of jobs) {
        // A job can finish between the count and the read: getJobs then leaves a hole.
        if (!job) continue;
        const userId = (job.data as Partial<BullJobData<unknown>> | undefined)?.userId ?? 'unknown';
        unfinished.push({ userId, running: isRunning });
        if (isRunning) running.push(runningView(lane, job, userId));
      }
    }

    const workers = clients.map((client) => workerView(lane, queue, client));
    for (const worker of workers) {
      if (worker.name === undefined) continue;
      worker.runningJobIds = running.filter((j) => j.worker === worker.name).map((j) => j.id);
    }
    return { overview, unfinished, running, workers, truncated, notes };
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled(this.queues.map((q) => q.queue.close()));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'closing the admin queues finished with errors');
  }
}

function runningView(lane: string, job: Job, userId: string): RunningJobView {
  const data = job.data as Partial<BullJobData<unknown>> | undefined;
  return {
    id: job.id ?? '?',
    lane,
    userId,
    name: job.name,
    ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
    attempt: (data?.attemptOffset ?? 0) + job.attemptsMade + 1,
    ...(job.processedBy ? { worker: job.processedBy } : {}),
  };
}

/**
 * One CLIENT LIST entry of a worker connection. BullMQ names it "<prefix>:<base64 queue name>", with
 * ":w:<worker name>" appended when the Worker was given a name.
 */
function workerView(lane: string, queue: Queue, client: Record<string, string>): WorkerView {
  const raw = client['rawname'] ?? '';
  const marker = raw.indexOf(':w:', queue.opts.prefix?.length ?? 0);
  const name = marker >= 0 ? raw.slice(marker + 3) : undefined;
  const seconds = (value: string | undefined) => (value === undefined || Number.isNaN(Number(value)) ? undefined : Number(value));
  const age = seconds(client['age']);
  const idle = seconds(client['idle']);
  return {
    id: client['id'] ?? '?',
    lane,
    ...(name ? { name } : {}),
    ...(client['addr'] ? { addr: client['addr'] } : {}),
    ...(age === undefined ? {} : { ageSeconds: age }),
    ...(idle === undefined ? {} : { idleSeconds: idle }),
    runningJobIds: name ? [] : null,
  };
}
