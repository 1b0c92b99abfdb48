import { describe, expect, it } from 'vitest';
import { BadInputError, JobTimeoutError, LimitReachedError, VitronError, WorkerCrashedError } from '../../src/errors.ts';
import { InProcessQueue, type InProcessQueueOptions } from '../../src/queue/in-process-queue.ts';
import type { JobProcessor, QueueEvent, RunningJob } from '../../src/queue/job-queue.ts';
import { ManualTimers } from '../helpers/manual-timers.ts';

/** A processor whose jobs finish only when the test says so. */
class ControlledProcessor {
  readonly started: RunningJob<string>[] = [];
  private readonly settle = new Map<string, { resolve: (v: string) => void; reject: (e: unknown) => void }>();

  readonly process: JobProcessor<string, string> = (job) => {
    this.started.push(job);
    return new Promise<string>((resolve, reject) => {
      this.settle.set(job.id, { resolve, reject });
      job.signal.addEventListener('abort', () => reject(job.signal.reason));
    });
  };

  succeed(id: string, value = `done ${id}`): void {
    this.settle.get(id)!.resolve(value);
  }

  fail(id: string, error: unknown): void {
    this.settle.get(id)!.reject(error);
  }
}

function setup(overrides: Partial<InProcessQueueOptions<string>> = {}) {
  const timers = new ManualTimers();
  const processor = new ControlledProcessor();
  const queue = new InProcessQueue<string, string>(processor.process, {
    concurrency: 1,
    maxRunningPerUser: 1,
    maxActivePerUser: 10,
    maxAttempts: 3,
    backoffMs: 1000,
    timeoutMs: 60_000,
    timers,
    ...overrides,
  });
  const events: QueueEvent<string>[] = [];
  queue.subscribe((e) => events.push(e));
  return { timers, processor, queue, events };
}

const flush = () => new Promise((r) => setImmediate(r));
const job = (id: string, userId = 'u1') => ({ id, userId, conversationId: 'c1', payload: id });

