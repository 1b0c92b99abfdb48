/**
 * Shared by the bullmq-queue-*.test.ts files: a queue (the bot's side) and lane workers on the real Redis,
 * under a key prefix of each test's own, and the cleanups that close and drop them after the test.
 */
import type { JobProcessor, QueueEvent } from '../../src/queue/job-queue.ts';
import { BullmqJobQueue, type BullmqQueueOptions } from '../../src/queue/bullmq-queue.ts';
import { LaneWorkers, type LaneWorkersOptions } from '../../src/worker/bullmq-worker.ts';
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from './bullmq-redis.ts';

export const LANES = ['quick', 'slow'] as const;
/** What the running test opened, closed newest first by runCleanups. */
export const cleanups: (() => Promise<unknown>)[] = [];

/** Each test file calls this after each test. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

type Events = QueueEvent<string>[];

export function openQueue(prefix: string, overrides: Partial<BullmqQueueOptions<string>> = {}) {
  const queue = new BullmqJobQueue<string, string>({
    redisUrl: TEST_REDIS_URL,
    prefix,
    lanes: LANES,
    laneOf: (payload) => (payload.startsWith('slow') ? 'slow' : 'quick'),
    maxActivePerUser: 10,
    maxAttempts: 3,
    backoffMs: 20,
    timeoutMs: 60_000,
    ...overrides,
  });
  const events: Events = [];
  queue.subscribe((e) => events.push(e));
  cleanups.push(() => queue.close());
  return { queue, events };
}

export async function startWorkers(prefix: string, processor: JobProcessor<string, string>, overrides: Partial<LaneWorkersOptions<string, string>> = {}) {
  const workers = await LaneWorkers.start<string, string>({
    redisUrl: TEST_REDIS_URL,
    prefix,
    lanes: LANES,
    concurrency: 1,
    processorFor: () => processor,
    handBackDelayMs: 50,
    ...overrides,
  });
  cleanups.push(() => workers.close());
  return workers;
}

export async function setup(overrides: Partial<BullmqQueueOptions<string>> = {}) {
  const prefix = uniquePrefix();
  cleanups.push(() => dropPrefix(prefix, LANES));
  const opened = openQueue(prefix, overrides);
  await opened.queue.ready();
  return { prefix, ...opened };
}

/** Resolves when an event matching `match` has been seen (events seen before the call count). */
export function eventually(events: Events, match: (e: QueueEvent<string>) => boolean): Promise<QueueEvent<string>> {
  return new Promise((resolve) => {
    const check = () => {
      const found = events.find(match);
      if (found) resolve(found);
      else setTimeout(check, 10);
    };
    check();
  });
}

export const ended = (id: string) => (e: QueueEvent<string>) => e.jobId === id && ['completed', 'failed', 'cancelled'].includes(e.type);
export const spec = (id: string, userId = 'u1', payload = id) => ({ id, userId, conversationId: 'c1', payload });
