/**
 * BullMQ on Redis, three questions in one run:
 *  1. jobs/s through our layer (BullmqJobQueue on the bot side, LaneWorkers on the worker side) against
 *     raw BullMQ (Queue + Worker + QueueEvents) on the same no-op jobs at the same concurrency;
 *  2. end-to-end latency of a no-op job (enqueue → completed event at the submitter), p50/p99, at 1, 10
 *     and 100 concurrent submitters, for both;
 *  3. jobs/s of a small CPU-bound job with 1, 2 and 4 worker processes on this machine (the scaling curve).
 * Every measurement runs under a key prefix of its own, deleted afterwards. Without Redis the section
 * says so in one line. Knobs: BENCH_REDIS_URL (else REDIS_URL), BENCH_BULLMQ_JOBS,
 * BENCH_BULLMQ_LATENCY_JOBS, BENCH_BULLMQ_SCALING_JOBS, BENCH_BULLMQ_WORK_MS, BENCH_BULLMQ_CONCURRENCY.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadSettings } from '../src/config/settings.ts';
import { BullmqJobQueue, type BullJobData } from '../src/queue/bullmq-queue.ts';
import type { JobProcessor, QueueEvent } from '../src/queue/job-queue.ts';
import { queueNameOf } from '../src/queue/lanes.ts';
import { bullConnection, deleteKeysUnder } from '../src/queue/redis-setup.ts';
import { LaneWorkers } from '../src/worker/bullmq-worker.ts';
import { formatRatio, median, type BenchSection, type Goal, type MeasureOptions, type SectionReport } from './measure.ts';

/** One lane, so raw and ours both run exactly one BullMQ queue. */
const LANE = 'image';
/** Jobs are spread over this many users, as in the in-process queue section: fairness priorities stay small. */
const USERS = 50;
const JOB_TIMEOUT_MS = 60_000;
/** A run that stops making progress for this long is broken (a lost event, a dead worker), not slow: fail instead of hanging. */
const STALL_MS = 60_000;

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

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
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

/** Deterministic integer mixing: CPU work the JIT cannot drop, and a fixed amount of it whatever the load. */
export function busyWork(iterations: number): number {
  let x = 0x9e3779b9;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) | 0;
  return x;
}

/**
 * Iterations of busyWork worth `ms` on one idle core. A job spinning on the clock instead would finish on
 * time however starved its core is, and 4 processes on 2 cores would "scale" 4×.
 */
function calibrate(ms: number): number {
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
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

async function redisAnswers(url: string): Promise<boolean> {
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

function newPrefix(o: BullmqBenchOptions, what: string): string {
  return `${o.prefixBase}-${what}-${randomUUID().slice(0, 8)}`;
}

/** Everything under the prefix: the queue's keys, its event stream, our cancel keys. */
async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await deleteKeysUnder(client, prefix);
  } finally {
    await client.quit();
  }
}

