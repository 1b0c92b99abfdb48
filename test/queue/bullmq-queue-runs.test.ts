import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { BadInputError, WorkerCrashedError } from '../../src/errors.ts';
import { describeWithRedis } from './bullmq-redis.ts';
import { ended, eventually, openQueue, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

// Queues, workers and keys a test opened are closed and dropped after it, newest first.
afterEach(async () => {
  await runCleanups();
});

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

  it('logs a transient fault with its job id, and makes no per-job logger for a job that logs nothing', async () => {
    const lines: { jobId?: string; msg: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    const child = vi.spyOn(logger, 'child');
    const { prefix, queue, events } = await setup({ backoffMs: 20 });
    await startWorkers(
      prefix,
      async (job) => {
        if (job.payload === 'flaky' && job.attempt === 1) throw new WorkerCrashedError('inference thread exited with code 134');
        return 'ok';
      },
      { logger },
    );
    await queue.enqueue(spec('quiet', 'u1', 'quiet'));
    await eventually(events, ended('quiet'));
    expect(child.mock.calls.filter(([bindings]) => 'jobId' in bindings)).toEqual([]);
    await queue.enqueue(spec('flaky', 'u1', 'flaky'));
    await eventually(events, ended('flaky'));
    expect(child.mock.calls.filter(([bindings]) => 'jobId' in bindings)).toEqual([[{ jobId: 'flaky' }]]);
    expect(lines).toContainEqual(expect.objectContaining({ jobId: 'flaky', msg: 'job failed with a transient fault; BullMQ retries it' }));
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
});
