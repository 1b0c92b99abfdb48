import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/tasks.ts';
import { BadInputError, WorkerCrashedError } from '../../src/errors.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { observeQueue } from '../../src/metrics/observe-queue.ts';
import { InProcessQueue } from '../../src/queue/in-process-queue.ts';
import type { JobProcessor, RunningJob } from '../../src/queue/job-queue.ts';
import type { JobPayload } from '../../src/core/job.ts';
import { ManualTimers } from '../helpers/manual-timers.ts';
import { family, typeOf, sampleValue } from './exposition.ts';

/** A processor whose jobs finish only when the test says so (as in the queue's own tests). */
class ControlledProcessor {
  readonly started: RunningJob<JobPayload>[] = [];
  private readonly settle = new Map<string, { resolve: (v: string) => void; reject: (e: unknown) => void }>();

  readonly process: JobProcessor<JobPayload, string> = (job) => {
    this.started.push(job);
    return new Promise<string>((resolve, reject) => {
      this.settle.set(job.id, { resolve, reject });
      job.signal.addEventListener('abort', () => reject(job.signal.reason));
    });
  };

  succeed(id: string): void {
    this.settle.get(id)!.resolve(`done ${id}`);
  }

  fail(id: string, error: unknown): void {
    this.settle.get(id)!.reject(error);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function payload(jobId: string, tasks: Task[]): JobPayload {
  return {
    jobId,
    conversationId: 'c1',
    steps: tasks.map((task) => ({ task, targets: [], args: {}, invocation: { task, targets: [], args: {} } })),
  };
}

function setup(options: { concurrency?: number; maxActivePerUser?: number } = {}) {
  const timers = new ManualTimers();
  const processor = new ControlledProcessor();
  const inner = new InProcessQueue<JobPayload, string>(processor.process, {
    concurrency: options.concurrency ?? 4,
    maxRunningPerUser: 4,
    maxActivePerUser: options.maxActivePerUser ?? 20,
    maxAttempts: 3,
    backoffMs: 1000,
    timeoutMs: 3_600_000,
    timers,
  });
  // The queue's manual clock is the metrics clock too: advancing it is how a job "takes" time.
  const metrics = new Metrics({ defaultMetrics: false, now: () => timers.now });
  const queue = observeQueue(metrics, inner);
  const enqueue = (id: string, tasks: Task[], userId = 'u1') => queue.enqueue({ id, userId, conversationId: 'c1', payload: payload(id, tasks) });
  const scrape = async () => (await metrics.scrape()).body;
  return { timers, processor, inner, queue, metrics, enqueue, scrape };
}

describe('observeQueue', () => {
  it('times successful jobs per task into the right histogram buckets', async () => {
    const { timers, processor, enqueue, scrape } = setup();
    await enqueue('a', ['cutout']);
    timers.advance(200);
    processor.succeed('a');
    await flush();
    await enqueue('b', ['cutout']);
    await enqueue('c', ['ocr']);
    timers.advance(3000);
    processor.succeed('b');
    await flush();
    timers.advance(37_000);
    processor.succeed('c');
    await flush();

    const text = await scrape();
    expect(typeOf(text, 'vitron_job_duration_seconds')).toBe('histogram');
    const cutout = { task: 'cutout' };
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', cutout)).toBe(2);
    expect(sampleValue(text, 'vitron_job_duration_seconds_sum', cutout)).toBeCloseTo(3.2, 6);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '0.1', task: 'cutout' })).toBe(0);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '0.25', task: 'cutout' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '2.5', task: 'cutout' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '5', task: 'cutout' })).toBe(2);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '+Inf', task: 'cutout' })).toBe(2);
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', { task: 'ocr' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_sum', { task: 'ocr' })).toBeCloseTo(40, 6);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '30', task: 'ocr' })).toBe(0);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '60', task: 'ocr' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_bucket', { le: '600', task: 'ocr' })).toBe(1);
    expect(family(text, 'vitron_job_outcomes_total')).toEqual({ 'task=cutout,outcome=succeeded': 2, 'task=ocr,outcome=succeeded': 1 });
  });

  it('counts failures per task and error code, and times them', async () => {
    const { timers, processor, enqueue, scrape } = setup();
    await enqueue('a', ['adjust']);
    timers.advance(700);
    processor.fail('a', new BadInputError('MEDIA_CORRUPT', 'broken file'));
    await enqueue('b', ['adjust']);
    await flush();
    processor.succeed('b');
    await flush();

    const text = await scrape();
    expect(family(text, 'vitron_job_outcomes_total')).toEqual({ 'task=adjust,outcome=failed': 1, 'task=adjust,outcome=succeeded': 1 });
    expect(family(text, 'vitron_job_failures_total')).toEqual({ 'task=adjust,code=MEDIA_CORRUPT': 1 });
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', { task: 'adjust' })).toBe(2);
    expect(sampleValue(text, 'vitron_job_duration_seconds_sum', { task: 'adjust' })).toBeCloseTo(0.7, 6);
  });

  it('counts each retried attempt and times only the attempt that ended the job', async () => {
    const { timers, processor, enqueue, scrape } = setup();
    await enqueue('a', ['cutout']);
    timers.advance(5000);
    processor.fail('a', new WorkerCrashedError('killed'));
    await flush();
    timers.advance(1000); // the backoff; the job starts again
    expect(processor.started).toHaveLength(2);
    timers.advance(400);
    processor.succeed('a');
    await flush();

    const text = await scrape();
    expect(family(text, 'vitron_job_outcomes_total')).toEqual({ 'task=cutout,outcome=retried': 1, 'task=cutout,outcome=succeeded': 1 });
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', { task: 'cutout' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_sum', { task: 'cutout' })).toBeCloseTo(0.4, 6);
  });

  it('counts cancelled jobs, waiting or running, per task without timing them', async () => {
    const { processor, enqueue, queue, scrape } = setup({ concurrency: 1 });
    await enqueue('running', ['trim']);
    await enqueue('waiting', ['to_gif']);
    expect(processor.started.map((j) => j.id)).toEqual(['running']);
    await queue.cancel('waiting');
    await queue.cancel('running');
    await flush();

    const text = await scrape();
    expect(family(text, 'vitron_job_outcomes_total')).toEqual({ 'task=trim,outcome=cancelled': 1, 'task=to_gif,outcome=cancelled': 1 });
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', { task: 'trim' })).toBeUndefined();
    expect(family(text, 'vitron_jobs_running')).toEqual({});
  });

  it('shows running jobs per task and the queue depth at scrape time', async () => {
    const { processor, enqueue, scrape, metrics } = setup({ concurrency: 2 });
    await enqueue('a', ['cutout']);
    await enqueue('b', ['cutout']);
    await enqueue('c', ['ocr']);
    await enqueue('d', ['ocr']);

    let text = await scrape();
    expect(typeOf(text, 'vitron_jobs_running')).toBe('gauge');
    expect(family(text, 'vitron_jobs_running')).toEqual({ 'task=cutout': 2 });
    expect(family(text, 'vitron_queue_jobs')).toEqual({ 'lane=all,state=queued': 2, 'lane=all,state=running': 2 });

    processor.succeed('a');
    await flush();
    text = await scrape();
    expect(family(text, 'vitron_jobs_running')).toEqual({ 'task=cutout': 1, 'task=ocr': 1 });
    expect(family(text, 'vitron_queue_jobs')).toEqual({ 'lane=all,state=queued': 1, 'lane=all,state=running': 2 });

    for (const id of ['b', 'c']) processor.succeed(id);
    await flush();
    processor.succeed('d');
    await flush();
    text = await scrape();
    expect(family(text, 'vitron_jobs_running')).toEqual({});
    expect(family(text, 'vitron_queue_jobs')).toEqual({ 'lane=all,state=queued': 0, 'lane=all,state=running': 0 });
    expect(metrics.jobs.tracked).toBe(0);
  });

  it('labels a chain with its tasks in order', async () => {
    const { processor, enqueue, scrape } = setup();
    await enqueue('a', ['transform', 'adjust', 'adjust']);
    processor.succeed('a');
    await flush();
    expect(family(await scrape(), 'vitron_job_outcomes_total')).toEqual({ 'task=transform+adjust,outcome=succeeded': 1 });
  });

  it('counts nothing for a job refused by a per-user limit, and forgets it', async () => {
    const { enqueue, scrape, metrics } = setup({ maxActivePerUser: 1 });
    await enqueue('a', ['cutout']);
    await expect(enqueue('b', ['ocr'])).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    expect(metrics.jobs.tracked).toBe(1);
    expect(family(await scrape(), 'vitron_jobs_running')).toEqual({ 'task=cutout': 1 });
  });

  it('counts a job enqueued around it (another bot process) under the task "unknown"', async () => {
    const { inner, processor, scrape } = setup();
    await inner.enqueue({ id: 'x', userId: 'u2', conversationId: 'c2', payload: payload('x', ['cutout']) });
    processor.succeed('x');
    await flush();
    expect(family(await scrape(), 'vitron_job_outcomes_total')).toEqual({ 'task=unknown,outcome=succeeded': 1 });
  });

  it('stops recording after stopObserving, and the queue keeps working', async () => {
    const { queue, processor, enqueue, scrape } = setup();
    queue.stopObserving();
    await enqueue('a', ['cutout']);
    processor.succeed('a');
    await flush();
    const text = await scrape();
    expect(family(text, 'vitron_job_outcomes_total')).toEqual({});
    expect(family(text, 'vitron_queue_jobs')).toEqual({});
    expect(queue.kind).toBe('in-process');
  });
});
