import { afterEach, expect, it } from 'vitest';
import { describeWithRedis } from './bullmq-redis.ts';
import { ended, eventually, openQueue, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

// Queues, workers and keys a test opened are closed and dropped after it, newest first.
afterEach(async () => {
  await runCleanups();
});

describeWithRedis('BullMQ job queue (real Redis)', () => {
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
});
