import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TurnResult } from '../../src/app/bot-api.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { makeClip } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';
import { startRedisInstance } from '../helpers/redis-instance.ts';
import { startWorkerProcess } from './worker-process.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

(await requires('redis-server')).describe('Redis restarted while jobs are queued and running (real Redis, real processes)', () => {
  it('reconnects the bot and the worker, loses no job and shows each result once', { timeout: 300_000 }, async () => {
    const redis = await startRedisInstance();
    cleanups.push(() => redis.destroy());
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-redis-restart-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const shared = { REDIS_URL: redis.url, QUEUE_PREFIX: 'restart', WORKER_LOCK_MS: '4000' };
    const harness = await startTestBot({ ...shared, RUN_WORKER: 'false' }, { dir });
    cleanups.push(() => harness.running.close());
    const worker = await startWorkerProcess({ ...shared, DATA_DIR: dir });
    cleanups.push(() => worker.kill('SIGKILL'));
    const bot = harness.running.bot;

    const user = testUser();
    const conversation = await bot.startConversation({ user, title: 'redis restart' });
    const events = new EventRecorder();
    bot.subscribe(conversation.id, events.listener);
    const clip = await fs.readFile(await makeClip(dir, 'restart', { seconds: 6, fps: 25, width: 320, height: 240 }));
    const submit = (text: string) => bot.handleTurn({ conversationId: conversation.id, user, text, files: [{ name: 'clip.mp4', bytes: clip }] });

    // One video job running and two waiting behind it in the video lane (one at a time per lane here).
    const turns: TurnResult[] = [await submit('make it black and white'), await submit('make it brighter'), await submit('flip it horizontally')];
    const running = turns[0]!.job!.id;
    await events.next('job.progress', 0, (e) => e.job.id === running && (e.job.progress?.fraction ?? 0) > 0);

    await redis.stop();
    // A turn during the outage waits for Redis instead of failing or being dropped.
    const duringOutage = submit('make it darker');
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    turns.push(await duringOutage);

    for (const turn of turns) {
      const finished = await events.finished(turn);
      expect(finished.job.state, `job ${finished.job.id}`).toBe('succeeded');
    }
    // Each job ended once for the user, and each turn has exactly one result.
    for (const turn of turns) {
      expect(events.events.filter((e) => e.type === 'job.finished' && e.job.id === turn.job!.id)).toHaveLength(1);
    }
    const history = await bot.history(conversation.id);
    const results = history.turns.filter((t) => t.media.some((m) => m.role === 'result'));
    expect(results).toHaveLength(turns.length);
    expect(worker.child.exitCode).toBeNull();

    // Still consuming after the restart: a new job runs through the same bot and worker.
    const after = await submit('make it black and white');
    expect((await events.finished(after)).job.state).toBe('succeeded');
  });
});
