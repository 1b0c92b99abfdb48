import { afterEach, expect, it } from 'vitest';
import { BadInputError, LimitReachedError, WorkerCrashedError } from '../../src/errors.ts';
import { BullmqJobQueue, type BullmqQueueOptions } from '../../src/queue/bullmq-queue.ts';
import type { JobProcessor, QueueEvent, RunningJob } from '../../src/queue/job-queue.ts';
import { LaneWorkers, type LaneWorkersOptions } from '../../src/worker/bullmq-worker.ts';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { cancelKey } from '../../src/queue/redis-setup.ts';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { MemoryBudget } from '../../src/worker/memory-budget.ts';
import { TEST_REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from './bullmq-redis.ts';

const LANES = ['quick', 'slow'] as const;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Events = QueueEvent<string>[];

function openQueue(prefix: string, overrides: Partial<BullmqQueueOptions<string>> = {}) {
  const queue = new BullmqJobQueue<string, string>({
    redisUrl: TEST_REDIS_URL,
    prefix,
    lanes: LANES,
    laneOf: (payload) => (payload.startsWith('slow') ? 'slow' : 'quick'),
    maxActivePerUser: 10,
    maxAttempts: 3,
    backoffMs: 20,
    timeoutMs: 60_000,
    ...overrides,
  });
  const events: Events = [];
  queue.subscribe((e) => events.push(e));
  cleanups.push(() => queue.close());
  return { queue, events };
}

async function startWorkers(prefix: string, processor: JobProcessor<string, string>, overrides: Partial<LaneWorkersOptions<string, string>> = {}) {
  const workers = await LaneWorkers.start<string, string>({
    redisUrl: TEST_REDIS_URL,
    prefix,
    lanes: LANES,
    concurrency: 1,
    processorFor: () => processor,
    handBackDelayMs: 50,
    ...overrides,
  });
  cleanups.push(() => workers.close());
  return workers;
}

async function setup(overrides: Partial<BullmqQueueOptions<string>> = {}) {
  const prefix = uniquePrefix();
  cleanups.push(() => dropPrefix(prefix, LANES));
  const opened = openQueue(prefix, overrides);
  await opened.queue.ready();
  return { prefix, ...opened };
}

/** Resolves when an event matching `match` has been seen (events seen before the call count). */
function eventually(events: Events, match: (e: QueueEvent<string>) => boolean): Promise<QueueEvent<string>> {
  return new Promise((resolve) => {
    const check = () => {
      const found = events.find(match);
      if (found) resolve(found);
      else setTimeout(check, 10);
    };
    check();
  });
}

const ended = (id: string) => (e: QueueEvent<string>) => e.jobId === id && ['completed', 'failed', 'cancelled'].includes(e.type);
const spec = (id: string, userId = 'u1', payload = id) => ({ id, userId, conversationId: 'c1', payload });

describeWithRedis('BullMQ job queue (real Redis)', () => {
  it('runs a job on a worker and reports start, progress and the result', async () => {
    const { prefix, queue, events } = await setup();
    await startWorkers(prefix, async (job) => {
      job.progress({ fraction: 0.5, step: 1, steps: 1, note: 'half way' });
      return `done ${job.payload}`;
    });
    await queue.enqueue(spec('job-a'));
    await eventually(events, ended('job-a'));
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'completed']);
    expect(events.find((e) => e.type === 'progress')).toMatchObject({ progress: { fraction: 0.5, note: 'half way' } });
    expect(events.at(-1)).toMatchObject({ type: 'completed', result: 'done job-a', attempt: 1 });
    expect(queue.activeJobsOf('u1')).toEqual([]);
  });

  it('runs a job once when the same id is enqueued twice, also from a second bot process', async () => {
    const { prefix, queue, events } = await setup();
    const other = openQueue(prefix);
    await other.queue.ready();
    await queue.enqueue(spec('dup'));
    await queue.enqueue(spec('dup'));
    await other.queue.enqueue(spec('dup'));
    const runs: string[] = [];
    await startWorkers(prefix, async (job) => {
      runs.push(job.id);
      return 'ok';
    });
    await eventually(events, ended('dup'));
    await eventually(other.events, ended('dup'));
    expect(runs).toEqual(['dup']);
    expect(events.filter((e) => e.type === 'completed')).toHaveLength(1);
  });

  it('fails bad input at once, without retrying it', async () => {
    const { prefix, queue, events } = await setup();
    let calls = 0;
    await startWorkers(prefix, async () => {
      calls++;
      throw new BadInputError('MEDIA_CORRUPT', 'The video is damaged.');
    });
    await queue.enqueue(spec('bad'));
    const end = await eventually(events, ended('bad'));
    expect(end).toMatchObject({ type: 'failed', attempt: 1, error: { code: 'MEDIA_CORRUPT', message: 'The video is damaged.' } });
    expect((end as { error: unknown }).error).toBeInstanceOf(BadInputError);
    expect(calls).toBe(1);
    expect(events.some((e) => e.type === 'retrying')).toBe(false);
  });

  it('retries a transient fault with backoff and then succeeds', async () => {
    const { prefix, queue, events } = await setup({ backoffMs: 50 });
    const attempts: number[] = [];
    await startWorkers(prefix, async (job) => {
      attempts.push(job.attempt);
      if (job.attempt === 1) throw new WorkerCrashedError('inference thread exited with code 134');
      return 'second time lucky';
    });
    await queue.enqueue(spec('flaky'));
    await eventually(events, ended('flaky'));
    expect(attempts).toEqual([1, 2]);
    // Redis delivers each lane's events in order, but under load the retry's 'started' can be read
    // before the bot has finished deciding the first trip back was a retry: pin what the user sees.
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('queued');
    expect(types.filter((t) => t === 'retrying')).toHaveLength(1);
    expect(types.at(-1)).toBe('completed');
    const retrying = events.find((e) => e.type === 'retrying')!;
    expect(retrying).toMatchObject({ attempt: 1, error: { code: 'WORKER_CRASHED', retryable: true } });
    expect(events.at(-1)).toMatchObject({ type: 'completed', result: 'second time lucky', attempt: 2 });
  });

  it('gives up on a transient fault after JOB_MAX_ATTEMPTS', async () => {
    const { prefix, queue, events } = await setup({ maxAttempts: 2 });
    let calls = 0;
    await startWorkers(prefix, async () => {
      calls++;
      throw new WorkerCrashedError('out of memory');
    });
    await queue.enqueue(spec('doomed'));
    expect(await eventually(events, ended('doomed'))).toMatchObject({ type: 'failed', attempt: 2, error: { code: 'WORKER_CRASHED' } });
    expect(calls).toBe(2);
  });

  it("puts another user's first job ahead of a busy user's second and third", async () => {
    const { prefix, queue, events } = await setup();
    for (const id of ['heavy-1', 'heavy-2', 'heavy-3']) await queue.enqueue(spec(id, 'heavy'));
    await queue.enqueue(spec('light-1', 'light'));
    expect(queue.position('light-1')).toBe(2);
    expect(queue.position('heavy-2')).toBe(3);
    const order: string[] = [];
    await startWorkers(prefix, async (job) => {
      order.push(job.id);
      return 'ok';
    });
    await eventually(events, ended('heavy-3'));
    expect(order).toEqual(['heavy-1', 'light-1', 'heavy-2', 'heavy-3']);
  });

  it('refuses a job over the per-user limit with LimitReachedError', async () => {
    const { queue } = await setup({ maxActivePerUser: 2 });
    await queue.enqueue(spec('one'));
    await queue.enqueue(spec('two'));
    await expect(queue.enqueue(spec('three'))).rejects.toBeInstanceOf(LimitReachedError);
    await queue.enqueue(spec('other-user', 'u2'));
    expect(queue.activeJobsOf('u1')).toEqual(['one', 'two']);
  });

  it('keeps a video lane job from blocking the image lane', async () => {
    const { prefix, queue, events } = await setup();
    let releaseSlow: () => void = () => {};
    const slowHeld = new Promise<void>((r) => (releaseSlow = r));
    await startWorkers(prefix, async (job) => {
      if (job.payload.startsWith('slow')) await slowHeld;
      return job.id;
    });
    await queue.enqueue(spec('slow-video', 'u1'));
    await eventually(events, (e) => e.jobId === 'slow-video' && e.type === 'started');
    await queue.enqueue(spec('quick-image', 'u2'));
    await eventually(events, ended('quick-image'));
    expect(events.some(ended('slow-video'))).toBe(false);
    releaseSlow();
    await eventually(events, ended('slow-video'));
  });

  it('cancels a waiting job: it never runs', async () => {
    const { prefix, queue, events } = await setup();
    await queue.enqueue(spec('unwanted'));
    expect(await queue.cancel('unwanted')).toBe(true);
    const runs: string[] = [];
    await startWorkers(prefix, async (job) => {
      runs.push(job.id);
      return 'ok';
    });
    await queue.enqueue(spec('wanted'));
    await eventually(events, ended('wanted'));
    expect(runs).toEqual(['wanted']);
    expect(events.filter((e) => e.jobId === 'unwanted').map((e) => e.type)).toEqual(['queued', 'cancelled']);
  });

  it('cancels a running job through the worker that runs it; it ends cancelled, not retried', async () => {
    const { prefix, queue, events } = await setup();
    const started: RunningJob<string>[] = [];
    await startWorkers(prefix, (job) => {
      started.push(job);
      return new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason)));
    });
    await queue.enqueue(spec('long'));
    await eventually(events, (e) => e.jobId === 'long' && e.type === 'started');
    expect(await queue.cancel('long')).toBe(true);
    expect(await eventually(events, ended('long'))).toMatchObject({ type: 'cancelled' });
    expect(started).toHaveLength(1);
  });

  it('stops a job that runs past its timeout and does not retry it', async () => {
    const { prefix, queue, events } = await setup({ timeoutMs: 200 });
    let calls = 0;
    await startWorkers(prefix, (job) => {
      calls++;
      return new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason)));
    });
    await queue.enqueue(spec('stuck'));
    const end = await eventually(events, ended('stuck'));
    expect(end).toMatchObject({ type: 'failed', error: { code: 'JOB_TIMEOUT' } });
    expect(calls).toBe(1);
  });

  it('hands a job back when this worker cannot run it, and a worker that can takes it', async () => {
    const { prefix, queue, events } = await setup();
    let refused = 0;
    const ranOn: string[] = [];
    await startWorkers(prefix, async () => 'never', {
      canRun: () => {
        refused++;
        return false;
      },
    });
    await queue.enqueue(spec('needs-gpu'));
    while (refused === 0) await new Promise((r) => setTimeout(r, 10));
    await startWorkers(prefix, async (job) => {
      ranOn.push(job.id);
      return 'ran on the capable worker';
    });
    expect(await eventually(events, ended('needs-gpu'))).toMatchObject({ type: 'completed', result: 'ran on the capable worker', attempt: 1 });
    expect(ranOn).toEqual(['needs-gpu']);
    expect(events.some((e) => e.type === 'retrying')).toBe(false);
    // The refusing worker fetched it too, but the user hears of one start only: the real one.
    expect(events.filter((e) => e.jobId === 'needs-gpu' && e.type === 'started')).toHaveLength(1);
  });

  it('hands running jobs back on a graceful stop that outlasts its grace period; another worker finishes them', async () => {
    const { prefix, queue, events } = await setup();
    const stopping = await startWorkers(prefix, (job) => new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason))), {
      shutdownGraceMs: 50,
    });
    await queue.enqueue(spec('long-running'));
    await eventually(events, (e) => e.jobId === 'long-running' && e.type === 'started');
    await stopping.close();
    const attempts: number[] = [];
    await startWorkers(prefix, async (job) => {
      attempts.push(job.attempt);
      return 'finished elsewhere';
    });
    expect(await eventually(events, ended('long-running'))).toMatchObject({ type: 'completed', result: 'finished elsewhere' });
    // Handed back, not failed: the interrupted run does not count as an attempt.
    expect(attempts).toEqual([1]);
    expect(events.some((e) => e.type === 'retrying')).toBe(false);
  });

  it('lets a restarted bot collect the result of a job that finished while it was down, without running it again', async () => {
    const { prefix, queue, events } = await setup();
    const runs: string[] = [];
    await startWorkers(prefix, async (job) => {
      runs.push(job.id);
      return 'made while the bot was away';
    });
    await queue.enqueue(spec('while-down'));
    await eventually(events, ended('while-down'));
    const restarted = openQueue(prefix);
    await restarted.queue.ready();
    await restarted.queue.enqueue({ ...spec('while-down'), resumed: true });
    expect(await eventually(restarted.events, ended('while-down'))).toMatchObject({ type: 'completed', result: 'made while the bot was away', attempt: 1 });
    expect(runs).toEqual(['while-down']);
  });

  it("runs no more of one user's jobs at once than maxRunningPerUser, across workers, while other users' jobs run", async () => {
    const { prefix, queue, events } = await setup({ maxRunningPerUser: 1 });
    const handedBack = new Map<string, number>();
    const watcher = new QueueEvents(queueNameOf('quick'), { connection: { url: TEST_REDIS_URL }, prefix });
    cleanups.push(() => watcher.close());
    watcher.on('delayed', ({ jobId }) => handedBack.set(jobId, (handedBack.get(jobId) ?? 0) + 1));
    await watcher.waitUntilReady();
    let running = 0;
    let mostAtOnce = 0;
    const gates = new Map<string, () => void>();
    const processor: JobProcessor<string, string> = async (job) => {
      if (job.userId !== 'heavy') return 'quick one';
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise<void>((release) => gates.set(job.id, release));
      running--;
      return 'heavy one';
    };
    // Two worker processes' worth of capacity: four slots for the heavy user's three jobs.
    await startWorkers(prefix, processor, { concurrency: 2 });
    await startWorkers(prefix, processor, { concurrency: 2 });
    for (const id of ['h1', 'h2', 'h3']) await queue.enqueue(spec(id, 'heavy'));
    await queue.enqueue(spec('light', 'light'));

    expect(await eventually(events, ended('light'))).toMatchObject({ type: 'completed', result: 'quick one' });
    // The heavy user's other jobs were offered to free workers and handed back, more than once.
    const waiting = ['h1', 'h2', 'h3'].filter((id) => !gates.has(id));
    expect(waiting).toHaveLength(2);
    while (waiting.some((id) => (handedBack.get(id) ?? 0) < 2)) await new Promise((r) => setTimeout(r, 20));
    expect(gates.size).toBe(1);
    expect(events.filter((e) => e.type === 'started' && waiting.includes(e.jobId))).toEqual([]);

    for (let finished = 0; finished < 3; finished++) {
      while (gates.size === 0) await new Promise((r) => setTimeout(r, 10));
      const [id, release] = [...gates][0]!;
      gates.delete(id);
      release();
      await eventually(events, ended(id));
    }
    expect(mostAtOnce).toBe(1);
    expect(
      events
        .filter((e) => e.type === 'completed')
        .map((e) => e.jobId)
        .sort(),
    ).toEqual(['h1', 'h2', 'h3', 'light']);
  });

  it('takes no second job while over its memory budget, and runs it once the first ends', async () => {
    const { prefix, queue, events } = await setup();
    const budget = new MemoryBudget(100, () => 200 * 1024 * 1024);
    let running = 0;
    let mostAtOnce = 0;
    let releaseFirst: () => void = () => {};
    await startWorkers(
      prefix,
      async (job) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        if (job.id === 'first') await new Promise<void>((release) => (releaseFirst = release));
        running--;
        return 'ok';
      },
      { concurrency: 2, memoryBudget: budget },
    );
    await queue.enqueue(spec('first'));
    await eventually(events, (e) => e.jobId === 'first' && e.type === 'started');
    await queue.enqueue(spec('second', 'u2'));
    // Idle and over budget, the worker still ran the first job (waiting would free nothing)...
    while (running === 0) await new Promise((r) => setTimeout(r, 10));
    expect(events.some((e) => e.jobId === 'second' && e.type === 'started')).toBe(false);
    releaseFirst();
    expect(await eventually(events, ended('second'))).toMatchObject({ type: 'completed' });
    // ...but never a second one beside it, although its concurrency is 2.
    expect(mostAtOnce).toBe(1);
  });

  it("feeds the worker's own metrics: durations and outcomes per task", async () => {
    const { prefix, queue, events } = await setup();
    const metrics = new Metrics({ defaultMetrics: false });
    await startWorkers(
      prefix,
      async (job) => {
        if (job.payload === 'bad') throw new BadInputError('INVALID_ARGUMENT', 'no');
        return 'ok';
      },
      { metrics: { jobs: metrics.jobs, taskOf: (payload) => (payload === 'bad' ? 'adjust' : 'cutout') } },
    );
    await queue.enqueue(spec('good'));
    await queue.enqueue(spec('bad-one', 'u1', 'bad'));
    await eventually(events, ended('good'));
    await eventually(events, ended('bad-one'));
    const { body } = await metrics.scrape();
    expect(body).toContain('vitron_job_outcomes_total{task="cutout",outcome="succeeded"} 1');
    expect(body).toContain('vitron_job_outcomes_total{task="adjust",outcome="failed"} 1');
    expect(body).toContain('vitron_job_failures_total{task="adjust",code="INVALID_ARGUMENT"} 1');
    expect(body).toContain('vitron_job_duration_seconds_count{task="cutout"} 1');
  });

  it('reports queue depth per lane and state from Redis', async () => {
    const { queue } = await setup();
    await queue.enqueue(spec('a'));
    await queue.enqueue(spec('b', 'u2'));
    await queue.enqueue(spec('slow-c', 'u3'));
    const rows = await queue.laneCounts();
    const waitingIn = (lane: string) =>
      rows.filter((r) => r.lane === lane && (r.state === 'waiting' || r.state === 'prioritized')).reduce((n, r) => n + r.count, 0);
    expect(waitingIn('quick')).toBe(2);
    expect(waitingIn('slow')).toBe(1);
    expect(rows.find((r) => r.lane === 'quick' && r.state === 'active')?.count).toBe(0);
  });

  it('does not run a job whose cancel was left in Redis while its previous worker went away', async () => {
    const { prefix, queue, events } = await setup();
    let offered = 0;
    await startWorkers(prefix, async () => 'never', {
      canRun: () => {
        offered++;
        return false;
      },
    });
    await queue.enqueue(spec('orphan'));
    while (offered === 0) await new Promise((r) => setTimeout(r, 10));
    // What a cancel leaves for the next worker when no worker heard the message (the runner had died).
    const redis = new Redis(TEST_REDIS_URL);
    cleanups.push(() => redis.quit());
    await redis.set(cancelKey(prefix, 'orphan'), '1');
    const ran: string[] = [];
    await startWorkers(prefix, async (job) => {
      ran.push(job.id);
      await new Promise((r) => setTimeout(r, 50));
      if (job.signal.aborted) throw job.signal.reason;
      return 'ran anyway';
    });
    expect(await eventually(events, ended('orphan'))).toMatchObject({ type: 'cancelled' });
  });
});
