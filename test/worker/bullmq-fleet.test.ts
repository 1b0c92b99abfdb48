import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, expect, it } from 'vitest';
import { LANES, queueNameOf } from '../../src/queue/lanes.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { makeClip, solidImage } from '../helpers/media-fixtures.ts';
import { TEST_REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/bullmq-redis.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

/** Real processes and real video work on a shared CI machine: room to be slow, no timed assertion. */
const PROCESS_TEST_TIMEOUT = 180_000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One deployment in a temp dir: a bot (the test's process) and workers (child processes) on one Redis prefix. */
async function deployment(botEnv: Record<string, string> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-fleet-'));
  const prefix = uniquePrefix();
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  cleanups.push(() => dropPrefix(prefix, LANES));
  // A short lock so a killed worker's job is taken over within seconds instead of half a minute.
  const shared = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, WORKER_LOCK_MS: '2000' };
  const harness = await startTestBot({ ...shared, RUN_WORKER: 'false', ...botEnv }, { dir });
  cleanups.push(() => harness.running.close());
  const workers: WorkerProcess[] = [];
  const startWorker = async (env: Record<string, string> = {}) => {
    const worker = await startWorkerProcess({ ...shared, DATA_DIR: dir, ...env });
    workers.push(worker);
    cleanups.push(() => worker.kill('SIGKILL'));
    return worker;
  };
  const user = testUser();
  const conversation = await harness.running.bot.startConversation({ user, title: 'fleet' });
  const events = new EventRecorder();
  harness.running.bot.subscribe(conversation.id, events.listener);
  /** What Redis holds about a video-lane job. */
  const redisJob = async (jobId: string) => {
    const queue = new Queue(queueNameOf('video'), { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      const job = await queue.getJob(jobId);
      return job && { state: await job.getState(), attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted, failedReason: job.failedReason };
    } finally {
      await queue.close();
    }
  };
  return { dir, prefix, bot: harness.running.bot, user, conversationId: conversation.id, events, startWorker, redisJob };
}

describeWithRedis('bot and worker processes on BullMQ (real Redis, real processes)', () => {
  it('survives a worker killed (SIGKILL) mid-job: another worker finishes it and the user gets exactly one result', {
    timeout: PROCESS_TEST_TIMEOUT,
  }, async () => {
    const d = await deployment();
    const first = await d.startWorker();
    const clip = await makeClip(d.dir, 'slow', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await d.bot.handleTurn({
      conversationId: d.conversationId,
      user: d.user,
      text: 'make it black and white',
      files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }],
    });
    const jobId = turn.job!.id;
    await d.events.next('job.progress', 0, (e) => e.job.id === jobId && (e.job.progress?.fraction ?? 0) > 0);
    await first.kill('SIGKILL');

    await d.startWorker();
    const finished = await d.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('video');

    const history = await d.bot.history(d.conversationId);
    expect(history.turns.filter((t) => t.media.some((m) => m.role === 'result'))).toHaveLength(1);
    expect(d.events.events.filter((e) => e.type === 'job.finished' && e.job.id === jobId)).toHaveLength(1);
    // Started twice, but the stall was not charged as a failed attempt (BullMQ counts the success as one).
    expect(await d.redisJob(jobId)).toMatchObject({ state: 'completed', attemptsMade: 1, attemptsStarted: 2 });
  });

  it('cancels a job running in another process: it stops, ends cancelled and is not retried', { timeout: PROCESS_TEST_TIMEOUT }, async () => {
    const d = await deployment();
    const worker = await d.startWorker();
    const clip = await makeClip(d.dir, 'long', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await d.bot.handleTurn({
      conversationId: d.conversationId,
      user: d.user,
      text: 'make it black and white',
      files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }],
    });
    const jobId = turn.job!.id;
    await d.events.next('job.progress', 0, (e) => e.job.id === jobId && (e.job.progress?.fraction ?? 0) > 0);

    await d.bot.cancelJob(jobId, d.user);
    const finished = await d.events.finished(turn);
    expect(finished.job.state).toBe('cancelled');
    expect(finished.turn.text).toBe('Cancelled.');
    expect(await d.redisJob(jobId)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(worker.child.exitCode).toBeNull();
  });

  it('stops gracefully on SIGTERM: the worker exits 0 and its job still reaches the user once', { timeout: PROCESS_TEST_TIMEOUT }, async () => {
    const d = await deployment();
    const first = await d.startWorker();
    const clip = await makeClip(d.dir, 'term', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await d.bot.handleTurn({
      conversationId: d.conversationId,
      user: d.user,
      text: 'make it black and white',
      files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }],
    });
    await d.events.next('job.progress', 0, (e) => e.job.id === turn.job!.id && (e.job.progress?.fraction ?? 0) > 0);
    const second = d.startWorker();
    expect(await first.kill('SIGTERM')).toBe(0);
    await second;
    const finished = await d.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    const history = await d.bot.history(d.conversationId);
    expect(history.turns.filter((t) => t.media.some((m) => m.role === 'result'))).toHaveLength(1);
  });

  it('runs jobs in the bot process too when RUN_WORKER is on (one-machine setup)', { timeout: PROCESS_TEST_TIMEOUT }, async () => {
    const d = await deployment({ RUN_WORKER: 'true' });
    const turn = await d.bot.handleTurn({
      conversationId: d.conversationId,
      user: d.user,
      text: 'make it black and white',
      files: [{ name: 'red.png', bytes: await solidImage(64, 48, '#cc2222') }],
    });
    const finished = await d.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('image');
  });

  it('delivers a result to its conversation when the bot restarts while the job runs on a worker', { timeout: PROCESS_TEST_TIMEOUT }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-fleet-'));
    const prefix = uniquePrefix();
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    cleanups.push(() => dropPrefix(prefix, LANES));
    const env = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, RUN_WORKER: 'false', PGLITE_DIR: path.join(dir, 'db') };
    const worker = await startWorkerProcess({ ...env, DATA_DIR: dir });
    cleanups.push(() => worker.kill('SIGKILL'));

    const first = await startTestBot(env, { dir });
    const user = testUser();
    const conversation = await first.running.bot.startConversation({ user, title: 'bot restart' });
    const before = new EventRecorder();
    first.running.bot.subscribe(conversation.id, before.listener);
    const clip = await makeClip(dir, 'restart', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await first.running.bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'make it black and white',
      files: [{ bytes: await fs.readFile(clip) }],
    });
    await before.next('job.progress', 0, (e) => e.job.id === turn.job?.id && (e.job.progress?.fraction ?? 0) > 0);
    await first.running.close();

    const second = await startTestBot(env, { dir, recover: false });
    cleanups.push(() => second.running.close());
    const after = new EventRecorder();
    second.running.bot.subscribe(conversation.id, after.listener);
    // Running elsewhere is not "interrupted": the job is followed, not restarted.
    expect((await second.running.bot.job(turn.job!.id)).state).toBe('running');
    expect(await second.running.bot.recoverUnfinishedJobs()).toEqual({ resumed: 1, reported: 0 });
    const finished = await after.next('job.finished', 0, (e) => e.job.id === turn.job?.id);
    expect(finished.job.state).toBe('succeeded');
    const history = await second.running.bot.history(conversation.id);
    expect(history.turns.filter((t) => t.media.some((m) => m.role === 'result'))).toHaveLength(1);
    expect(history.turns.some((t) => /restarted/.test(t.text))).toBe(false);
  });
});
