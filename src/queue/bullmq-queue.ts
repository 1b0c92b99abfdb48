import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { JobProgress } from '../core/types.ts';
import { JobCancelledError, LimitReachedError } from '../errors.ts';
import { BULLMQ_STALLED_LIMIT_REASON, decodeJobError } from './job-error-codec.ts';
import type { JobQueue, JobSpec, QueueEvent, QueueStats } from './job-queue.ts';
import { laneCounts, type LaneCount } from './lane-counts.ts';
import { queueNameOf } from './lanes.ts';
import { bullCommandClient, bullConnection, cancelChannel, cancelKey, redisClient, throttledErrorLog, type CoalescingRedis } from './redis-setup.ts';
import { UserRunningSlots } from './user-running-slots.ts';

/** What a BullMQ job carries: plain JSON, so a worker on another machine needs nothing else. */
export interface BullJobData<P> {
  /**
   * With a running limit: whether the bot's pre-claim holds the user's running slot for this job
   * (user-running-slots.ts). Always the first member, false when added; the pre-claim script turns it true.
   */
  preclaimed?: boolean;
  userId: string;
  conversationId: string;
  payload: P;
  /** The bot's JOB_TIMEOUT_SECONDS travels with the job: the worker enforces it. */
  timeoutMs: number;
  /** Attempts spent before this enqueue (a job resumed after a restart keeps its count). */
  attemptOffset: number;
  /** The bot's USER_MAX_RUNNING_JOBS: workers claim one of the user's running slots before starting. */
  maxRunningPerUser?: number;
}

export interface BullmqQueueOptions<P> {
  redisUrl: string;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  prefix: string;
  lanes: readonly string[];
  laneOf(payload: P): string;
  /** BullMQ job name, shown in dashboards (e.g. the tasks of the job). */
  jobName?(payload: P): string;
  maxActivePerUser: number;
  /** Jobs of one user running at once across every worker (enforced by the workers); unset = no limit. */
  maxRunningPerUser?: number;
  maxAttempts: number;
  /** First retry delay; BullMQ's exponential backoff doubles it with each attempt. */
  backoffMs: number;
  timeoutMs: number;
  logger?: Logger;
  /** How long finished jobs stay in Redis, so a restarted bot can still collect their result. */
  keepFinishedSeconds?: number;
}

interface Tracked {
  userId: string;
  lane: string;
  seq: number;
  priority: number;
  /** `fetched`: a worker took it but has not started it (it may still hand it back). */
  state: 'waiting' | 'fetched' | 'running';
  attemptOffset: number;
  /** Failed attempts BullMQ has counted so far (its attemptsMade). */
  failures: number;
  /** With a running limit: whether a pre-claim holds the user's slot for this job (`pending`: one is on its way). */
  preclaim?: 'pending' | 'held';
}

/**
 * The progress a worker reports once a job has really run a little (BullMQ's "active" also fires for a job handed
 * back); a progress report or the completion, whichever comes first, says the same (bullmq-worker.ts).
 */
export const STARTED_PROGRESS = { vitron: 'started' } as const;

function isStartedMark(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { vitron?: unknown }).vitron === STARTED_PROGRESS.vitron;
}

/** A waiting job gets an ended job's slot passed on only with more jobs than this ahead of it in its lane. */
export const PASS_ON_MIN_POSITION = 10;

const WAITING_STATES = new Set(['waiting', 'wait', 'prioritized', 'delayed', 'paused', 'waiting-children']);

/**
 * The JobQueue on BullMQ: one BullMQ queue per lane, our job id as BullMQ's (adding it twice runs it
 * once), retries with exponential backoff, and per-user fairness through priorities: a job's priority is
 * 1 + the jobs its user already has, so a user's 20th job waits behind another user's first.
 *
 * Events come from a QueueEvents per lane and are turned into QueueEvents of ours for the jobs this
 * process enqueued (or adopted at start-up). The synchronous `position`/`activeJobsOf`/`stats` answer
 * from that local bookkeeping, which is exact as long as one bot process enqueues (see docs/deploy.md).
 */
