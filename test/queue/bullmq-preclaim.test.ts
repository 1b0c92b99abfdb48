import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { WorkerCrashedError } from '../../src/errors.ts';
import { PASS_ON_MIN_POSITION, type BullJobData } from '../../src/queue/bullmq-queue.ts';
import type { JobProcessor } from '../../src/queue/job-queue.ts';
import { PRECLAIM_TRUSTED_MS } from '../../src/queue/user-running-slots.ts';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { TEST_REDIS_URL, describeWithRedis, recordCommands } from './bullmq-redis.ts';
import { cleanups, ended, eventually, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

afterEach(async () => {
  await runCleanups();
});

function redisOfTest(): Redis {
  const redis = new Redis(TEST_REDIS_URL);
  cleanups.push(() => redis.quit());
  return redis;
}

/** The job's data as BullMQ keeps it in Redis. */
async function storedData(prefix: string, jobId: string, lane = 'quick'): Promise<Record<string, unknown> | undefined> {
  const queue = new Queue(queueNameOf(lane), { connection: { url: TEST_REDIS_URL }, prefix });
  try {
    return (await queue.getJob(jobId))?.data as Record<string, unknown> | undefined;
  } finally {
    await queue.close();
  }
}

/**
 * The jobs that workers claimed slots for, from the commands recorded: calls of the claim script (EVAL the first
 * time a connection runs it) on the user's running set, told from the pre-claim and release scripts by their
 * arguments: after the keys come the job id, the limit and the claim's ttl (two lock lifetimes, 60 s here).
 */
function workerClaims(commands: string[][], runningKey: string): string[] {
  return commands
    .filter((args) => ['eval', 'evalsha'].includes(args[0]!.toLowerCase()) && args[3] === runningKey)
    .filter((args) => args[3 + Number(args[2]) + 2] === '60000')
    .map((args) => args[3 + Number(args[2])]!);
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describeWithRedis('running slots pre-claimed by the bot (real Redis)', () => {
  it("pre-claims a waiting job's slot when the user has one free; its worker starts it without claiming, and gives the slot back", async () => {
    const { prefix, queue, events } = await setup({ maxRunningPerUser: 2 });
    const redis = redisOfTest();
    const running = `${prefix}:vitron:running:u1`;
    for (const id of ['a', 'b', 'c']) await queue.enqueue(spec(id));
    await until(async () => (await storedData(prefix, 'b'))?.preclaimed === true);
    // Two slots: the first two jobs hold them while they wait; the third was added unmarked and claims at its worker.
    expect((await storedData(prefix, 'a'))?.preclaimed).toBe(true);
    expect((await storedData(prefix, 'c'))?.preclaimed).toBe(false);
    expect((await redis.zrange(running, '0', '-1')).sort()).toEqual(['a', 'b']);

    const commands = await recordCommands(redisOfTest());
    const started: string[] = [];
    const processor: JobProcessor<string, string> = async (job) => {
      started.push(job.id);
      return `ran ${job.id}`;
    };
    await startWorkers(prefix, processor);
    for (const id of ['a', 'b', 'c']) expect(await eventually(events, ended(id))).toMatchObject({ type: 'completed', result: `ran ${id}` });
    await until(async () => (await redis.exists(running)) === 0);
    // None for a and b. c either claimed at its worker or had a's slot passed on by the bot first.
    expect(workerClaims(await commands.stop(), running).filter((id) => id !== 'c')).toEqual([]);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it("passes an ended job's slot on to the user's next waiting job, which then starts without a claim of its own", async () => {
    const { prefix, queue, events } = await setup({ maxRunningPerUser: 1 });
    const redis = redisOfTest();
    const running = `${prefix}:vitron:running:u1`;
    await queue.enqueue(spec('first'));
    // In the other lane, so that no worker fetches it before the bot hears that the first ended; and behind more
    // than PASS_ON_MIN_POSITION other users' jobs, as a job must be to have a slot passed on.
    for (let i = 0; i <= PASS_ON_MIN_POSITION; i++) await queue.enqueue(spec(`other-${i}`, `other-${i}`, 'slow other'));
    await queue.enqueue(spec('next', 'u1', 'slow next'));
    expect(queue.position('next')).toBe(PASS_ON_MIN_POSITION + 2);
    await until(async () => (await storedData(prefix, 'first'))?.preclaimed === true);
    expect((await storedData(prefix, 'next', 'slow'))?.preclaimed).toBe(false);

    await startWorkers(prefix, async () => 'first done', { lanes: ['quick'] });
    expect(await eventually(events, ended('first'))).toMatchObject({ type: 'completed' });
    await until(async () => (await storedData(prefix, 'next', 'slow'))?.preclaimed === true);
    expect(await redis.zrange(running, '0', '-1')).toEqual(['next']);

    const commands = await recordCommands(redisOfTest());
    await startWorkers(prefix, async (job) => (job.id === 'next' ? 'next done' : 'other done'), { lanes: ['slow'] });
    expect(await eventually(events, ended('next'))).toMatchObject({ type: 'completed', result: 'next done' });
    await until(async () => (await redis.exists(running)) === 0);
    expect(workerClaims(await commands.stop(), running)).toEqual([]);
  });

  it("gives a pre-claimed job's slot back when it is cancelled while waiting", async () => {
    const { prefix, queue, events } = await setup({ maxRunningPerUser: 1 });
    const redis = redisOfTest();
    const running = `${prefix}:vitron:running:u1`;
    await queue.enqueue(spec('first'));
    await until(async () => (await storedData(prefix, 'first'))?.preclaimed === true);
    expect(await queue.cancel('first')).toBe(true);
    expect(await eventually(events, ended('first'))).toMatchObject({ type: 'cancelled' });
    await until(async () => (await redis.zcard(running)) === 0);

    // The slot is free again: the user's next job is pre-claimed and runs.
    await queue.enqueue(spec('second'));
    await until(async () => (await storedData(prefix, 'second'))?.preclaimed === true);
    await startWorkers(prefix, async () => 'ok');
    expect(await eventually(events, ended('second'))).toMatchObject({ type: 'completed' });
  });

  it('claims the slot again for the next attempt of a pre-claimed job that failed (its first attempt gave it back)', async () => {
    const { prefix, queue, events } = await setup({ maxRunningPerUser: 1 });
    const running = `${prefix}:vitron:running:u1`;
    await queue.enqueue(spec('flaky'));
    await until(async () => (await storedData(prefix, 'flaky'))?.preclaimed === true);
    const commands = await recordCommands(redisOfTest());
    await startWorkers(prefix, async (job) => {
      if (job.attempt === 1) throw new WorkerCrashedError('inference thread exited with code 134');
      return 'second time';
    });
    expect(await eventually(events, ended('flaky'))).toMatchObject({ type: 'completed', result: 'second time' });
    expect(workerClaims(await commands.stop(), running)).toEqual(['flaky']);
  });

  it('does not trust a mark older than PRECLAIM_TRUSTED_MS: the worker claims, and hands the job back while the user is at the limit', async () => {
    const { prefix } = await setup();
    const redis = redisOfTest();
    const running = `${prefix}:vitron:running:u1`;
    // Another job holds the user's only slot; the old job's mark says it holds one too, but its pre-claim is long gone.
    await redis.zadd(running, Date.now() + 600_000, 'holder');
    const lane = new Queue(queueNameOf('quick'), { connection: { url: TEST_REDIS_URL }, prefix });
    cleanups.push(() => lane.close());
    const watcher = new QueueEvents(queueNameOf('quick'), { connection: { url: TEST_REDIS_URL }, prefix });
    cleanups.push(() => watcher.close());
    let handedBack = 0;
    watcher.on('delayed', () => handedBack++);
    await watcher.waitUntilReady();
    const data: BullJobData<string> = {
      preclaimed: true,
      userId: 'u1',
      conversationId: 'c1',
      payload: 'old',
      timeoutMs: 60_000,
      attemptOffset: 0,
      maxRunningPerUser: 1,
    };
    await lane.add('job', data, { jobId: 'old', priority: 1, timestamp: Date.now() - PRECLAIM_TRUSTED_MS - 60_000 });
    const ran: string[] = [];
    await startWorkers(prefix, async (job) => {
      ran.push(job.id);
      return 'ok';
    });
    await until(async () => handedBack >= 2);
    expect(ran).toEqual([]);
    await redis.zrem(running, 'holder');
    await until(async () => ran.length === 1);
    expect(ran).toEqual(['old']);
  });

  it('adds no pre-claim mark without a running limit', async () => {
    const { prefix, queue } = await setup();
    await queue.enqueue(spec('free'));
    expect(await storedData(prefix, 'free')).not.toHaveProperty('preclaimed');
  });
});
