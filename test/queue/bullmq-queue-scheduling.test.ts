import { afterEach, expect, it } from 'vitest';
import { LimitReachedError } from '../../src/errors.ts';
import type { JobProcessor } from '../../src/queue/job-queue.ts';
import { QueueEvents } from 'bullmq';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { MemoryBudget } from '../../src/worker/memory-budget.ts';
import { TEST_REDIS_URL, describeWithRedis } from './bullmq-redis.ts';
import { cleanups, ended, eventually, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

// Queues, workers and keys a test opened are closed and dropped after it, newest first.
afterEach(async () => {
  await runCleanups();
});

describeWithRedis('BullMQ job queue (real Redis)', () => {
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
});