export class BullmqJobQueue<P, R> implements JobQueue<P, R> {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly events: QueueEvents[] = [];
  private readonly tracked = new Map<string, Tracked>();
  /** Each user's tracked jobs, so the per-user limit is checked without a scan of every job. */
  private readonly byUser = new Map<string, Set<string>>();
  private readonly listeners = new Set<(event: QueueEvent<R>) => void>();
  private readonly redis: Redis;
  /** Passes an ended job's slot on, or gives back the slot of a job no worker will end. */
  private readonly slots: UserRunningSlots;
  /** Per lane, the pre-claim script on that lane's Queue connection (sent right behind the add, on the same socket). */
  private readonly preclaimers = new Map<string, UserRunningSlots>();
  /** The Queues' command connections (BullMQ leaves a client it was given open: closed here). */
  private readonly queueClients: CoalescingRedis[] = [];
  private seq = 0;
  /** Queue events are handled one at a time, in stream order: a retry's bookkeeping never overtakes the next start. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: BullmqQueueOptions<P>) {
    const connection = bullConnection(options.redisUrl);
    for (const lane of options.lanes) {
      const name = queueNameOf(lane);
      const client = bullCommandClient(options.redisUrl, options.logger, `queue ${lane}`);
      this.queueClients.push(client);
      this.preclaimers.set(lane, new UserRunningSlots(client, { prefix: options.prefix, claimTtlMs: 60_000 }));
      const queue = new Queue(name, { connection: client, prefix: options.prefix });
      queue.on('error', throttledErrorLog(options.logger, 'BullMQ queue connection error', { lane }));
      this.queues.set(lane, queue);
      const events = new QueueEvents(name, { connection, prefix: options.prefix });
      this.listen(events);
      this.events.push(events);
    }
    this.redis = redisClient(options.redisUrl, options.logger, 'queue commands');
    // The ttl of a worker's running claim does not apply to the bot, which only pre-claims and gives back.
    this.slots = new UserRunningSlots(this.redis, { prefix: options.prefix, claimTtlMs: 60_000 });
  }

  /** Resolves once every lane's event stream is being read (events before that would be missed). */
  async ready(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.waitUntilReady()));
    await Promise.all(this.events.map((e) => e.waitUntilReady()));
  }

  async enqueue(spec: JobSpec<P>): Promise<{ position: number }> {
    if (this.tracked.has(spec.id)) return { position: this.position(spec.id) ?? 0 };
    const lane = this.options.laneOf(spec.payload);
    const queue = this.queueOf(lane);
    // A resumed job may already be in Redis, admitted once: following it is not subject to the limit again.
    // A fresh id cannot be there; were it added twice anyway, BullMQ keeps the first (same job id).
    if (spec.resumed) {
      const existing = await queue.getJob(spec.id);
      if (existing) return this.adopt(existing, spec, lane);
    }
    const active = this.activeJobsOf(spec.userId);
    if (active.length >= this.options.maxActivePerUser) {
      throw new LimitReachedError(
        `You already have ${active.length} jobs waiting or running (the limit is ${this.options.maxActivePerUser}). Wait for one to finish, or cancel one.`,
        { active: active.length, limit: this.options.maxActivePerUser },
      );
    }

    const attemptOffset = spec.attemptsMade ?? 0;
    const priority = 1 + active.length;
    // Tracked before the add: the job's first events can arrive before add() resolves.
    this.track(spec.id, { userId: spec.userId, lane, seq: this.seq++, priority, state: 'waiting', attemptOffset, failures: 0 });
    const limit = this.options.maxRunningPerUser;
    const data: BullJobData<P> = {
      // First, so that the pre-claim can mark it without parsing the data (UNCLAIMED_DATA_START).
      ...(limit === undefined ? {} : { preclaimed: false }),
      userId: spec.userId,
      conversationId: spec.conversationId,
      payload: spec.payload,
      timeoutMs: this.options.timeoutMs,
      attemptOffset,
    };
    if (limit !== undefined) data.maxRunningPerUser = limit;
    const keep = this.options.keepFinishedSeconds ?? 24 * 3600;
    const name = this.options.jobName?.(spec.payload) ?? 'job';
    const opts: JobsOptions = {
      jobId: spec.id,
      priority,
      attempts: Math.max(1, this.options.maxAttempts - attemptOffset),
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      removeOnComplete: { age: keep },
      removeOnFail: { age: keep },
    };
    try {
      // With as many of the user's jobs in flight as the limit, their slots are taken (an ended one is passed on):
      // a pre-claim would only be refused, so the job is added alone and its worker claims.
      if (limit === undefined || active.length >= limit) await queue.add(name, data, opts);
      else await this.addWithPreclaim(queue, lane, name, data, opts, spec.userId, limit);
    } catch (error) {
      this.untrack(spec.id);
      throw error;
    }
    const position = this.position(spec.id) ?? 0;
    this.emit({ type: 'queued', jobId: spec.id, position });
    return { position };
  }

  /**
   * Adds the job with a pre-claim right behind it on the same connection (one write, one round trip): Redis runs the
   * pre-claim before any worker can fetch the job, so when the user has a slot free it is taken and the job
   * marked, and the worker starts the job without a claim of its own. That takes a round trip out of every
   * worker's turnover between jobs; the enqueue waits for nothing more than the add. A pre-claim that fails
   * (a script error) only costs the worker its own claim.
   */
  private async addWithPreclaim(
    queue: Queue,
    lane: string,
    name: string,
    data: BullJobData<P>,
    opts: JobsOptions,
    userId: string,
    limit: number,
  ): Promise<void> {
    const jobId = opts.jobId!;
    const client = await queue.backend.client;
    // Job.addJob sends the add before it first awaits (BullMQ's own addBulk relies on the same), so the
    // pre-claim sent next on the same connection reaches Redis right behind it, in the same write.
    const added = new Job(queue, name, data, opts, jobId).addJob(client as never);
    const preclaimed = this.preclaimers.get(lane)!.preclaim({ prioritized: queue.keys.prioritized!, job: queue.toKey(jobId) }, userId, jobId, limit);
    const tracked = this.tracked.get(jobId);
    if (tracked) tracked.preclaim = 'pending';
    const [, taken] = await Promise.all([
      added,
      preclaimed.catch((error: unknown) => {
        this.options.logger?.warn({ err: error, jobId }, 'could not pre-claim a running slot; the worker claims one');
        return false;
      }),
    ]);
    if (tracked?.preclaim === 'pending') tracked.preclaim = taken ? 'held' : undefined;
  }

  /**
   * A job of the user's ended: its slot passes to the user's oldest waiting job that holds none, in one command
   * (which gives the ended job's slot back first), so that job's worker need not claim either. With no such job,
   * the slot is given back here only where no worker gives it back (`byWorker` false: removed while waiting,
   * failed by BullMQ itself after too many stalls).
   */
  private passSlotOn(userId: string, endedJobId: string, byWorker: boolean): void {
    const limit = this.options.maxRunningPerUser;
    if (limit === undefined) return;
    const candidate = this.oldestWaitingWithoutSlot(userId);
    // A job with few jobs ahead of it is usually fetched before this bot hears of the end (the worker's finish
    // fetches the next job in the same script): passing the slot on would be a command wasted.
    const next = candidate && (this.position(candidate[0]) ?? 0) > PASS_ON_MIN_POSITION ? candidate : undefined;
    const warn = (error: unknown) => this.options.logger?.warn({ err: error, jobId: endedJobId }, 'could not pass on a running slot; it expires by itself');
    if (!next) {
      if (!byWorker) this.slots.releaseNow(userId, endedJobId).catch(warn);
      return;
    }
    const [nextId, t] = next;
    const queue = this.queueOf(t.lane);
    t.preclaim = 'pending';
    this.slots.preclaim({ prioritized: queue.keys.prioritized!, job: queue.toKey(nextId) }, userId, nextId, limit, endedJobId).then(
      (taken) => {
        if (t.preclaim === 'pending') t.preclaim = taken ? 'held' : undefined;
      },
      (error: unknown) => {
        if (t.preclaim === 'pending') t.preclaim = undefined;
        warn(error);
      },
    );
  }

  private oldestWaitingWithoutSlot(userId: string): [string, Tracked] | undefined {
    let oldest: [string, Tracked] | undefined;
    for (const jobId of this.byUser.get(userId) ?? []) {
      const t = this.tracked.get(jobId);
      if (t?.state !== 'waiting' || t.preclaim !== undefined) continue;
      if (!oldest || t.seq < oldest[1].seq) oldest = [jobId, t];
    }
    return oldest;
  }

  /**
   * The job is already in Redis (a chat event delivered twice, or a bot restarted while its job ran
   * elsewhere): follow it instead of adding it again, and report an end that came while nobody listened.
   */
  private async adopt(job: Job, spec: JobSpec<P>, lane: string): Promise<{ position: number }> {
    const state = await job.getState();
    const data = job.data as BullJobData<P>;
    const attemptOffset = data.attemptOffset ?? 0;
    const attempt = attemptOffset + job.attemptsMade + (state === 'completed' || state === 'failed' ? 0 : 1);
    if (state === 'completed') {
      this.emit({ type: 'completed', jobId: spec.id, result: job.returnvalue as R, attempt });
      return { position: 0 };
    }
    if (state === 'failed') {
      this.emitFailure(spec.id, job.failedReason, attempt, job.stalledCounter);
      return { position: 0 };
    }
    const running = state === 'active';
    this.track(spec.id, {
      userId: spec.userId,
      lane,
      seq: this.seq++,
      priority: job.opts.priority ?? 1,
      state: running ? 'running' : 'waiting',
      attemptOffset,
      failures: job.attemptsMade,
      // A job marked by a pre-claim before this bot started holds its slot; passing one on to it would be wasted.
      ...(data.preclaimed === true ? { preclaim: 'held' as const } : {}),
    });
    if (running) this.emit({ type: 'started', jobId: spec.id, attempt });
    else this.emit({ type: 'queued', jobId: spec.id, position: this.position(spec.id) ?? 0 });
    return { position: this.position(spec.id) ?? 0 };
  }

  async cancel(jobId: string): Promise<boolean> {
    const lanes = this.tracked.has(jobId) ? [this.tracked.get(jobId)!.lane] : [...this.queues.keys()];
    for (const lane of lanes) {
      const job = await this.queueOf(lane).getJob(jobId);
      if (!job) continue;
      const state = await job.getState();
      if (WAITING_STATES.has(state)) {
        try {
          await job.remove();
          const userId = this.tracked.get(jobId)?.userId ?? (job.data as BullJobData<P>).userId;
          this.untrack(jobId);
          this.passSlotOn(userId, jobId, false);
          this.emit({ type: 'cancelled', jobId });
          return true;
        } catch {
          // A worker took it between getState and remove: stop it where it runs, below.
        }
      } else if (state !== 'active') {
        return false;
      }
      // The key catches a worker that has fetched the job but not started it; the message stops a running one.
      await this.redis.set(cancelKey(this.options.prefix, jobId), '1', 'EX', 24 * 3600);
      await this.redis.publish(cancelChannel(this.options.prefix), jobId);
      return true;
    }
    return false;
  }

  /** Estimated place in this lane: jobs of lower priority number, or equal and older, go first. */
  position(jobId: string): number | undefined {
    const mine = this.tracked.get(jobId);
    if (!mine) return undefined;
    if (mine.state === 'running') return 0;
    let ahead = 0;
    for (const other of this.tracked.values()) {
      if (other === mine || other.lane !== mine.lane || other.state !== 'waiting') continue;
      if (other.priority < mine.priority || (other.priority === mine.priority && other.seq < mine.seq)) ahead++;
    }
    return ahead + 1;
  }

  activeJobsOf(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  private track(jobId: string, t: Tracked): void {
    this.tracked.set(jobId, t);
    const jobs = this.byUser.get(t.userId) ?? new Set();
    this.byUser.set(t.userId, jobs);
    jobs.add(jobId);
  }

  private untrack(jobId: string): void {
    const t = this.tracked.get(jobId);
    if (!t) return;
    this.tracked.delete(jobId);
    const jobs = this.byUser.get(t.userId);
    jobs?.delete(jobId);
    if (jobs?.size === 0) this.byUser.delete(t.userId);
  }

  /** Jobs per lane and state in Redis, for metrics: every bot's and worker's jobs, not only this process's. */
  laneCounts(): Promise<LaneCount[]> {
    return laneCounts(this.queues);
  }

  subscribe(listener: (event: QueueEvent<R>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): QueueStats {
    let running = 0;
    for (const t of this.tracked.values()) if (t.state === 'running') running++;
    return { queued: this.tracked.size - running, running };
  }

  /** Stops listening; the jobs stay in Redis and keep running on the workers. */
  async close(): Promise<void> {
    const failures: unknown[] = [];
    const steps = [
      ...this.events.map((e) => () => e.close()),
      ...[...this.queues.values()].map((q) => () => q.close()),
      ...this.queueClients.map((c) => () => c.quit()),
      () => this.chain,
      () => this.redis.quit(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
        this.options.logger?.error({ err: error }, 'closing the BullMQ queue: a step failed');
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'closing the BullMQ queue finished with errors');
  }

  private queueOf(lane: string): Queue {
    const queue = this.queues.get(lane);
    if (!queue) throw new Error(`no BullMQ queue for lane "${lane}" (lanes: ${[...this.queues.keys()].join(', ')})`);
    return queue;
  }

  private listen(events: QueueEvents): void {
    const handle = (name: string, work: () => Promise<void> | void) => {
      this.chain = this.chain.then(work).catch((error: unknown) => this.options.logger?.error({ err: error, event: name }, 'handling a BullMQ event failed'));
    };
    events.on('active', ({ jobId }) => handle('active', () => this.onActive(jobId)));
    events.on('progress', ({ jobId, data }) => handle('progress', () => this.onProgress(jobId, data)));
    events.on('delayed', ({ jobId, delay }) => handle('delayed', () => this.onBackToWaiting(events.name, jobId, Number(delay))));
    events.on('waiting', ({ jobId, prev }) => {
      if (prev === 'active') handle('waiting', () => this.onBackToWaiting(events.name, jobId, Date.now()));
    });
    events.on('completed', ({ jobId, returnvalue }) => handle('completed', () => this.onCompleted(jobId, returnvalue as unknown as R)));
    events.on('failed', ({ jobId, failedReason }) => handle('failed', () => this.onFailed(jobId, failedReason)));
    events.on('stalled', ({ jobId }) => {
      if (this.tracked.has(jobId)) this.options.logger?.warn({ jobId }, 'job stalled (its worker stopped renewing the lock); it goes back to the queue');
    });
    events.on('error', throttledErrorLog(this.options.logger, 'BullMQ queue events failed', { queue: events.name }));
  }

  private onActive(jobId: string): void {
    const t = this.tracked.get(jobId);
    if (t && t.state === 'waiting') t.state = 'fetched';
  }

  private onProgress(jobId: string, data: unknown): void {
    const t = this.tracked.get(jobId);
    if (!t || typeof data !== 'object' || data === null) return;
    // The start mark, or a progress report whose mark was missed: either way the job runs now.
    if (t.state !== 'running' && (isStartedMark(data) || 'fraction' in data)) {
      t.state = 'running';
      this.emit({ type: 'started', jobId, attempt: t.attemptOffset + t.failures + 1 });
    }
    if ('fraction' in data) this.emit({ type: 'progress', jobId, progress: data as JobProgress });
  }

  /**
   * A running job went back to waiting: a retry (BullMQ counted a failed attempt), a stall, or a worker
   * handing it back. Only a retry is news for the conversation.
   */
  private async onBackToWaiting(queueName: string, jobId: string, until: number): Promise<void> {
    const t = this.tracked.get(jobId);
    if (!t || t.state === 'waiting') return;
    const wasRunning = t.state === 'running';
    t.state = 'waiting';
    // Handed back before it started (another worker's turn, a user at their running limit): nothing to say.
    if (!wasRunning) return;
    const job = await this.queueOf(t.lane).getJob(jobId);
    if (!job || job.attemptsMade <= t.failures) return;
    // One trip back to waiting is one failed attempt. attemptsMade may already count a later attempt
    // (the retry can start and even finish before this read under load), so never copy it.
    t.failures += 1;
    const error = decodeJobError(job.failedReason);
    this.options.logger?.debug({ jobId, queue: queueName }, 'job will be retried');
    this.emit({ type: 'retrying', jobId, attempt: t.attemptOffset + t.failures, error, delayMs: Math.max(0, until - Date.now()) });
  }

  private onCompleted(jobId: string, result: R): void {
    const t = this.tracked.get(jobId);
    if (!t) return;
    this.untrack(jobId);
    this.passSlotOn(t.userId, jobId, true);
    const attempt = t.attemptOffset + t.failures + 1;
    // A job that ends sooner than its worker's start report (START_REPORT_AFTER_MS) sends none: it ran all the same.
    if (t.state !== 'running') this.emit({ type: 'started', jobId, attempt });
    this.emit({ type: 'completed', jobId, result, attempt });
  }

  private async onFailed(jobId: string, failedReason: string): Promise<void> {
    const t = this.tracked.get(jobId);
    if (!t) return;
    this.untrack(jobId);
    void this.redis.del(cancelKey(this.options.prefix, jobId)).catch(() => {});
    // The worker gives its slot back when the job fails there; not when BullMQ fails it (too many stalls).
    this.passSlotOn(t.userId, jobId, false);
    // BullMQ's stalled-limit reason does not say how many workers the job took down; the job does.
    const stalls =
      failedReason === BULLMQ_STALLED_LIMIT_REASON
        ? (
            await this.queueOf(t.lane)
              .getJob(jobId)
              .catch(() => undefined)
          )?.stalledCounter
        : undefined;
    this.emitFailure(jobId, failedReason, t.attemptOffset + t.failures + 1, stalls);
  }

  private emitFailure(jobId: string, failedReason: string | undefined, attempt: number, stalls?: number): void {
    const error = decodeJobError(failedReason, stalls === undefined ? {} : { stalls });
    if (error instanceof JobCancelledError) this.emit({ type: 'cancelled', jobId });
    else this.emit({ type: 'failed', jobId, error, attempt });
  }

  private emit(event: QueueEvent<R>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break the queue or the other listeners.
      }
    }
  }
}
