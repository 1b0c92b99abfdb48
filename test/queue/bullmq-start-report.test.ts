import { Queue } from 'bullmq';
import { afterEach, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { TEST_REDIS_URL, describeWithRedis } from './bullmq-redis.ts';
import { cleanups, ended, eventually, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

afterEach(async () => {
  await runCleanups();
});

/** The progress BullMQ holds for a job: the start report, the last progress report, or 0 when neither was written. */
async function storedProgress(prefix: string, jobId: string): Promise<unknown> {
  const queue = new Queue(queueNameOf('quick'), { connection: { url: TEST_REDIS_URL }, prefix });
  cleanups.push(() => queue.close());
  return (await queue.getJob(jobId))?.progress;
}

describeWithRedis('the start report of a BullMQ job (real Redis)', () => {
  it('a job that ends before its start report is due is reported started, then completed, and no start report is written', async () => {
    const { prefix, queue, events } = await setup();
    await startWorkers(prefix, async (job) => `done ${job.payload}`);
    await queue.enqueue(spec('quick-one'));
    await eventually(events, ended('quick-one'));
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'completed']);
    expect(events.find((e) => e.type === 'started')).toMatchObject({ attempt: 1 });
    expect(await storedProgress(prefix, 'quick-one')).toBe(0);
  });

  it('a job still running when its start report is due is reported started while it runs, with no progress of its own', async () => {
    const { prefix, queue, events } = await setup();
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    await startWorkers(prefix, async () => {
      await finished;
      return 'done';
    });
    await queue.enqueue(spec('long-one'));
    await eventually(events, (e) => e.jobId === 'long-one' && e.type === 'started');
    expect(await storedProgress(prefix, 'long-one')).toEqual({ vitron: 'started' });
    finish();
    await eventually(events, ended('long-one'));
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'completed']);
  });

  it('a job that fails before its start report is due is reported started before the failure', async () => {
    const { prefix, queue, events } = await setup();
    await startWorkers(prefix, async () => {
      throw new BadInputError('MEDIA_CORRUPT', 'The picture is damaged.');
    });
    await queue.enqueue(spec('bad-one'));
    await eventually(events, ended('bad-one'));
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'failed']);
  });
});