/** Runs every step even when one fails, then reports the failures together. */
async function closeAll(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
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
type OnFinished = (jobId: string, failure?: string) => void;

/** Either side of the comparison, as the submitter sees it. */
interface Contender {
  /** Resolves once the job is in Redis. */
  add(jobId: string, userId: string, payload: number): Promise<void>;
  close(): Promise<void>;
}

type StartContender = (url: string, prefix: string, concurrency: number, onFinished: OnFinished) => Promise<Contender>;

function jobData(userId: string, payload: number): BullJobData<number> {
  return { userId, conversationId: 'bench', payload, timeoutMs: JOB_TIMEOUT_MS, attemptOffset: 0 };
}

/**
 * Raw BullMQ as anyone would write it: one awaited Queue.add per job (as our enqueue does, so the ratio
 * measures the layer rather than batching), a no-op Worker, and QueueEvents for completions (as our
 * bot side hears them). Same job data, same job ids from the caller.
 */
const startRaw: StartContender = async (url, prefix, concurrency, onFinished) => {
  const name = queueNameOf(LANE);
  const connection = bullConnection(url);
  const queue = new Queue(name, { connection, prefix });
  const events = new QueueEvents(name, { connection, prefix });
  const worker = new Worker(name, async (job: Job) => (job.data as BullJobData<number>).payload, { connection, prefix, concurrency });
  const close = () => closeAll([() => worker.close(), () => events.close(), () => queue.close()]);
  try {
    // An 'error' without a listener would be thrown from inside BullMQ; here it is printed, and a lost job shows as a stall.
    const printError = (error: Error) => console.error(`raw BullMQ: ${error.message}`);
    queue.on('error', printError);
    events.on('error', printError);
    worker.on('error', printError);
    events.on('completed', ({ jobId }) => onFinished(jobId));
    events.on('failed', ({ jobId, failedReason }) => onFinished(jobId, failedReason));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return {
    async add(jobId, userId, payload) {
      await queue.add('job', jobData(userId, payload), { jobId });
    },
    close,
  };
};

/** Our bot side. No cap on queued jobs per user: the bench queues far more per user than a chat would. */
function ourQueue(o: BullmqBenchOptions, url: string, prefix: string): BullmqJobQueue<number, number> {
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

function listenFinished(queue: BullmqJobQueue<number, number>, onFinished: OnFinished): () => void {
  return queue.subscribe((event: QueueEvent<number>) => {
    if (event.type === 'completed') onFinished(event.jobId);
    else if (event.type === 'failed') onFinished(event.jobId, event.error.message);
    else if (event.type === 'cancelled') onFinished(event.jobId, 'cancelled');
  });
}

/** Our layer: BullmqJobQueue (bot side) + LaneWorkers (worker side), in this process like raw's Queue and Worker. */
function startOurs(o: BullmqBenchOptions, processor: JobProcessor<number, number>): StartContender {
  return async (url, prefix, concurrency, onFinished) => {
    const queue = ourQueue(o, url, prefix);
    let workers: LaneWorkers<number, number> | undefined;
    const close = () => closeAll([() => workers?.close() ?? Promise.resolve(), () => queue.close()]);
    try {
      listenFinished(queue, onFinished);
      await queue.ready();
      workers = await LaneWorkers.start<number, number>({ redisUrl: url, prefix, lanes: [LANE], concurrency, processorFor: () => processor, shutdownGraceMs: 1000 });
    } catch (error) {
      await close().catch(() => {});
      throw error;
    }
    return {
      async add(jobId, userId, payload) {
        await queue.enqueue({ id: jobId, userId, conversationId: 'bench', payload });
      },
      close,
    };
  };
}

const noop: JobProcessor<number, number> = async (job) => job.payload;

/**
 * Resolves when `count` jobs have finished; rejects on a failed job, or when nothing finished for
 * STALL_MS (a lost event would otherwise hang the bench).
 */
function countdown(count: number): { onFinished: OnFinished; done: Promise<void>; dispose(): void } {
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

/** Jobs/s from the first add until the last completion is heard (adds and processing overlap, as in production). */
async function throughputRound(o: BullmqBenchOptions, start: StartContender, what: string): Promise<number> {
  const prefix = newPrefix(o, what);
  const finished = countdown(o.jobs);
  try {
    const contender = await start(o.redisUrl, prefix, o.concurrency, finished.onFinished);
    try {
      const t0 = performance.now();
      for (let i = 0; i < o.jobs; i++) await contender.add(randomUUID(), `u${i % USERS}`, i);
      await finished.done;
      return o.jobs / ((performance.now() - t0) / 1000);
    } finally {
      await contender.close();
    }
  } finally {
    finished.dispose();
    await dropPrefix(o.redisUrl, prefix);
  }
}

/** Each submitter (its own user) loops: add, await its completion, repeat. Returns one latency per timed job, in ms. */
async function latencyRun(o: BullmqBenchOptions, start: StartContender, what: string, submitters: number, perSubmitter: number): Promise<number[]> {
  const prefix = newPrefix(o, what);
  const waiting = new Map<string, { resolve(): void; reject(error: Error): void }>();
  const onFinished: OnFinished = (jobId, failure) => {
    const waiter = waiting.get(jobId);
    waiting.delete(jobId);
    if (failure === undefined) waiter?.resolve();
    else waiter?.reject(new Error(`job ${jobId} failed: ${failure}`));
  };
  const samples: number[] = [];
  try {
    const contender = await start(o.redisUrl, prefix, o.concurrency, onFinished);
    try {
      const once = async (userId: string, payload: number): Promise<number> => {
        const jobId = randomUUID();
        let timer: NodeJS.Timeout | undefined;
        // Registered before the add: the completion can be heard before add() resolves.
        const finished = new Promise<void>((resolve, reject) => {
          waiting.set(jobId, { resolve, reject });
          timer = setTimeout(() => reject(new Error(`job ${jobId} did not finish within ${STALL_MS / 1000} s`)), STALL_MS);
        });
        finished.catch(() => {});
        try {
          const t0 = performance.now();
          await contender.add(jobId, userId, payload);
          await finished;
          return performance.now() - t0;
        } finally {
          clearTimeout(timer);
          waiting.delete(jobId);
        }
      };
      await Promise.all(
        Array.from({ length: submitters }, async (_, s) => {
          // The first job of each submitter is not timed: it pays for cold code paths, not for the queue.
          await once(`s${s}`, 0);
          for (let k = 1; k <= perSubmitter; k++) samples.push(await once(`s${s}`, k));
        }),
      );
      return samples;
    } finally {
      await contender.close();
    }
  } finally {
    await dropPrefix(o.redisUrl, prefix);
  }
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

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

interface ScalingResult {
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
async function scalingCurve(o: BullmqBenchOptions, iterations: number, rounds: number): Promise<ScalingResult[]> {
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

function pad(label: string, value: string): string {
  return `  ${label.padEnd(52)} ${value}`;
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export async function runBullmqBench(o: BullmqBenchOptions): Promise<SectionReport> {
  const title = `BullMQ queue on Redis ${shown(o.redisUrl)}: our layer vs raw BullMQ; ${os.cpus().length} CPUs`;
  if (!(await redisAnswers(o.redisUrl))) {
    return { title, lines: [`  skipped: no Redis at ${shown(o.redisUrl)} (set BENCH_REDIS_URL or REDIS_URL, or start redis-server)`], goals: [] };
  }
  const lines: string[] = [];

  // 1. Throughput, raw and ours interleaved round by round so that load drift hits both. Ours runs twice:
  // like for like with raw (no running limit: raw has none), and as deployed (USER_MAX_RUNNING_JOBS).
  const ours = startOurs(o, noop);
  const oursUnlimited = startOurs({ ...o, maxRunningPerUser: undefined }, noop);
  for (let i = 0; i < o.warmup; i++) {
    await throughputRound(o, startRaw, 'raw');
    await throughputRound(o, oursUnlimited, 'ours-unlimited');
    await throughputRound(o, ours, 'ours');
  }
  const rawRates: number[] = [];
  const unlimitedRates: number[] = [];
  const ourRates: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    rawRates.push(await throughputRound(o, startRaw, 'raw'));
    unlimitedRates.push(await throughputRound(o, oursUnlimited, 'ours-unlimited'));
    ourRates.push(await throughputRound(o, ours, 'ours'));
  }
  const raw = median(rawRates);
  const unlimited = median(unlimitedRates);
  const our = median(ourRates);
  const ratio = unlimited / raw;
  lines.push(`  throughput: ${o.jobs} no-op jobs per round from ${USERS} users, worker concurrency ${o.concurrency}, median of ${o.runs} interleaved rounds (after ${o.warmup} warm-up)`);
  lines.push(pad('raw BullMQ: Queue.add + Worker, QueueEvents', `${raw.toFixed(0).padStart(8)} jobs/s`));
  lines.push(pad('our layer: BullmqJobQueue.enqueue + LaneWorkers', `${unlimited.toFixed(0).padStart(8)} jobs/s`));
  lines.push(pad('ours / raw', `${formatRatio(ratio).padStart(8)}   goal ≥ 0.80×: ${ratio >= 0.8 ? 'MET' : 'NOT MET'}`));
  lines.push('  (both add one job at a time, awaited, and hear completions through QueueEvents; ours adds what the layer');
  lines.push('   does per job: fairness priority, a start report, worker-side checks)');
  if (o.maxRunningPerUser !== undefined) {
    lines.push(pad(`our layer with at most ${o.maxRunningPerUser} running per user (USER_MAX_RUNNING_JOBS, as deployed)`, `${our.toFixed(0).padStart(8)} jobs/s`));
    lines.push(pad('  its cost: with limit / without', `${formatRatio(our / unlimited).padStart(8)}   (one Redis round trip to claim a slot before each job)`));
  }

  // 2. Latency at each submitter level; raw, ours, ours, raw, so a linear drift cancels out.
  lines.push(`  latency, no-op job, enqueue → completed event at the submitter (p50 / p99), worker concurrency ${o.concurrency}:`);
  for (const submitters of o.submitters) {
    const perSubmitter = Math.max(1, Math.ceil(o.latencyJobs / submitters / 2));
    const rawSamples: number[] = [];
    const ourSamples: number[] = [];
    rawSamples.push(...(await latencyRun(o, startRaw, 'lat-raw', submitters, perSubmitter)));
    ourSamples.push(...(await latencyRun(o, ours, 'lat-ours', submitters, perSubmitter)));
    ourSamples.push(...(await latencyRun(o, ours, 'lat-ours', submitters, perSubmitter)));
    rawSamples.push(...(await latencyRun(o, startRaw, 'lat-raw', submitters, perSubmitter)));
    const r50 = percentile(rawSamples, 0.5);
    const r99 = percentile(rawSamples, 0.99);
    const o50 = percentile(ourSamples, 0.5);
    const o99 = percentile(ourSamples, 0.99);
    const label = `${submitters} submitter${submitters === 1 ? '' : 's'} (${ourSamples.length} timed jobs per side)`;
    lines.push(
      pad(label, `raw ${ms(r50).padStart(6)} / ${ms(r99).padStart(6)} ms   ours ${ms(o50).padStart(6)} / ${ms(o99).padStart(6)} ms   ours/raw p50 ${formatRatio(o50 / r50)} p99 ${formatRatio(o99 / r99)}`),
    );
  }

  const iterations = calibrate(o.workMs);
  const rounds = Math.max(1, Math.min(o.runs, 3));
  lines.push(
    `  scaling: ${o.scalingJobs} jobs of ~${o.workMs} ms CPU-bound busy work (fixed work, not a timer) through our layer,`,
  );
  lines.push(`   worker processes with concurrency ${o.scalingConcurrency} each, median of ${rounds} interleaved rounds; the submitter and Redis share the ${os.cpus().length} CPUs`);
  const levels = await scalingCurve(o, iterations, rounds);
  const base = levels[0]!.jobsPerSecond;
  for (const level of levels) {
    const spread = level.shares.length > 1 ? `   jobs per process ${Math.round(Math.min(...level.shares) * 100)}–${Math.round(Math.max(...level.shares) * 100)} %` : '';
    lines.push(pad(`${level.processes} worker process${level.processes === 1 ? '' : 'es'}`, `${level.jobsPerSecond.toFixed(0).padStart(8)} jobs/s   ${formatRatio(level.jobsPerSecond / base).padStart(6)} of ${levels[0]!.processes}${spread}`));
  }
  const ideal = 1000 / o.workMs;
  lines.push(`  (one core running only the work would do ${ideal.toFixed(0)} jobs/s; with ${os.cpus().length} CPUs expect flattening past ${os.cpus().length} processes)`);

  const goals: Goal[] = [{ text: 'our time per job / raw BullMQ (jobs/s ratio ≥ 0.8)', limit: 1.25, actual: raw / our }];
  return { title, lines, goals };
}

export const bullmqSection: BenchSection = {
  name: 'bullmq',
  run: (options) => runBullmqBench(bullmqOptions(process.env, options)),
};
