/** The scaling curve: jobs/s of a small CPU-bound job with 1, 2 and 4 worker processes on this machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import type { BullmqJobQueue } from '../src/queue/bullmq-queue.ts';
import { median } from './measure.ts';
import { LANE, USERS, closeAll, countdown, dropPrefix, listenFinished, newPrefix, ourQueue, type BullmqBenchOptions } from './bullmq-parts.ts';

interface WorkerChild {
  child: ChildProcess;
  /** Closes the child's stdin (its signal to stop), waits for it to exit (SIGKILL after 10 s); resolves to the jobs it ran. */
  stop(): Promise<number | undefined>;
}

const WORKER_SCRIPT = path.join(import.meta.dirname, 'bullmq-worker-process.ts');
const REPO_ROOT = path.resolve(import.meta.dirname, '..');

async function spawnWorker(env: Record<string, string>): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.stdin!.on('error', () => {});
  let processed: number | undefined;
  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    child.once('error', reject);
    void exited.then(() => reject(new Error(`bench worker process exited (${child.exitCode ?? child.signalCode}) before it was ready`)));
  });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const message = JSON.parse(line) as { ready?: boolean; processed?: number };
      if (message.ready) readyResolve();
      if (typeof message.processed === 'number') processed = message.processed;
    } catch {
      // Not one of our lines.
    }
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
    }
    await exited;
    return processed;
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, stop };
}

export interface ScalingResult {
  processes: number;
  jobsPerSecond: number;
  /** Share of the jobs each process ran, over all rounds. */
  shares: number[];
}

interface ScalingLevel {
  processes: number;
  prefix: string;
  children: WorkerChild[];
  queue?: BullmqJobQueue<number, number>;
  rates: number[];
}

/**
 * Every level's worker processes run at once, each level on its own prefix (an idle BullMQ worker only
 * waits on a blocking Redis read), so the rounds can go 1, 2, 4, 1, 2, 4, …: load from elsewhere on the
 * machine then hits every level alike instead of skewing the curve.
 */
export async function scalingCurve(o: BullmqBenchOptions, iterations: number, rounds: number): Promise<ScalingResult[]> {
  const levels: ScalingLevel[] = o.processes.map((processes) => ({ processes, prefix: newPrefix(o, `scale${processes}`), children: [], rates: [] }));
  try {
    const spawns = levels.flatMap((level) =>
      Array.from({ length: level.processes }, async () => {
        const child = await spawnWorker({
          BENCH_WORKER_REDIS_URL: o.redisUrl,
          BENCH_WORKER_PREFIX: level.prefix,
          BENCH_WORKER_LANE: LANE,
          BENCH_WORKER_CONCURRENCY: String(o.scalingConcurrency),
          BENCH_WORKER_ITERATIONS: String(iterations),
        });
        level.children.push(child);
      }),
    );
    const failed = (await Promise.allSettled(spawns)).find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const level of levels) {
      level.queue = ourQueue(o, o.redisUrl, level.prefix);
      await level.queue.ready();
    }

    const batch = async (queue: BullmqJobQueue<number, number>): Promise<number> => {
      const finished = countdown(o.scalingJobs);
      const unsubscribe = listenFinished(queue, finished.onFinished);
      try {
        const t0 = performance.now();
        for (let i = 0; i < o.scalingJobs; i++) await queue.enqueue({ id: randomUUID(), userId: `u${i % USERS}`, conversationId: 'bench', payload: i });
        await finished.done;
        return o.scalingJobs / ((performance.now() - t0) / 1000);
      } finally {
        unsubscribe();
        finished.dispose();
      }
    };
    for (let i = 0; i < o.warmup; i++) for (const level of levels) await batch(level.queue!);
    for (let r = 0; r < rounds; r++) {
      // Each round starts one level further on, so no level always runs first after a pause.
      for (let k = 0; k < levels.length; k++) {
        const level = levels[(r + k) % levels.length]!;
        level.rates.push(await batch(level.queue!));
      }
    }

    const results: ScalingResult[] = [];
    for (const level of levels) {
      await level.queue!.close();
      level.queue = undefined;
      const counts = await Promise.all(level.children.splice(0).map((c) => c.stop()));
      const total = counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
      results.push({ processes: level.processes, jobsPerSecond: median(level.rates), shares: counts.map((n) => (total > 0 ? (n ?? 0) / total : NaN)) });
    }
    return results;
  } finally {
    await closeAll(
      levels.flatMap((level) => [
        () => level.queue?.close() ?? Promise.resolve(),
        ...level.children.map((c) => () => c.stop()),
        () => dropPrefix(o.redisUrl, level.prefix),
      ]),
    );
  }
}
