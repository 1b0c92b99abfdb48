/**
 * Jobs per second through the in-process queue on no-op jobs, against calling the same no-op processor
 * directly in a loop (the floor: what any queue costs on top of the work itself).
 */
import { randomUUID } from 'node:crypto';
import { InProcessQueue } from '../src/queue/in-process-queue.ts';
import type { JobProcessor } from '../src/queue/job-queue.ts';
import { formatRatio, median, type BenchSection, type MeasureOptions } from './measure.ts';

const JOBS = 20_000;
const USERS = 50;

async function throughputQueue(): Promise<number> {
  const noop: JobProcessor<number, number> = async (job) => job.payload;
  const queue = new InProcessQueue(noop, {
    concurrency: 4,
    maxRunningPerUser: 4,
    maxActivePerUser: JOBS,
    maxAttempts: 1,
    backoffMs: 0,
    timeoutMs: 60_000,
  });
  let done = 0;
  const all = new Promise<void>((resolve) =>
    queue.subscribe((event) => {
      if (event.type === 'completed' && ++done === JOBS) resolve();
    }),
  );
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await queue.enqueue({ id: randomUUID(), userId: `u${i % USERS}`, conversationId: 'c', payload: i });
  await all;
  const seconds = (performance.now() - start) / 1000;
  await queue.close();
  return JOBS / seconds;
}

async function throughputDirect(): Promise<number> {
  const noop = async (n: number) => n;
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) {
    randomUUID();
    await noop(i);
  }
  return JOBS / ((performance.now() - start) / 1000);
}

export const queueSection: BenchSection = {
  name: 'queue',
  async run({ runs = 5, warmup = 1 }: MeasureOptions) {
    for (let i = 0; i < warmup; i++) await throughputQueue();
    const queued: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < runs; i++) {
      queued.push(await throughputQueue());
      direct.push(await throughputDirect());
    }
    const q = median(queued);
    const d = median(direct);
    return {
      title: `in-process queue: ${JOBS} no-op jobs from ${USERS} users, fair scheduling`,
      lines: [
        `  in-process queue                                   ${q.toFixed(0).padStart(9)} jobs/s`,
        `  direct calls (floor: no queue at all)              ${d.toFixed(0).padStart(9)} calls/s`,
        `  queue / direct                                     ${formatRatio(q / d).padStart(9)}`,
        `  (no inference: this is the queue's own cost per job; real jobs take 10 ms – minutes)`,
      ],
      goals: [],
    };
  },
};
