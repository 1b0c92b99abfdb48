import os from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { JobCancelledError, JobInterruptedError, JobTimeoutError, asVitronError } from '../errors.ts';
import type { BullJobData } from '../queue/bullmq-queue.ts';
import { encodeJobError } from '../queue/job-error-codec.ts';
import type { JobProcessor } from '../queue/job-queue.ts';
import { queueNameOf } from '../queue/lanes.ts';
import { bullCommandClient, cancelChannel, cancelKey, redisClient, throttledErrorLog, type CoalescingRedis } from '../queue/redis-setup.ts';
import { PRECLAIM_TRUSTED_MS, UserRunningSlots, type RunningSlot } from '../queue/user-running-slots.ts';
import { STARTED_PROGRESS } from '../queue/bullmq-queue.ts';
import type { JobTracker } from '../metrics/job-tracker.ts';
import type { MemoryBudget } from './memory-budget.ts';

export interface LaneWorkersOptions<P, R> {
  redisUrl: string;
  prefix: string;
  lanes: readonly string[];
  /** Jobs run at once per lane. */
  concurrency: number;
  /** Runs one job of a lane (production: an InferencePool per lane; tests: their own). */
  processorFor(lane: string): JobProcessor<P, R>;
  /** False hands the job back to the queue for another worker, without spending an attempt. */
  canRun?(payload: P): boolean;
  /** How long a handed-back job waits before any worker may take it again. */
  handBackDelayMs?: number;
  /** How long a job's lock lives without renewal; a killed worker's job is taken again after about this long. */
  lockDurationMs?: number;
  /** How many times a job may lose its worker (a crash) before it fails. */
  maxStalledCount?: number;
  /** How long a graceful stop waits for running jobs before it hands them back. */
  shutdownGraceMs?: number;
  /** WORKER_MEMORY_BUDGET_MB: over it, this worker hands new jobs back while one of its jobs runs. */
  memoryBudget?: MemoryBudget;
  /** Job durations and outcomes per task, for this worker's /metrics. */
  metrics?: { jobs: JobTracker; taskOf(payload: P): string };
  logger?: Logger;
}

/**
 * How long a job runs before its worker tells the bot that it started. BullMQ's "active" also fires for a job
 * a worker hands back, so the bot waits for this report (or the first progress, or the completion) to say
 * "running"; sending it at once cost a Redis write per job that a short job's completion makes redundant.
 */
export const START_REPORT_AFTER_MS = 250;

/**
 * The start report of one job (STARTED_PROGRESS): armed when the processor is called, sent once the job
 * has run START_REPORT_AFTER_MS, and never sent when a progress report or the end comes first.
 */
class StartReport {
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly job: Job,
    private readonly log: () => Logger | undefined,
  ) {}

  arm(): void {
    if (this.done || this.timer) return;
    // Not awaited by the job: a report lost to a Redis hiccup is only news.
    this.timer = setTimeout(() => void this.sendNowIfArmed(), START_REPORT_AFTER_MS);
  }

  /** Sends the report now if it was armed and has not gone out or been superseded. */
  async sendNowIfArmed(): Promise<void> {
    if (this.done || !this.timer) return;
    this.superseded();
    await this.job.updateProgress(STARTED_PROGRESS).catch((error: unknown) => this.log()?.warn({ err: error }, 'could not report the start'));
  }

  superseded(): void {
    this.done = true;
    clearTimeout(this.timer);
  }
}

/** Why a job was handed back instead of run here. */
type Refusal = { reason: string; delayMs: number };

const AT_USER_LIMIT: Refusal = { reason: 'the user already runs their limit of jobs', delayMs: 500 };

/**
 * BullMQ workers, one per lane, that run jobs through our processor: progress goes to BullMQ, bad input
 * fails at once (UnrecoverableError), transient faults are thrown for BullMQ to retry with backoff,
 * cancels arrive over Redis pub/sub from whichever bot asked, and the job's timeout is enforced here.
 */
