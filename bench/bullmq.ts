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
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { BullJobData } from '../src/queue/bullmq-queue.ts';
import type { JobProcessor } from '../src/queue/job-queue.ts';
import { queueNameOf } from '../src/queue/lanes.ts';
import { bullConnection } from '../src/queue/redis-setup.ts';
import { LaneWorkers } from '../src/worker/bullmq-worker.ts';
import { formatRatio, median, type BenchSection, type Goal, type SectionReport } from './measure.ts';
import {
  JOB_TIMEOUT_MS,
  LANE,
  STALL_MS,
  USERS,
  bullmqOptions,
  calibrate,
  closeAll,
  countCommands,
  countdown,
  dropPrefix,
  listenFinished,
  newPrefix,
  ourQueue,
  percentile,
  redisAnswers,
  shown,
  type BullmqBenchOptions,
  type OnFinished,
} from './bullmq-parts.ts';
import { scalingCurve } from './bullmq-scaling.ts';

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

/** Our layer: BullmqJobQueue (bot side) + LaneWorkers (worker side), in this process like raw's Queue and Worker. */
function startOurs(o: BullmqBenchOptions, processor: JobProcessor<number, number>): StartContender {
  return async (url, prefix, concurrency, onFinished) => {
    const queue = ourQueue(o, url, prefix);
    let workers: LaneWorkers<number, number> | undefined;
    const close = () => closeAll([() => workers?.close() ?? Promise.resolve(), () => queue.close()]);
    try {
      listenFinished(queue, onFinished);
      await queue.ready();
      workers = await LaneWorkers.start<number, number>({
        redisUrl: url,
        prefix,
        lanes: [LANE],
        concurrency,
        processorFor: () => processor,
        shutdownGraceMs: 1000,
      });
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
 * Jobs/s from the first add until the last completion is heard (adds and processing overlap, as in production).
 * With `countCommands`, the round is not timed but counts the Redis commands naming its keys, per job.
 */
async function throughputRound(o: BullmqBenchOptions, start: StartContender, what: string, counting = false): Promise<number> {
  const prefix = newPrefix(o, what);
  const jobs = counting ? COUNTED_JOBS : o.jobs;
  const finished = countdown(jobs);
  try {
    const contender = await start(o.redisUrl, prefix, o.concurrency, finished.onFinished);
    try {
      const counter = counting ? await countCommands(o.redisUrl, prefix) : undefined;
      const t0 = performance.now();
      for (let i = 0; i < jobs; i++) await contender.add(randomUUID(), `u${i % USERS}`, i);
      await finished.done;
      const seconds = (performance.now() - t0) / 1000;
      return counter ? (await counter.stop()) / jobs : jobs / seconds;
    } finally {
      await contender.close();
    }
  } finally {
    finished.dispose();
    await dropPrefix(o.redisUrl, prefix);
  }
}

/** Jobs in a round whose Redis commands are counted. */
const COUNTED_JOBS = 500;

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

  // 1. Throughput, raw and ours interleaved round by round so that load drift hits both. Ours is judged as
  // deployed (USER_MAX_RUNNING_JOBS on: a slot claim per job); without the limit it is shown for the layer alone.
  const deployed = o.maxRunningPerUser === undefined ? 'no running limit' : `at most ${o.maxRunningPerUser} running per user`;
  const ours = startOurs(o, noop);
  const oursUnlimited = startOurs({ ...o, maxRunningPerUser: undefined }, noop);
  const contenders = [
    { start: startRaw, what: 'raw' },
    { start: ours, what: 'ours' },
    { start: oursUnlimited, what: 'ours-unlimited' },
  ];
  for (let i = 0; i < o.warmup; i++) for (const c of contenders) await throughputRound(o, c.start, c.what);
  const rates = contenders.map(() => [] as number[]);
  for (let i = 0; i < o.runs; i++) for (const [k, c] of contenders.entries()) rates[k]!.push(await throughputRound(o, c.start, c.what));
  const [raw, our, unlimited] = rates.map((r) => median(r)) as [number, number, number];
  // Commands per job: what the layer adds, independent of how busy the machine is.
  const commands: number[] = [];
  for (const c of contenders) commands.push(await throughputRound(o, c.start, `${c.what}-count`, true));
  const [rawCommands, ourCommands, unlimitedCommands] = commands as [number, number, number];
  const ratio = our / raw;
  lines.push(
    `  throughput: ${o.jobs} no-op jobs per round from ${USERS} users, worker concurrency ${o.concurrency}, median of ${o.runs} interleaved rounds (after ${o.warmup} warm-up);`,
  );
  lines.push(`   Redis commands per job counted (MONITOR) in a separate untimed round of ${COUNTED_JOBS} jobs each`);
  const perJob = (commands: number) => `${commands.toFixed(2).padStart(6)} commands/job`;
  lines.push(pad('raw BullMQ: Queue.add + Worker, QueueEvents', `${raw.toFixed(0).padStart(8)} jobs/s   ${perJob(rawCommands)}`));
  lines.push(pad(`our layer as deployed (${deployed})`, `${our.toFixed(0).padStart(8)} jobs/s   ${perJob(ourCommands)}`));
  lines.push(
    pad(
      'our layer without the running limit',
      `${unlimited.toFixed(0).padStart(8)} jobs/s   ${perJob(unlimitedCommands)}   ${formatRatio(unlimited / raw)} raw (shown, not judged)`,
    ),
  );
  lines.push(pad('ours as deployed / raw', `${formatRatio(ratio).padStart(8)}   goal ≥ 0.90×: ${ratio >= 0.9 ? 'MET' : 'NOT MET'}`));
  lines.push('  (both add one job at a time, awaited, and hear completions through QueueEvents; ours adds what the layer');
  lines.push('   does per job: fairness priority, worker-side checks, the running-slot claim; a start report only for jobs past 250 ms)');
  const goals: Goal[] = [{ text: 'raw jobs/s / ours as deployed (ours ≥ 0.90× raw)', limit: 1 / 0.9, actual: raw / our }];

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
      pad(
        label,
        `raw ${ms(r50).padStart(6)} / ${ms(r99).padStart(6)} ms   ours ${ms(o50).padStart(6)} / ${ms(o99).padStart(6)} ms   ours/raw p50 ${formatRatio(o50 / r50)} p99 ${formatRatio(o99 / r99)}`,
      ),
    );
    if (submitters === Math.max(...o.submitters)) {
      lines.push(
        pad(
          `  p99 ours as deployed / raw, ${submitters} submitters`,
          `${formatRatio(o99 / r99).padStart(8)}   goal ≤ 1.20×: ${o99 / r99 <= 1.2 ? 'MET' : 'NOT MET'}`,
        ),
      );
      goals.push({ text: `p99 latency ours / raw, ${submitters} submitters`, limit: 1.2, actual: o99 / r99 });
    }
  }

  const iterations = calibrate(o.workMs);
  const rounds = Math.max(1, Math.min(o.runs, 3));
  lines.push(`  scaling: ${o.scalingJobs} jobs of ~${o.workMs} ms CPU-bound busy work (fixed work, not a timer) through our layer,`);
  lines.push(
    `   worker processes with concurrency ${o.scalingConcurrency} each, median of ${rounds} interleaved rounds; the submitter and Redis share the ${os.cpus().length} CPUs`,
  );
  const levels = await scalingCurve(o, iterations, rounds);
  const base = levels[0]!.jobsPerSecond;
  for (const level of levels) {
    const spread =
      level.shares.length > 1 ? `   jobs per process ${Math.round(Math.min(...level.shares) * 100)}–${Math.round(Math.max(...level.shares) * 100)} %` : '';
    lines.push(
      pad(
        `${level.processes} worker process${level.processes === 1 ? '' : 'es'}`,
        `${level.jobsPerSecond.toFixed(0).padStart(8)} jobs/s   ${formatRatio(level.jobsPerSecond / base).padStart(6)} of ${levels[0]!.processes}${spread}`,
      ),
    );
  }
  const ideal = 1000 / o.workMs;
  lines.push(
    `  (one core running only the work would do ${ideal.toFixed(0)} jobs/s; with ${os.cpus().length} CPUs expect flattening past ${os.cpus().length} processes)`,
  );

  const lone = levels[0]!;
  const pair = levels.find((level) => level.processes === 2);
  if (lone.processes === 1) {
    lines.push(pad('  1 worker process', `${lone.jobsPerSecond.toFixed(0).padStart(8)} jobs/s   goal ≥ 160: ${lone.jobsPerSecond >= 160 ? 'MET' : 'NOT MET'}`));
    goals.push({ text: '160 jobs/s / 1 worker process (≥ 160 jobs/s)', limit: 1, actual: 160 / lone.jobsPerSecond });
    if (pair) {
      const gain = pair.jobsPerSecond / lone.jobsPerSecond;
      lines.push(pad('  2 processes / 1', `${formatRatio(gain).padStart(8)}   goal ≤ 2.00×: ${gain <= 2 ? 'MET' : 'NOT MET'}`));
      goals.push({ text: '2 worker processes / 1', limit: 2, actual: gain });
    }
  }
  return { title, lines, goals };
}

export const bullmqSection: BenchSection = {
  name: 'bullmq',
  run: (options) => runBullmqBench(bullmqOptions(process.env, options)),
};
