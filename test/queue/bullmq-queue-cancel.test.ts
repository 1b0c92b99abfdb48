import { afterEach, expect, it } from 'vitest';
import type { RunningJob } from '../../src/queue/job-queue.ts';
import { Redis } from 'ioredis';
import { cancelKey } from '../../src/queue/redis-setup.ts';
import { TEST_REDIS_URL, describeWithRedis } from './bullmq-redis.ts';
import { cleanups, ended, eventually, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

// Queues, workers and keys a test opened are closed and dropped after it, newest first.
afterEach(async () => {
  await runCleanups();
});

describeWithRedis('BullMQ job queue (real Redis)', () => {
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
      return 'ran anyway';
    });
    expect(await eventually(events, ended('orphan'))).toMatchObject({ type: 'cancelled' });
    // The processor was never called: not even with an aborted signal.
    expect(ran).toEqual([]);
    expect(events.filter((e) => e.jobId === 'orphan').map((e) => e.type)).not.toContain('started');
  });
});
