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

/** Every command clients send Redis from now on (MONITOR), until `stop`, which waits for Redis to have passed the stop mark. */
export async function recordCommands(redis: Redis) {
  // Listeners go on before MONITOR is sent: a line parsed before the client counts itself as monitoring, or after
  // disconnect(), is reported as an 'error' by ioredis, and one without a listener would be thrown.
  const monitor = redis.duplicate({ monitor: true, lazyConnect: true });
  monitor.on('error', () => {});
  // Not events.once: that would reject on the 'error' a stray early line raises.
  const monitoring = new Promise<void>((resolve) => monitor.once('monitoring', () => resolve()));
  const seen: string[][] = [];
  const mark = `stop-${Math.random()}`;
  let stopped: () => void = () => {};
  const reachedMark = new Promise<void>((resolve) => (stopped = resolve));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Calls a script makes are listed too, from 'lua': only the commands clients send count here.
    if (source === 'lua') return;
    if (args[0]?.toLowerCase() === 'echo' && args[1] === mark) stopped();
    else seen.push(args);
  });
  await monitor.connect();
  await monitoring;
  return {
    async stop(): Promise<string[][]> {
      await redis.echo(mark);
      await reachedMark;
      monitor.disconnect();
      return seen;
    },
  };
}
