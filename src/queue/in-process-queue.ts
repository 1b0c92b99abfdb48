import { JobCancelledError, JobInterruptedError, JobTimeoutError, LimitReachedError, asVitronError } from '../errors.ts';
import type { JobProcessor, JobQueue, JobSpec, QueueEvent, QueueStats } from './job-queue.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface InProcessQueueOptions<P = unknown> {
  /** Jobs running at once over all users (the inference pool's size). */
  concurrency: number;
  maxRunningPerUser: number;
  /** Waiting + running jobs one user may have. */
  maxActivePerUser: number;
  maxAttempts: number;
  /** First retry delay; doubles with each attempt. */
  backoffMs: number;
  timeoutMs: number;
  /** Injected so that tests drive retries and timeouts without sleeping. */
  timers?: Timers;
  /**
   * Jobs whose work an endpoint does (a vision chat server): they wait on the network, not on an inference
   * thread, so they get slots of their own and neither hold nor wait for the `concurrency` slots.
   */
  offThread?: { is(payload: P): boolean; concurrency: number };
}

interface Entry<P> {
  spec: JobSpec<P>;
  seq: number;
  attempt: number;
  controller?: AbortController;
  timeout?: unknown;
  retryTimer?: unknown;
  cancelled: boolean;
  /** Runs in an off-thread slot (see InProcessQueueOptions.offThread). */
  offThread: boolean;
}

/**
 * The default queue: jobs run in this process (their inference in worker threads, see worker/). It has
 * what the BullMQ queue has: progress events, cancellation, timeouts, retries with backoff for transient
 * faults only, and per-user limits. Scheduling is fair: the next job comes from the user with the fewest
 * running jobs, oldest first, so one user's twenty jobs never starve the next user's one.
 */
export class InProcessQueue<P, R> implements JobQueue<P, R> {
  readonly kind = 'in-process' as const;
  /** Waiting jobs per user, oldest first; a Map keeps users in arrival order. */
  private readonly waiting = new Map<string, Entry<P>[]>();
  private waitingCount = 0;
  private readonly runningPerUser = new Map<string, number>();
  private readonly running = new Map<string, Entry<P>>();
  private readonly delayed = new Map<string, Entry<P>>();
  private readonly listeners = new Set<(event: QueueEvent<R>) => void>();
  private readonly timers: Timers;
  private seq = 0;
  /** When each user last got a slot (a counter, not a clock): ties go to the least recently served. */
  private readonly lastServed = new Map<string, number>();
  private served = 0;
  private closed = false;
  private readonly settled = new Map<string, Promise<void>>();

  constructor(
    private readonly processor: JobProcessor<P, R>,
    private readonly options: InProcessQueueOptions<P>,
  ) {
    this.timers = options.timers ?? realTimers;
  }

  async enqueue(spec: JobSpec<P>): Promise<{ position: number }> {
    if (this.closed) throw new JobInterruptedError();
    const active = this.activeJobsOf(spec.userId);
    if (active.length >= this.options.maxActivePerUser) {
      throw new LimitReachedError(
        `You already have ${active.length} jobs waiting or running (the limit is ${this.options.maxActivePerUser}). Wait for one to finish, or cancel one.`,
        { active: active.length, limit: this.options.maxActivePerUser },
      );
    }
    const entry: Entry<P> = {
      spec,
      seq: this.seq++,
      attempt: spec.attemptsMade ?? 0,
      cancelled: false,
      offThread: this.options.offThread?.is(spec.payload) ?? false,
    };
    this.addWaiting(entry);
    const position = this.position(spec.id) ?? 0;
    this.emit({ type: 'queued', jobId: spec.id, position });
    this.pump();
    return { position: this.position(spec.id) ?? 0 };
  }

  async cancel(jobId: string): Promise<boolean> {
    const found = this.findWaiting(jobId);
    if (found) {
      this.removeWaiting(found.entry);
      this.emit({ type: 'cancelled', jobId });
      return true;
    }
    const delayed = this.delayed.get(jobId);
    if (delayed) {
      this.timers.clearTimeout(delayed.retryTimer);
      this.delayed.delete(jobId);
      this.emit({ type: 'cancelled', jobId });
      return true;
    }
    const running = this.running.get(jobId);
    if (running && !running.cancelled) {
      running.cancelled = true;
      running.controller?.abort(new JobCancelledError());
      return true;
    }
    return false;
  }

  /**
   * Place in line under fair scheduling: before this user's k-th waiting job, every other user gets up
   * to k turns (one more if they come first in the rotation). O(users), so asking is cheap.
   */
  position(jobId: string): number | undefined {
    if (this.running.has(jobId)) return 0;
    const found = this.findWaiting(jobId);
    if (!found) return this.delayed.has(jobId) ? this.waitingCount + 1 : undefined;
    const k = found.index;
    const mine = this.rank(found.entry.spec.userId);
    const myHead = this.waiting.get(found.entry.spec.userId)![0]!.seq;
    let ahead = k;
    for (const [userId, list] of this.waiting) {
      if (userId === found.entry.spec.userId) continue;
      const order = compareRank(this.rank(userId), mine);
      const first = order < 0 || (order === 0 && list[0]!.seq < myHead) ? 1 : 0;
      ahead += Math.min(list.length, k + first);
    }
    return ahead + 1;
  }

  activeJobsOf(userId: string): string[] {
    return [...(this.waiting.get(userId) ?? []), ...this.running.values(), ...this.delayed.values()]
      .filter((e) => e.spec.userId === userId)
      .map((e) => e.spec.id);
  }

