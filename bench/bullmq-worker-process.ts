/**
 * One worker process of the BullMQ bench's scaling curve (bench/bullmq.ts): LaneWorkers whose jobs are a
 * fixed amount of CPU work. Prints {"ready":true} once taking jobs; stops when its stdin closes (also when
 * the bench dies, so it never outlives it) or on SIGTERM/SIGINT, printing {"processed":n} first.
 */
import type { JobProcessor } from '../src/queue/job-queue.ts';
import { LaneWorkers } from '../src/worker/bullmq-worker.ts';
import { busyWork } from './bullmq-parts.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this process is started by bench/bullmq.ts)`);
  return value;
}

const redisUrl = required('BENCH_WORKER_REDIS_URL');
const prefix = required('BENCH_WORKER_PREFIX');
const lane = required('BENCH_WORKER_LANE');
const concurrency = Number(required('BENCH_WORKER_CONCURRENCY'));
const iterations = Number(required('BENCH_WORKER_ITERATIONS'));

let processed = 0;
const work: JobProcessor<number, number> = async () => {
  processed++;
  return busyWork(iterations);
};

const workers = await LaneWorkers.start<number, number>({ redisUrl, prefix, lanes: [lane], concurrency, processorFor: () => work, shutdownGraceMs: 1000 });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  let code = 0;
  try {
    await workers.close();
  } catch (error) {
    console.error(error);
    code = 1;
  }
  process.stdout.write(`${JSON.stringify({ processed })}\n`, () => process.exit(code));
};
process.stdin.on('end', () => void stop());
process.stdin.on('error', () => void stop());
process.stdin.resume();
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