export class LaneWorkers<P, R> {
  private readonly workers: Worker[] = [];
  /** The Workers' command connections (BullMQ leaves a client it was given open: quit after the Workers close). */
  private readonly workerClients: CoalescingRedis[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly slots: UserRunningSlots;
  /** Cancels heard for jobs not running here (yet): a job being admitted checks them once it is registered. */
  private readonly heardCancels = new Map<string, number>();
  private closing: Promise<void> | undefined;

  private constructor(private readonly options: LaneWorkersOptions<P, R>) {
    this.redis = redisClient(options.redisUrl, options.logger, 'worker commands');
    this.subscriber = redisClient(options.redisUrl, options.logger, 'worker cancel subscription');
    // A killed worker's slot frees after two lock lifetimes: about when its job is taken over as stalled.
    this.slots = new UserRunningSlots(this.redis, { prefix: options.prefix, claimTtlMs: 2 * (options.lockDurationMs ?? 30_000) });
  }

  static async start<P, R>(options: LaneWorkersOptions<P, R>): Promise<LaneWorkers<P, R>> {
    const self = new LaneWorkers(options);
    await self.subscriber.subscribe(cancelChannel(options.prefix));
    self.subscriber.on('message', (_channel: string, jobId: string) => self.onCancelMessage(jobId));
    const lockDuration = options.lockDurationMs ?? 30_000;
    for (const lane of options.lanes) {
      const processor = options.processorFor(lane);
      // Two parameters, not three: BullMQ then makes no AbortController per job. Its signal only fires for
      // Worker.cancelJob, which we never call; our cancels come over pub/sub to our own controller.
      const client = bullCommandClient(options.redisUrl, options.logger, `worker ${lane}`);
      self.workerClients.push(client);
      const worker = new Worker(queueNameOf(lane), (job: Job, token?: string) => self.process(processor, job, token), {
        connection: client,
        prefix: options.prefix,
        concurrency: options.concurrency,
        lockDuration,
        stalledInterval: lockDuration,
        maxStalledCount: options.maxStalledCount ?? 1,
        // Shown by the admin overview and Bull Board: which machine and process runs which job.
        name: `${os.hostname()}:${process.pid}:${lane}`,
      });
      worker.on('error', throttledErrorLog(options.logger, 'BullMQ worker error', { lane }));
      self.workers.push(worker);
    }
    await Promise.all(self.workers.map((w) => w.waitUntilReady()));
    return self;
  }

  private onCancelMessage(jobId: string): void {
    const running = this.running.get(jobId);
    if (running) {
      running.abort(new JobCancelledError());
      return;
    }
    const now = Date.now();
    for (const [id, at] of this.heardCancels) if (now - at > 60_000) this.heardCancels.delete(id);
    this.heardCancels.set(jobId, now);
  }

  /** Jobs running here now. */
  get runningJobs(): string[] {
    return [...this.running.keys()];
  }

  private async process(processor: JobProcessor<P, R>, job: Job, token: string | undefined): Promise<R> {
    const data = job.data as BullJobData<P>;
    const jobId = job.id!;
    // Made only when something is logged: most jobs log nothing, and a child logger per job is not free.
    let child: Logger | undefined;
    const log = () => (child ??= this.options.logger?.child({ jobId }));
    const admission = await this.admit(data, job);
    if ('refusal' in admission) {
      log()?.debug({ reason: admission.refusal.reason }, 'not running this job here now; handing it back');
      return this.handBack(job, token, admission.refusal.delayMs);
    }
    const slot = admission.slot;
    const controller = new AbortController();
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    this.running.set(jobId, controller);
    const metrics = this.options.metrics;
    metrics?.jobs.started(jobId, metrics.taskOf(data.payload));
    const timer = setTimeout(() => abort(new JobTimeoutError(Math.round(data.timeoutMs / 1000))), data.timeoutMs);
    const start = new StartReport(job, log);
    try {
      // A cancel that came before this worker listened for the job (the key), or while it was admitted: the job
      // ends cancelled here, and its processor is never called.
      if (admission.cancelled || this.heardCancels.delete(jobId)) throw new JobCancelledError();
      start.arm();
      const result = await processor({
        id: jobId,
        userId: data.userId,
        conversationId: data.conversationId,
        payload: data.payload,
        attempt: (data.attemptOffset ?? 0) + job.attemptsMade + 1,
        signal: controller.signal,
        progress: (progress) => {
          if (controller.signal.aborted) return;
          // A progress report tells the bot the job runs as well as the start report would.
          start.superseded();
          job.updateProgress(progress).catch((error: unknown) => log()?.warn({ err: error }, 'could not report progress'));
        },
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      // Completed before the report was due: the bot counts a completion as a start, so none is sent.
      start.superseded();
      metrics?.jobs.succeeded(jobId);
      return result;
    } catch (thrown) {
      const error = asVitronError(controller.signal.aborted ? controller.signal.reason : thrown);
      // Our own stop: another worker takes the job, and the attempt is not counted against it.
      if (error instanceof JobInterruptedError) {
        start.superseded();
        metrics?.jobs.forget(jobId);
        return this.handBack(job, token, 0);
      }
      // A job that ran and failed has started, for the bot too (a retry is only news after a start): the report
      // goes out before the failure, so it is read first.
      await start.sendNowIfArmed();
      if (error instanceof JobCancelledError) metrics?.jobs.cancelled(jobId);
      else if (!error.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) metrics?.jobs.failed(jobId, error.code);
      else metrics?.jobs.retrying(jobId);
      if (!error.retryable) throw new UnrecoverableError(encodeJobError(error));
      log()?.warn({ err: error, attempt: job.attemptsMade + 1 }, 'job failed with a transient fault; BullMQ retries it');
      throw new Error(encodeJobError(error));
    } finally {
      clearTimeout(timer);
      start.superseded();
      this.running.delete(jobId);
      // Not awaited: the job's end need not wait for the slot's; a release lost to a hiccup expires by itself.
      slot?.release().catch((error: unknown) => log()?.warn({ err: error }, 'could not release the user running slot; it expires by itself'));
    }
  }

  /**
   * Whether this worker runs the job now: it can run the task, it has memory to spare, and the user has
   * a running slot free across the fleet (USER_MAX_RUNNING_JOBS). A refused job goes back to the queue
   * without spending an attempt.
   *
   * A first attempt whose slot the bot pre-claimed while it waited (BullJobData.preclaimed) starts without a
   * claim; a later attempt claims again, since its earlier attempt gave the slot back when it ended.
   *
   * A cancel reaches a running job over pub/sub (this worker subscribes before it takes any job, and
   * remembers cancels heard for jobs it is still admitting). The cancel key is read only for a job started
   * before, elsewhere or here: a cancel published while its first worker was dying is in the key alone.
   * Both reads share one round trip.
   */
  private async admit(data: BullJobData<P>, job: Job): Promise<{ refusal: Refusal } | { slot?: RunningSlot; cancelled: boolean }> {
    const handBackDelayMs = this.options.handBackDelayMs ?? 1000;
    if (this.options.canRun && !this.options.canRun(data.payload)) return { refusal: { reason: 'cannot run this task here', delayMs: handBackDelayMs } };
    const budget = this.options.memoryBudget?.check(this.running.size);
    if (budget && !budget.admit) return { refusal: { reason: `over the memory budget (${budget.rssMb} MiB in use)`, delayMs: handBackDelayMs } };
    if (budget?.overWhileIdle)
      this.options.logger?.warn(
        { rssMb: budget.rssMb },
        'over WORKER_MEMORY_BUDGET_MB with no job running: the loaded models alone exceed it; running the job anyway',
      );
    const limit = data.maxRunningPerUser;
    const checkKey = (job.attemptsStarted ?? 0) > 1;
    if (!checkKey) {
      if (limit === undefined) return { cancelled: false };
      // The bot's pre-claim already holds the slot for this first attempt: no round trip before the job.
      if (data.preclaimed === true && Date.now() - job.timestamp < PRECLAIM_TRUSTED_MS)
        return { slot: this.slots.held(data.userId, job.id!), cancelled: false };
      if (!(await this.slots.claim(data.userId, job.id!, limit))) return { refusal: AT_USER_LIMIT };
      return { slot: this.slots.held(data.userId, job.id!), cancelled: false };
    }
    // A job started before: its cancel key is read, and a claim (if any) rides in the same round trip.
    const pipeline = this.redis.pipeline();
    pipeline.exists(cancelKey(this.options.prefix, job.id!));
    const settleReleases = limit === undefined ? undefined : this.slots.queueClaim(pipeline, data.userId, job.id!, limit);
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (error) {
      settleReleases?.(error);
      throw error;
    }
    settleReleases?.(replies.at(-1)?.[0] ?? undefined);
    for (const [error] of replies) if (error) throw error;
    const cancelled = replies[0]?.[1] === 1;
    if (limit === undefined) return { cancelled };
    if (replies[1]?.[1] !== 1) return { refusal: AT_USER_LIMIT };
    return { slot: this.slots.held(data.userId, job.id!), cancelled };
  }

  private async handBack(job: Job, token: string | undefined, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  /**
   * Graceful stop: running jobs get `shutdownGraceMs` to finish, then are handed back to the queue.
   * Every step runs even when one fails; the failures are reported together.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = [];
      const run = async (step: () => Promise<unknown>) => {
        try {
          await step();
        } catch (error) {
          failures.push(error);
          this.options.logger?.error({ err: error }, 'worker shutdown step failed');
        }
      };
      const closed = Promise.allSettled(this.workers.map((w) => w.close()));
      const grace = this.options.shutdownGraceMs ?? 20_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
      clearTimeout(timer);
      if (timedOut) {
        this.options.logger?.warn({ jobs: this.runningJobs }, 'jobs still running at shutdown; handing them back to the queue');
        for (const controller of this.running.values()) controller.abort(new JobInterruptedError());
      }
      for (const result of await closed) if (result.status === 'rejected') failures.push(result.reason);
      // Released slots still waiting to ride along with a claim: there will be no next claim.
      await run(() => this.slots.flush());
      for (const client of this.workerClients) await run(() => client.quit());
      await run(() => this.subscriber.quit());
      await run(() => this.redis.quit());
      if (failures.length > 0) throw new AggregateError(failures, 'worker shutdown finished with errors');
    })();
    return this.closing;
  }
}
