import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { CoalescingRedis } from '../../src/queue/redis-setup.ts';
import { TEST_REDIS_URL, describeWithRedis, uniquePrefix } from './bullmq-redis.ts';

const opened: CoalescingRedis[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) {
    await client.quit().catch(() => client.disconnect());
  }
});

async function connected(): Promise<CoalescingRedis> {
  const client = new CoalescingRedis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  opened.push(client);
  await client.ping();
  return client;
}

/** Counts the socket's writes to the kernel: `_write` for one chunk, `_writev` for several corked ones. */
function countWrites(socket: Socket): { single: number; vectored: number; chunks: number } {
  const counts = { single: 0, vectored: 0, chunks: 0 };
  const target = socket as unknown as { _write: (...a: unknown[]) => unknown; _writev: (chunks: unknown[], ...a: unknown[]) => unknown };
  const write = target._write.bind(socket);
  const writev = target._writev.bind(socket);
  target._write = (...args) => {
    counts.single++;
    counts.chunks++;
    return write(...args);
  };
  target._writev = (chunks, ...rest) => {
    counts.vectored++;
    counts.chunks += chunks.length;
    return writev(chunks, ...rest);
  };
  return counts;
}

describeWithRedis('CoalescingRedis (real Redis)', () => {
  it('sends the commands of one tick in one socket write, each with its own reply', async () => {
    const client = await connected();
    const key = `${uniquePrefix()}:coalesce`;
    const writes = countWrites(client.stream as Socket);
    const replies = await Promise.all([...Array.from({ length: 20 }, (_, i) => client.rpush(key, String(i))), client.lrange(key, 0, -1), client.del(key)]);
    expect(replies.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(replies[20]).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(replies[21]).toBe(1);
    expect(writes).toEqual({ single: 0, vectored: 1, chunks: 22 });
  });

  it('writes a lone command at the end of its tick, and commands of later ticks in writes of their own', async () => {
    const client = await connected();
    const writes = countWrites(client.stream as Socket);
    expect(await client.ping('one')).toBe('one');
    expect(await client.ping('two')).toBe('two');
    expect(writes.single + writes.vectored).toBe(2);
    expect(writes.chunks).toBe(2);
  });

  it('keeps working over a new socket after the connection drops', async () => {
    const client = await connected();
    const before = client.stream;
    // Corked in this tick, then the socket goes away with the command still in it: ioredis resends or fails it, never hangs.
    const lost = client.ping('in flight').catch((error: unknown) => error);
    client.disconnect(true);
    await lost;
    expect(await client.ping('after')).toBe('after');
    expect(client.stream).not.toBe(before);
  });

  it('makes duplicates that coalesce too (BullMQ duplicates a given client for its blocking reads)', async () => {
    const client = await connected();
    const copy = client.duplicate();
    opened.push(copy as unknown as CoalescingRedis);
    expect(copy).toBeInstanceOf(CoalescingRedis);
    expect(await copy.ping('copy')).toBe('copy');
  });
});
