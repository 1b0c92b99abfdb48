import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, expect, it } from 'vitest';
import { LANES } from '../../src/queue/lanes.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { makeClip, solidImage } from '../helpers/media-fixtures.ts';
import { startLocalS3 } from '../helpers/s3-server.ts';
import { TEST_REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/bullmq-redis.ts';
import { startWorkerProcess } from './worker-process.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `vitron-${name}-`));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describeWithRedis('a bot and a worker on different "machines" sharing media through S3 (s3rver, real Redis, real processes)', () => {
  it('runs image and video jobs on a worker that shares no disk with the bot', { timeout: 240_000 }, async () => {
    const s3 = await startLocalS3();
    cleanups.push(() => s3.close());
    const prefix = uniquePrefix();
    cleanups.push(() => dropPrefix(prefix, LANES));
    // Two data directories: nothing reaches the worker except through Redis and the bucket.
    const botDir = await tempDir('s3-bot');
    const workerDir = await tempDir('s3-worker');
    const shared = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, ...s3.settings };
    const harness = await startTestBot({ ...shared, RUN_WORKER: 'false' }, { dir: botDir });
    cleanups.push(() => harness.running.close());
    const worker = await startWorkerProcess({ ...shared, DATA_DIR: workerDir, METRICS_PORT: '0' });
    cleanups.push(() => worker.kill('SIGKILL'));
    const bot = harness.running.bot;

    const user = testUser();
    const conversation = await bot.startConversation({ user, title: 's3' });
    const events = new EventRecorder();
    bot.subscribe(conversation.id, events.listener);

    const image = await bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'make it black and white',
      files: [{ name: 'red.png', bytes: await solidImage(64, 48, '#cc2222') }],
    });
    const imageDone = await events.finished(image);
    expect(imageDone.job.state).toBe('succeeded');
    const imageResult = imageDone.turn.media.find((m) => m.role === 'result')!;
    const { path: imagePath } = await bot.media(imageResult.id);
    const { data, info } = await sharp(imagePath).raw().toBuffer({ resolveWithObject: true });
    // Grey: the worker's edit came back through the bucket, not a blank or the original.
    expect(Math.abs(data[0]! - data[1]!)).toBeLessThanOrEqual(2);
    expect(info.width).toBe(64);

    const clip = await makeClip(botDir, 's3clip', { seconds: 2, fps: 10, width: 160, height: 120 });
    const video = await bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'reverse it',
      files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }],
    });
    const videoDone = await events.finished(video);
    expect(videoDone.job.state).toBe('succeeded');
    expect(videoDone.turn.media.find((m) => m.role === 'result')?.kind).toBe('video');

    // The worker's own metrics: the jobs it ran, per task, and the lanes' depth read from Redis.
    const metricsUrl = worker.logs.find((l) => l.msg === 'worker metrics listening')?.url as string;
    const body = await (await fetch(`${metricsUrl.replace(/\/$/, '')}/metrics`)).text();
    const succeeded = [...body.matchAll(/^vitron_job_outcomes_total\{task="([^"]+)",outcome="succeeded"\} (\d+)$/gm)];
    expect(succeeded.reduce((n, m) => n + Number(m[2]), 0)).toBe(2);
    expect(succeeded.map((m) => m[1])).toContain('reverse');
    expect(body).toMatch(/^vitron_queue_jobs\{lane="image",state="completed"\} 1$/m);
    expect(body).toMatch(/^vitron_queue_jobs\{lane="video",state="completed"\} 1$/m);

    // The worker wrote no media of its own to a local media directory: only its S3 read cache.
    const workerFiles = await filesUnder(workerDir);
    expect(workerFiles.filter((f) => !f.includes(`${path.sep}s3-cache${path.sep}`) && /[0-9a-f]{64}/.test(path.basename(f)))).toEqual([]);
  });
});
