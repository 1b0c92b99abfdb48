/** What the sections of the BullMQ bench share: options, key prefixes, our queue, counting finished jobs. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadSettings } from '../src/config/settings.ts';
import { BullmqJobQueue } from '../src/queue/bullmq-queue.ts';
import type { QueueEvent } from '../src/queue/job-queue.ts';
import { deleteKeysUnder } from '../src/queue/redis-setup.ts';
import type { MeasureOptions } from './measure.ts';

/** One lane, so raw and ours both run exactly one BullMQ queue. */
export const LANE = 'image';
/** Jobs are spread over this many users, as in the in-process queue section: fairness priorities stay small. */
export const USERS = 50;
export const JOB_TIMEOUT_MS = 60_000;
/** A run that stops making progress for this long is broken (a lost event, a dead worker), not slow: fail instead of hanging. */
export const STALL_MS = 60_000;

export interface BullmqBenchOptions {
  redisUrl: string;
  /** Base of the per-measurement key prefixes. */
  prefixBase: string;
  warmup: number;
  runs: number;
  /** No-op jobs per throughput round. */
  jobs: number;
  /** Worker concurrency in parts 1 and 2, the same for raw BullMQ and our layer. */
  concurrency: number;
  /** Our layer as deployed: USER_MAX_RUNNING_JOBS, enforced by the workers (undefined: no limit). */
  maxRunningPerUser: number | undefined;
  submitters: readonly number[];
  /** Timed jobs per submitter level and contender (at least one per submitter). */
  latencyJobs: number;
  processes: readonly number[];
  scalingJobs: number;
  /** CPU time of one scaling job on an idle core. */
  workMs: number;
  /** Jobs at once per worker process in part 3. */
  scalingConcurrency: number;
}

export function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function bullmqOptions(env: NodeJS.ProcessEnv = process.env, { runs = 5, warmup = 1 }: MeasureOptions = {}): BullmqBenchOptions {
  return {
    redisUrl: env.BENCH_REDIS_URL || env.REDIS_URL || 'redis://127.0.0.1:6379',
    prefixBase: 'bench-bullmq',
    warmup,
    runs,
    jobs: numberFrom(env, 'BENCH_BULLMQ_JOBS', 2000),
    concurrency: numberFrom(env, 'BENCH_BULLMQ_CONCURRENCY', 10),
    maxRunningPerUser: loadSettings(env).USER_MAX_RUNNING_JOBS,
    submitters: [1, 10, 100],
    latencyJobs: numberFrom(env, 'BENCH_BULLMQ_LATENCY_JOBS', 400),
    processes: [1, 2, 4],
    scalingJobs: numberFrom(env, 'BENCH_BULLMQ_SCALING_JOBS', 300),
    workMs: numberFrom(env, 'BENCH_BULLMQ_WORK_MS', 5),
    scalingConcurrency: 1,
  };
}

/**
 * Deterministic integer mixing: CPU work the JIT cannot drop, and a fixed amount of it whatever the load.
 * The seed is taken to int32 first: 0x9e3779b9 alone is above the 32-bit range, so V8 kept `x` a float and,
 * once the loop was inlined into a processor's try-block, each call became ≈3× slower after ~1000 calls —
 * a lone worker process crossed that and two did not, which made the scaling curve look superlinear.
 */
export function busyWork(iterations: number): number {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) | 0;
  return x;
}

/**
 * Iterations of busyWork worth `ms` on one idle core. A job spinning on the clock instead would finish on
 * time however starved its core is, and 4 processes on 2 cores would "scale" 4×.
 */
export function calibrate(ms: number): number {
  const probe = 1_000_000;
  busyWork(probe);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    busyWork(probe);
    best = Math.min(best, performance.now() - start);
  }
  return Math.max(1, Math.round((probe / best) * ms));
}

/** The URL without its password, for printing. */
export function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function newPrefix(o: BullmqBenchOptions, what: string): string {
  return `${o.prefixBase}-${what}-${randomUUID().slice(0, 8)}`;
}

/** Everything under the prefix: the queue's keys, its event stream, our cancel keys. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysUnder(client, prefix);
  } finally {
    await client.quit();
  }
}

/** Runs every step even when one fails, then reports the failures together. */
export async function closeAll(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'closing a BullMQ bench measurement failed');
}

/** Called once per finished job with its id, and the reason when it failed. */
export type OnFinished = (jobId: string, failure?: string) => void;

/** Our bot side. No cap on queued jobs per user: the bench queues far more per user than a chat would. */
export function ourQueue(o: BullmqBenchOptions, url: string, prefix: string): BullmqJobQueue<number, number> {
  return new BullmqJobQueue<number, number>({
    redisUrl: url,
    prefix,
    lanes: [LANE],
    laneOf: () => LANE,
    maxActivePerUser: Number.MAX_SAFE_INTEGER,
    ...(o.maxRunningPerUser === undefined ? {} : { maxRunningPerUser: o.maxRunningPerUser }),
    maxAttempts: 1,
    backoffMs: 1000,
    timeoutMs: JOB_TIMEOUT_MS,
  });
}

export function listenFinished(queue: BullmqJobQueue<number, number>, onFinished: OnFinished): () => void {
  return queue.subscribe((event: QueueEvent<number>) => {
    if (event.type === 'completed') onFinished(event.jobId);
    else if (event.type === 'failed') onFinished(event.jobId, event.error.message);
    else if (event.type === 'cancelled') onFinished(event.jobId, 'cancelled');
  });
}

/**
 * Resolves when `count` jobs have finished; rejects on a failed job, or when nothing finished for
 * STALL_MS (a lost event would otherwise hang the bench).
 */
export function countdown(count: number): { onFinished: OnFinished; done: Promise<void>; dispose(): void } {
  let left = count;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => reject(new Error(`no job finished for ${STALL_MS / 1000} s (${left} of ${count} left)`)), STALL_MS);
  };
  arm();
  if (count === 0) resolve();
  const settled = done.finally(() => clearTimeout(timer));
  // A failure can come while jobs are still being added, before anyone awaits: not an unhandled rejection.
  settled.catch(() => {});
  return {
    onFinished(jobId, failure) {
      if (failure !== undefined) return reject(new Error(`job ${jobId} failed: ${failure}`));
      arm();
      if (--left === 0) {
        clearTimeout(timer);
        resolve();
      }
    },
    done: settled,
    dispose: () => clearTimeout(timer),
  };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/**
 * Counts the commands clients send Redis that name a key under `prefix` (MONITOR, so other users of the same
 * Redis are not counted; calls a script makes inside Redis are not counted either: one EVALSHA is one command).
 * MONITOR slows Redis down, so a counted round is never a timed one.
 */
export async function countCommands(url: string, prefix: string): Promise<{ stop(): Promise<number> }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const monitor = await client.monitor();
  // Lines still arriving after disconnect() are an error on a client no longer monitoring: expected, not news.
  monitor.on('error', () => {});
  const mark = `bench-count-end-${randomUUID()}`;
  let count = 0;
  let reachedMark: () => void = () => {};
  const reached = new Promise<void>((resolve) => (reachedMark = resolve));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    if (args[0]?.toLowerCase() === 'echo' && args[1] === mark) reachedMark();
    else if (args.some((arg) => arg.includes(prefix))) count++;
  });
  return {
    async stop() {
      // Commands are listed in the order Redis runs them: once the mark is seen, every earlier one was counted.
      await client.echo(mark);
      await reached;
      monitor.disconnect();
      await client.quit();
      return count;
    },
  };
}