  subscribe(listener: (event: QueueEvent<R>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): QueueStats {
    return { queued: this.waitingCount + this.delayed.size, running: this.running.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.delayed.values()) this.timers.clearTimeout(entry.retryTimer);
    this.delayed.clear();
    this.waiting.clear();
    this.waitingCount = 0;
    for (const entry of this.running.values()) entry.controller?.abort(new JobInterruptedError());
    await Promise.allSettled([...this.settled.values()]);
  }

  private runningOf(userId: string): number {
    return this.runningPerUser.get(userId) ?? 0;
  }

  /** Fewer running jobs first, then the user served least recently. */
  private rank(userId: string): [number, number] {
    return [this.runningOf(userId), this.lastServed.get(userId) ?? -1];
  }

  private addWaiting(entry: Entry<P>): void {
    const list = this.waiting.get(entry.spec.userId) ?? [];
    // A retried job is older than anything its user queued since: it keeps its place at the front.
    const at = list.findIndex((e) => e.seq > entry.seq);
    if (at < 0) list.push(entry);
    else list.splice(at, 0, entry);
    this.waiting.set(entry.spec.userId, list);
    this.waitingCount++;
  }

  private removeWaiting(entry: Entry<P>): void {
    const list = this.waiting.get(entry.spec.userId);
    const at = list?.indexOf(entry) ?? -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.waiting.delete(entry.spec.userId);
    this.waitingCount--;
  }

  private findWaiting(jobId: string): { entry: Entry<P>; index: number } | undefined {
    for (const list of this.waiting.values()) {
      const index = list.findIndex((e) => e.spec.id === jobId);
      if (index >= 0) return { entry: list[index]!, index };
    }
    return undefined;
  }

  /** The next job to start: the head of the best-ranked user's line among users below their limit. */
  private pickNext(): Entry<P> | undefined {
    let best: Entry<P> | undefined;
    let bestRank: [number, number] | undefined;
    for (const [userId, list] of this.waiting) {
      if (this.runningOf(userId) >= this.options.maxRunningPerUser) continue;
      const head = list[0]!;
      if (!this.hasSlotFor(head)) continue;
      const rank = this.rank(userId);
      if (!best || !bestRank || compareRank(rank, bestRank) < 0 || (compareRank(rank, bestRank) === 0 && head.seq < best.seq)) {
        best = head;
        bestRank = rank;
      }
    }
    return best;
  }

  /** Whether a slot of the job's kind is free: an inference slot, or an off-thread one. */
  private hasSlotFor(entry: Entry<P>): boolean {
    let busy = 0;
    for (const running of this.running.values()) if (running.offThread === entry.offThread) busy++;
    return busy < (entry.offThread ? (this.options.offThread?.concurrency ?? 0) : this.options.concurrency);
  }

  private pump(): void {
    while (!this.closed) {
      const next = this.pickNext();
      if (!next) return;
      this.removeWaiting(next);
      this.start(next);
    }
  }

  private start(entry: Entry<P>): void {
    entry.attempt += 1;
    this.lastServed.set(entry.spec.userId, this.served++);
    this.runningPerUser.set(entry.spec.userId, this.runningOf(entry.spec.userId) + 1);
    entry.controller = new AbortController();
    entry.cancelled = false;
    this.running.set(entry.spec.id, entry);
    const { signal } = entry.controller;
    const seconds = Math.round(this.options.timeoutMs / 1000);
    entry.timeout = this.timers.setTimeout(() => entry.controller?.abort(new JobTimeoutError(seconds)), this.options.timeoutMs);
    this.emit({ type: 'started', jobId: entry.spec.id, attempt: entry.attempt });

    const run = (async () => {
      try {
        const result = await this.processor({
          id: entry.spec.id,
          userId: entry.spec.userId,
          conversationId: entry.spec.conversationId,
          payload: entry.spec.payload,
          attempt: entry.attempt,
          signal,
          progress: (progress) => {
            if (!signal.aborted) this.emit({ type: 'progress', jobId: entry.spec.id, progress });
          },
        });
        this.finish(entry);
        if (signal.aborted) this.onError(entry, signal.reason);
        else this.emit({ type: 'completed', jobId: entry.spec.id, result, attempt: entry.attempt });
      } catch (error) {
        this.finish(entry);
        this.onError(entry, signal.aborted ? signal.reason : error);
      } finally {
        this.settled.delete(entry.spec.id);
        this.pump();
      }
    })();
    this.settled.set(entry.spec.id, run);
  }

  private finish(entry: Entry<P>): void {
    this.timers.clearTimeout(entry.timeout);
    if (this.running.delete(entry.spec.id)) {
      const left = this.runningOf(entry.spec.userId) - 1;
      if (left > 0) this.runningPerUser.set(entry.spec.userId, left);
      else this.runningPerUser.delete(entry.spec.userId);
    }
  }

  private onError(entry: Entry<P>, thrown: unknown): void {
    const error = asVitronError(thrown);
    if (error instanceof JobCancelledError) {
      this.emit({ type: 'cancelled', jobId: entry.spec.id });
      return;
    }
    const canRetry = error.retryable && !(error instanceof JobInterruptedError) && entry.attempt < this.options.maxAttempts && !this.closed;
    if (!canRetry) {
      this.emit({ type: 'failed', jobId: entry.spec.id, error, attempt: entry.attempt });
      return;
    }
    const delayMs = this.options.backoffMs * 2 ** (entry.attempt - 1);
    this.delayed.set(entry.spec.id, entry);
    this.emit({ type: 'retrying', jobId: entry.spec.id, attempt: entry.attempt, error, delayMs });
    entry.retryTimer = this.timers.setTimeout(() => {
      if (!this.delayed.delete(entry.spec.id) || this.closed) return;
      this.addWaiting(entry);
      this.pump();
    }, delayMs);
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

function compareRank(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}
