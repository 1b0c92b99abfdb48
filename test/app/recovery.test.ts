import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { makeClip } from '../helpers/media-fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-recovery-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Real video work resumed across processes on a shared 2-core machine: room to be slow, no timed assertion. */
const RECOVERY_TIMEOUT = 180_000;

describe('nothing is lost when the bot stops mid-job', () => {
  it('resumes a job whose process was killed (SIGKILL) and delivers its result to the same conversation', { timeout: RECOVERY_TIMEOUT }, async () => {
    const dir = await tempDir();
    const clip = await makeClip(dir, 'slow', { seconds: 12, fps: 25, width: 320, height: 240 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/bot-process.ts', dir, clip], { stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`bot process exited early with ${code}`)));
    });
    const { conversationId, jobId } = JSON.parse(firstLine) as { conversationId: string; jobId: string };
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const harness = await startTestBot({ PGLITE_DIR: path.join(dir, 'db') }, { dir, recover: false });
    cleanups.unshift(() => harness.running.close());
    const events = new EventRecorder();
    harness.running.bot.subscribe(conversationId, events.listener);
    expect((await harness.running.bot.job(jobId)).state).toBe('running');

    expect(await harness.running.bot.recoverUnfinishedJobs()).toEqual({ resumed: 1, reported: 0 });
    const finished = await events.next('job.finished', 0, (e) => e.job.id === jobId);
    expect(finished.job.state).toBe('succeeded');
    expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('video');
    const history = await harness.running.bot.history(conversationId);
    expect(history.turns.some((t) => t.role === 'bot' && /restarted/.test(t.text))).toBe(true);
    expect(history.turns.filter((t) => t.media.some((m) => m.role === 'result'))).toHaveLength(1);
  });

  it('marks a job interrupted on a graceful stop and picks it up at the next start', { timeout: RECOVERY_TIMEOUT }, async () => {
    const dir = await tempDir();
    const env = { PGLITE_DIR: path.join(dir, 'db') };
    const first = await startTestBot(env, { dir });
    const user = testUser();
    const conversation = await first.running.bot.startConversation({ user, title: 'graceful stop' });
    const events = new EventRecorder();
    first.running.bot.subscribe(conversation.id, events.listener);
    const clip = await makeClip(dir, 'graceful', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await first.running.bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'make it black and white',
      files: [{ bytes: await fs.readFile(clip) }],
    });
    await events.next('job.progress', 0, (e) => e.job.id === turn.job?.id && (e.job.progress?.fraction ?? 0) > 0);
    await first.running.close();

    const second = await startTestBot(env, { dir, recover: false });
    cleanups.unshift(() => second.running.close());
    expect((await second.running.bot.job(turn.job!.id)).state).toBe('interrupted');
    const after = new EventRecorder();
    second.running.bot.subscribe(conversation.id, after.listener);
    await second.running.bot.recoverUnfinishedJobs();
    const finished = await after.next('job.finished', 0, (e) => e.job.id === turn.job?.id);
    expect(finished.job.state).toBe('succeeded');
  });

  it('reports, rather than retries forever, a job that was interrupted on its last attempt', { timeout: RECOVERY_TIMEOUT }, async () => {
    const dir = await tempDir();
    const env = { PGLITE_DIR: path.join(dir, 'db'), JOB_MAX_ATTEMPTS: '1' };
    const first = await startTestBot(env, { dir });
    const user = testUser();
    const conversation = await first.running.bot.startConversation({ user, title: 'out of attempts' });
    const events = new EventRecorder();
    first.running.bot.subscribe(conversation.id, events.listener);
    const clip = await makeClip(dir, 'attempts', { seconds: 12, fps: 25, width: 320, height: 240 });
    const turn = await first.running.bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'make it black and white',
      files: [{ bytes: await fs.readFile(clip) }],
    });
    await events.next('job.progress', 0, (e) => e.job.id === turn.job?.id && (e.job.progress?.fraction ?? 0) > 0);
    await first.running.close();

    const second = await startTestBot(env, { dir, recover: false });
    cleanups.unshift(() => second.running.close());
    const after = new EventRecorder();
    second.running.bot.subscribe(conversation.id, after.listener);
    expect(await second.running.bot.recoverUnfinishedJobs()).toEqual({ resumed: 0, reported: 1 });
    const finished = await after.next('job.finished', 0, (e) => e.job.id === turn.job?.id);
    expect(finished.job.state).toBe('failed');
    expect(finished.turn.text).toMatch(/restarted/);
    void sharp;
  });
});
