/**
 * Fault: a poisoned job, one whose input crashes whatever runs it, every time. It is stopped after
 * JOB_MAX_ATTEMPTS, reported to its user with a message that says so, and does not take the fleet down:
 * the workers keep (or are brought back to) running everyone else's jobs. Real Redis, a real bot, real
 * worker processes; the poison is scripted per input by test/helpers/fault-thread.ts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { LANES, queueNameOf } from '../../src/queue/lanes.ts';
import { JobKeepsCrashingWorkersError, WorkerCrashedError } from '../../src/errors.ts';
import { BULLMQ_STALLED_LIMIT_REASON, decodeJobError, encodeJobError } from '../../src/queue/job-error-codec.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { scriptFault } from '../helpers/fault-scripts.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { WorkerSupervisor } from '../helpers/worker-supervisor.ts';
import { TEST_REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/bullmq-redis.ts';

/** Worker processes killed and started again on a shared machine: room to be slow, no timed assertion. */
const TIMEOUT = 300_000;
const MAX_ATTEMPTS = 2;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A bot (this process, no worker of its own) and supervised worker processes on one Redis prefix. */
async function deployment() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-poison-'));
  const prefix = uniquePrefix();
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  cleanups.push(() => dropPrefix(prefix, LANES));
  // A short lock, so a dead worker's job is noticed within seconds instead of half a minute.
  const shared = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, WORKER_LOCK_MS: '2000', JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS) };
  const harness = await startTestBot({ ...shared, RUN_WORKER: 'false', JOB_RETRY_BACKOFF_MS: '200' }, { dir });
  cleanups.push(() => harness.running.close());
  const workers = new WorkerSupervisor({ ...shared, DATA_DIR: dir });
  cleanups.push(() => workers.stop());
  const bot = harness.running.bot;
  const conversation = async (title: string) => {
    const user = testUser();
    const view = await bot.startConversation({ user, title });
    const events = new EventRecorder();
    bot.subscribe(view.id, events.listener);
    const send = (text: string, image: Buffer) => bot.handleTurn({ conversationId: view.id, user, text, files: [{ bytes: image }] });
    return { id: view.id, user, events, send };
  };
  /** What Redis holds about an image-lane job. */
  const redisJob = async (jobId: string) => {
    const queue = new Queue(queueNameOf('image'), { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      const job = await queue.getJob(jobId);
      return (
        job && {
          state: await job.getState(),
          attemptsMade: job.attemptsMade,
          attemptsStarted: job.attemptsStarted,
          stalledCounter: job.stalledCounter,
          failedReason: job.failedReason,
        }
      );
    } finally {
      await queue.close();
    }
  };
  return { bot, workers, conversation, redisJob };
}

describe('the reason a poisoned job failed, as the bot reads it', () => {
  it("turns BullMQ's stalled-limit reason into a final WORKER_CRASHED error that says what happened", () => {
    const error = decodeJobError(BULLMQ_STALLED_LIMIT_REASON, { stalls: 2 });
    expect(error).toBeInstanceOf(JobKeepsCrashingWorkersError);
    expect(error).toMatchObject({ code: 'WORKER_CRASHED', retryable: false, details: { runs: 2 } });
    expect(error.message).toMatch(/stopped the worker running it 2 times, so it was given up/);
    expect(decodeJobError(BULLMQ_STALLED_LIMIT_REASON).message).toMatch(/stopped the worker running it each time it ran/);
  });

  it('still decodes our own errors and leaves other reasons internal', () => {
    expect(decodeJobError(encodeJobError(new WorkerCrashedError('inference thread exited with code 70')))).toMatchObject({
      code: 'WORKER_CRASHED',
      retryable: true,
    });
    expect(decodeJobError('job started more than allowable limit')).toMatchObject({ code: 'INTERNAL' });
  });
});

describeWithRedis('a poisoned job (real Redis, real worker processes)', () => {
  it('crashes its inference thread every time: retried up to JOB_MAX_ATTEMPTS, reported, and the worker runs the next job', { timeout: TIMEOUT }, async () => {
    const d = await deployment();
    await d.workers.start(1);
    const [workerPid] = d.workers.pids;
    const alice = await d.conversation('poison: thread');

    const poison = await solidImage(40, 30, '#aa0011');
    cleanups.push(await scriptFault(poison, 'crash-thread'));
    const turn = await alice.send('make it brighter', poison);
    const finished = await alice.events.finished(turn);
    expect(finished.job.state).toBe('failed');
    expect(finished.turn.text).toMatch(/^Sorry, that did not work\. The worker stopped unexpectedly: inference thread exited/);
    // Retried (the conversation heard of the retry) and given up after exactly JOB_MAX_ATTEMPTS.
    expect(alice.events.events.some((e) => e.type === 'job.progress' && e.job.id === turn.job!.id && e.job.error?.code === 'WORKER_CRASHED')).toBe(true);
    expect(await d.redisJob(turn.job!.id)).toMatchObject({ state: 'failed', attemptsMade: MAX_ATTEMPTS, attemptsStarted: MAX_ATTEMPTS });

    // Only the thread died: the same worker process is still there and runs the next job.
    expect(d.workers.deaths).toEqual([]);
    expect(d.workers.pids).toEqual([workerPid]);
    const next = await alice.send('make it black and white', await solidImage(40, 30, '#11aa00'));
    const done = await alice.events.finished(next);
    expect(done.job.state).toBe('succeeded');
    expect(done.turn.media.find((m) => m.role === 'result')?.kind).toBe('image');
  });

  it('kills its whole worker process every time: restarted workers take it over until the stall limit, it is reported, and others still get their results', {
    timeout: TIMEOUT,
  }, async () => {
    const d = await deployment();
    await d.workers.start(2);
    const alice = await d.conversation('poison: process');
    const bob = await d.conversation('innocent bystander');

    const poison = await solidImage(40, 30, '#660066');
    cleanups.push(await scriptFault(poison, 'kill-process'));
    const poisoned = await alice.send('make it brighter', poison);
    const colours = ['#224488', '#448822', '#882244'];
    const innocent = [];
    for (const colour of colours) innocent.push(await bob.send('make it black and white', await solidImage(40, 30, colour)));

    const failed = await alice.events.finished(poisoned);
    expect(failed.job.state).toBe('failed');
    expect(failed.job.error?.code).toBe('WORKER_CRASHED');
    expect(failed.turn.text).toMatch(/^Sorry, that did not work\. The job stopped the worker running it .+, so it was given up\. The file itself may be/);
    const inRedis = await d.redisJob(poisoned.job!.id);
    expect(inRedis).toMatchObject({ state: 'failed', failedReason: BULLMQ_STALLED_LIMIT_REASON });

    for (const turn of innocent) {
      const finished = await bob.events.finished(turn);
      expect(finished.job.state).toBe('succeeded');
      expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('image');
    }
    // Every death was the poison's doing (SIGKILL), and the fleet is back to full strength.
    expect(d.workers.deaths.length).toBeGreaterThan(0);
    expect(d.workers.deaths.every((death) => death.signal === 'SIGKILL')).toBe(true);
    expect(d.workers.alive).toBe(2);

    // JOB_MAX_ATTEMPTS bounds how many workers one job may take down, as it bounds ordinary failures.
    expect(d.workers.deaths, 'worker processes the poisoned job killed').toHaveLength(MAX_ATTEMPTS);
    expect(inRedis?.stalledCounter).toBe(MAX_ATTEMPTS);
  });
});
