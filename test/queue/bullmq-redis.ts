import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { deleteKeysUnder } from '../../src/queue/redis-setup.ts';
import { TEST_REDIS_URL, requires } from '../helpers/prerequisites.ts';

/** The real Redis of the tests (CI starts one at 127.0.0.1:6379). */
export { TEST_REDIS_URL };

/** `describe` for tests on the shared Redis: skipped with the reason when it does not answer, failed instead in CI. */
export const describeWithRedis = (await requires('redis')).describe;

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
