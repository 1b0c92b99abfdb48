import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { BadInputError, JobCancelledError, WorkerCrashedError } from '../../src/errors.ts';
import { InferencePool } from '../../src/worker/inference-pool.ts';
import type { JobPayload } from '../../src/core/job.ts';
import type { JobProgress } from '../../src/core/types.ts';

const entry = new URL('../helpers/scripted-thread.ts', import.meta.url).href;
const settings = loadSettings({ WORKER_THREADS: '1', LOG_LEVEL: 'silent' });

function payload(script: string, jobId = `job-${script}`): JobPayload {
  const invocation = { task: 'adjust' as const, targets: [], args: { script } };
  return { jobId, conversationId: 'c', steps: [{ targets: [], invocation }] };
}

/** Waits until the thread is up, so that a later abort reaches a job that is really running. */
async function warmUp(p: InferencePool): Promise<void> {
  await p.run(payload('succeed', 'warm-up'), { signal: new AbortController().signal, onProgress: () => {} });
}

let pool: InferencePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('inference pool', () => {
  it('returns the outcome and forwards progress from the thread', async () => {
    pool = new InferencePool({ settings, entry });
    const progress: JobProgress[] = [];
    const outcome = await pool.run(payload('succeed'), { signal: new AbortController().signal, onProgress: (p) => progress.push(p) });
    expect(outcome).toEqual({ steps: [] });
    expect(progress).toEqual([{ fraction: 0.5, step: 1, steps: 1, note: 'half' }]);
  });

  it('starts no thread before the first job, then one per job running at once up to WORKER_THREADS', async () => {
    pool = new InferencePool({ settings: loadSettings({ WORKER_THREADS: '2', LOG_LEVEL: 'silent' }), entry });
    expect(pool.size).toBe(2);
    expect(pool.startedThreads).toBe(0);
    await warmUp(pool);
    expect(pool.startedThreads).toBe(1);
    const never = new AbortController().signal;
    await Promise.all([
      pool.run(payload('succeed', 'a'), { signal: never, onProgress: () => {} }),
      pool.run(payload('succeed', 'b'), { signal: never, onProgress: () => {} }),
    ]);
    expect(pool.startedThreads).toBe(2);
  });

  it('brings back a bad-input error as a non-retryable typed error', async () => {
    pool = new InferencePool({ settings, entry });
    const run = pool.run(payload('bad-input'), { signal: new AbortController().signal, onProgress: () => {} });
    await expect(run).rejects.toBeInstanceOf(BadInputError);
    await expect(run).rejects.toMatchObject({ code: 'MEDIA_CORRUPT', retryable: false });
  });

  it('reports a thread that dies as a retryable crash and keeps serving with a fresh thread', async () => {
    pool = new InferencePool({ settings, entry });
    const crashed = pool.run(payload('crash'), { signal: new AbortController().signal, onProgress: () => {} });
    await expect(crashed).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(crashed).rejects.toMatchObject({ retryable: true });
    const next = await pool.run(payload('succeed', 'after-crash'), { signal: new AbortController().signal, onProgress: () => {} });
    expect(next).toEqual({ steps: [] });
    expect(pool.size).toBe(1);
  });

  it('lets a cooperative job stop itself on cancel', async () => {
    pool = new InferencePool({ settings, entry });
    await warmUp(pool);
    const controller = new AbortController();
    const run = pool.run(payload('cooperative'), { signal: controller.signal, onProgress: () => {} });
    setTimeout(() => controller.abort(new JobCancelledError()), 50);
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('terminates a thread stuck in blocking work after the grace period, and replaces it', async () => {
    pool = new InferencePool({ settings, entry, killGraceMs: 200 });
    await warmUp(pool);
    const controller = new AbortController();
    const run = pool.run(payload('hang'), { signal: controller.signal, onProgress: () => {} });
    setTimeout(() => controller.abort(new JobCancelledError()), 100);
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    const next = await pool.run(payload('succeed', 'after-hang'), { signal: new AbortController().signal, onProgress: () => {} });
    expect(next).toEqual({ steps: [] });
  });

  describe('classifying uploads', () => {
    const picture = (score: number, slow = false) => ({ kind: 'image' as const, bytes: new Uint8Array([score, slow ? 1 : 0, 7, 7]) });

    it('answers on the first thread it starts, which then runs the next job', async () => {
      pool = new InferencePool({ settings, entry });
      expect(pool.startedThreads).toBe(0);
      expect(await pool.classify(picture(200))).toEqual({ nsfw: 200 / 255, flagged: true });
      expect(await pool.classify(picture(10))).toEqual({ nsfw: 10 / 255, flagged: false });
      await warmUp(pool);
      expect(pool.startedThreads).toBe(1);
    });

    it('answers while the only thread has a job, without waiting for the job', async () => {
      pool = new InferencePool({ settings, entry });
      await warmUp(pool);
      const job = new AbortController();
      const running = pool.run(payload('cooperative'), { signal: job.signal, onProgress: () => {} });
      expect(await pool.classify(picture(40))).toEqual({ nsfw: 40 / 255, flagged: false });
      job.abort(new JobCancelledError());
      await expect(running).rejects.toBeInstanceOf(JobCancelledError);
    });

    it('sends a classification lost with its thread to the fresh thread', async () => {
      pool = new InferencePool({ settings, entry });
      await warmUp(pool);
      const verdict = pool.classify(picture(130, true));
      // The job's thread exits while the classification is still held back on it.
      await expect(pool.run(payload('crash'), { signal: new AbortController().signal, onProgress: () => {} })).rejects.toBeInstanceOf(WorkerCrashedError);
      expect(await verdict).toEqual({ nsfw: 130 / 255, flagged: true });
    });

    it('refuses classifications once the pool is closing', async () => {
      pool = new InferencePool({ settings, entry });
      const pending = expect(pool.classify(picture(1, true))).rejects.toBeInstanceOf(WorkerCrashedError);
      await pool.close();
      await pending;
      await expect(pool.classify(picture(1))).rejects.toBeInstanceOf(WorkerCrashedError);
    });
  });
});
