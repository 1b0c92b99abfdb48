import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { deleteKeysUnder } from '../../src/queue/redis-setup.ts';
import { describe } from 'vitest';

/** The real Redis of the tests (CI starts one at 127.0.0.1:6379). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
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

const up = await reachable();
if (!up && process.env.CI) throw new Error(`Redis at ${TEST_REDIS_URL} is not reachable, and CI must run the BullMQ tests`);
if (!up) console.warn(`Skipping BullMQ tests: no Redis at ${TEST_REDIS_URL} (set TEST_REDIS_URL, or start redis-server)`);

/** `describe` when Redis answers, `describe.skip` (with the warning above) when it does not, outside CI. */
export const describeWithRedis = up ? describe : describe.skip;

/** A key prefix of its own per test, so tests run in any order and in parallel. */
export function uniquePrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

/** Obliterates the test's lanes, then deletes what is left under its prefix (our cancel keys). */
export async function dropPrefix(prefix: string, lanes: readonly string[]): Promise<void> {
  for (const lane of lanes) {
    const queue = new Queue(queueNameOf(lane), { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }
  const client = new Redis(TEST_REDIS_URL);
  try {
    await deleteKeysUnder(client, prefix);
  } finally {
    await client.quit();
  }
}