describe('in-process queue', () => {
  it('runs a job and reports its result', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    expect(processor.started.map((j) => j.id)).toEqual(['a']);
    processor.succeed('a');
    await flush();
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'completed']);
    expect(events.at(-1)).toMatchObject({ type: 'completed', result: 'done a', attempt: 1 });
  });

  it('forwards progress while running', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    processor.started[0]!.progress({ fraction: 0.5, step: 1, steps: 1, note: 'half way' });
    expect(events.find((e) => e.type === 'progress')).toMatchObject({ progress: { fraction: 0.5, note: 'half way' } });
  });

  it('gives the next slot to the user with fewer running jobs, not to the one who queued most', async () => {
    const { queue, processor } = setup({ concurrency: 1, maxRunningPerUser: 5 });
    await queue.enqueue(job('heavy-1', 'heavy'));
    await queue.enqueue(job('heavy-2', 'heavy'));
    await queue.enqueue(job('heavy-3', 'heavy'));
    await queue.enqueue(job('light-1', 'light'));
    expect(queue.position('light-1')).toBe(1);
    processor.succeed('heavy-1');
    await flush();
    expect(processor.started.map((j) => j.id)).toEqual(['heavy-1', 'light-1']);
  });

  it('tells each waiting job its place in the fair rotation, matching the order jobs really start', async () => {
    const { queue, processor } = setup({ concurrency: 1, maxRunningPerUser: 5 });
    await queue.enqueue(job('c1', 'c'));
    for (const id of ['a1', 'a2', 'a3']) await queue.enqueue(job(id, 'a'));
    await queue.enqueue(job('b1', 'b'));
    const predicted = ['a1', 'a2', 'a3', 'b1'].sort((x, y) => queue.position(x)! - queue.position(y)!);
    expect(predicted).toEqual(['a1', 'b1', 'a2', 'a3']);
    for (const id of ['c1', 'a1', 'b1', 'a2']) {
      processor.succeed(id);
      await flush();
    }
    expect(processor.started.map((j) => j.id)).toEqual(['c1', ...predicted]);
  });

  it('keeps a user within their running limit while others use free slots', async () => {
    const { queue, processor } = setup({ concurrency: 3, maxRunningPerUser: 1 });
    await queue.enqueue(job('a1', 'a'));
    await queue.enqueue(job('a2', 'a'));
    await queue.enqueue(job('b1', 'b'));
    expect(processor.started.map((j) => j.id)).toEqual(['a1', 'b1']);
    expect(queue.position('a2')).toBe(1);
  });

  it('runs endpoint jobs in slots of their own: they neither wait for nor hold the inference slot', async () => {
    // Payloads starting with "ask" stand for caption/answer through LLM_URL.
    const { queue, processor } = setup({ concurrency: 1, maxRunningPerUser: 5, offThread: { is: (p) => p.startsWith('ask'), concurrency: 2 } });
    await queue.enqueue(job('edit-1', 'a'));
    await queue.enqueue(job('ask-1', 'b'));
    await queue.enqueue(job('ask-2', 'c'));
    await queue.enqueue(job('ask-3', 'd'));
    await queue.enqueue(job('edit-2', 'e'));
    // One edit holds the inference slot; two questions run beside it; the third question and the second edit wait.
    expect(processor.started.map((j) => j.id)).toEqual(['edit-1', 'ask-1', 'ask-2']);
    processor.succeed('edit-1');
    await flush();
    expect(processor.started.map((j) => j.id)).toEqual(['edit-1', 'ask-1', 'ask-2', 'edit-2']);
    processor.succeed('ask-2');
    await flush();
    expect(processor.started.map((j) => j.id)).toEqual(['edit-1', 'ask-1', 'ask-2', 'edit-2', 'ask-3']);
  });

  it('refuses a job past the per-user limit with a message naming the limit', async () => {
    const { queue } = setup({ maxActivePerUser: 2 });
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    const refused = queue.enqueue(job('c'));
    await expect(refused).rejects.toBeInstanceOf(LimitReachedError);
    await expect(refused).rejects.toThrow(/limit is 2/);
  });

  it('retries a transient fault with doubling backoff, then succeeds', async () => {
    const { queue, processor, events, timers } = setup();
    await queue.enqueue(job('a'));
    processor.fail('a', new WorkerCrashedError('killed'));
    await flush();
    expect(events.at(-1)).toMatchObject({ type: 'retrying', attempt: 1, delayMs: 1000 });
    timers.advance(999);
    expect(processor.started).toHaveLength(1);
    timers.advance(1);
    expect(processor.started).toHaveLength(2);
    processor.fail('a', new WorkerCrashedError('killed again'));
    await flush();
    expect(events.at(-1)).toMatchObject({ type: 'retrying', attempt: 2, delayMs: 2000 });
    timers.advance(2000);
    processor.succeed('a');
    await flush();
    expect(events.at(-1)).toMatchObject({ type: 'completed', attempt: 3 });
  });

  it('gives up after the last attempt and reports the error', async () => {
    const { queue, processor, events, timers } = setup({ maxAttempts: 2 });
    await queue.enqueue(job('a'));
    processor.fail('a', new WorkerCrashedError('boom'));
    await flush();
    timers.advance(1000);
    processor.fail('a', new WorkerCrashedError('boom'));
    await flush();
    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    expect(last && 'error' in last && last.error).toBeInstanceOf(WorkerCrashedError);
  });

  it('never retries bad input', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    processor.fail('a', new BadInputError('MEDIA_CORRUPT', 'broken file'));
    await flush();
    expect(events.at(-1)).toMatchObject({ type: 'failed', attempt: 1 });
    expect(processor.started).toHaveLength(1);
  });

  it('treats an unknown thrown value as a non-retryable internal error', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    processor.fail('a', new TypeError('oops'));
    await flush();
    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    expect(last && 'error' in last && (last.error as VitronError).code).toBe('INTERNAL');
  });

  it('cancels a waiting job without running it', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    expect(await queue.cancel('b')).toBe(true);
    processor.succeed('a');
    await flush();
    expect(processor.started.map((j) => j.id)).toEqual(['a']);
    expect(events.filter((e) => e.type === 'cancelled')).toEqual([{ type: 'cancelled', jobId: 'b' }]);
  });

  it('cancels a running job through its abort signal', async () => {
    const { queue, processor, events } = setup();
    await queue.enqueue(job('a'));
    expect(await queue.cancel('a')).toBe(true);
    await flush();
    expect(processor.started[0]!.signal.aborted).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'cancelled', jobId: 'a' });
    expect(await queue.cancel('a')).toBe(false);
  });

  it('stops a job that runs past the timeout and does not retry it', async () => {
    const { queue, processor, events, timers } = setup({ timeoutMs: 5000 });
    await queue.enqueue(job('a'));
    timers.advance(5000);
    await flush();
    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    expect(last && 'error' in last && last.error).toBeInstanceOf(JobTimeoutError);
    expect(processor.started).toHaveLength(1);
  });

  it('continues the attempt count of a resumed job', async () => {
    const { queue, processor } = setup();
    await queue.enqueue({ ...job('a'), attemptsMade: 2 });
    expect(processor.started[0]!.attempt).toBe(3);
  });

  it('aborts running jobs on close and takes no more', async () => {
    const { queue, processor } = setup();
    await queue.enqueue(job('a'));
    await queue.close();
    expect(processor.started[0]!.signal.aborted).toBe(true);
    await expect(queue.enqueue(job('b'))).rejects.toBeInstanceOf(VitronError);
  });
});
