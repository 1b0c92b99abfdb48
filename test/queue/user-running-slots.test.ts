import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { deleteKeysUnder } from '../../src/queue/redis-setup.ts';
import { UserRunningSlots } from '../../src/queue/user-running-slots.ts';
import { TEST_REDIS_URL, describeWithRedis, uniquePrefix } from './bullmq-redis.ts';

const opened: { redis: Redis; prefix: string }[] = [];
afterEach(async () => {
  for (const { redis, prefix } of opened.splice(0)) {
    await deleteKeysUnder(redis, prefix);
    await redis.quit();
  }
});

function open() {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = uniquePrefix();
  opened.push({ redis, prefix });
  const slots = new UserRunningSlots(redis, { prefix, claimTtlMs: 60_000 });
  const key = `${prefix}:vitron:running:u1`;
  /** One claim in a pipeline of its own: the replies of every command the pipeline sent. */
  const claim = async (jobId: string, limit: number) => {
    const pipeline = redis.pipeline();
    const settle = slots.queueClaim(pipeline, 'u1', jobId, limit);
    const replies = (await pipeline.exec()) ?? [];
    settle(replies.at(-1)?.[0] ?? undefined);
    return replies;
  };
  return { redis, slots, key, claim };
}

/** Every command clients send Redis from now on (MONITOR), until `stop`, which waits for Redis to have passed the stop mark. */
async function recordCommands(redis: Redis) {
  const monitor = await redis.monitor();
  // Lines still arriving after disconnect() are an error on a client no longer monitoring: expected, not news.
  monitor.on('error', () => {});
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
  return {
    async stop(): Promise<string[][]> {
      await redis.echo(mark);
      await reachedMark;
      monitor.disconnect();
      return seen;
    },
  };
}

describeWithRedis('USER_MAX_RUNNING_JOBS slots in Redis', () => {
  it('a slot released before the next claim is given back by that claim’s own command, which then takes it', async () => {
    const { redis, slots, key, claim } = open();
    expect((await claim('j1', 1)).map(([, reply]) => reply)).toEqual([1]);
    const first = slots.held('u1', 'j1');
    expect((await claim('j2', 1)).map(([, reply]) => reply)).toEqual([0]);
    const commands = await recordCommands(redis);
    const released = first.release();
    const replies = await claim('j2', 1);
    expect(replies.map(([, reply]) => reply)).toEqual([1]);
    await released;
    const sent = (await commands.stop()).filter((args) => args.includes(key));
    expect(sent.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha']);
    expect(await redis.zrange(key, '0', '-1')).toEqual(['j2']);
    await slots.held('u1', 'j2').release();
  });

  it('a slot released with no claim after it is given back on its own', async () => {
    const { redis, slots, key, claim } = open();
    await claim('j1', 1);
    await slots.held('u1', 'j1').release();
    expect(await redis.zcard(key)).toBe(0);
  });

  it('flush gives back released slots at once (a worker stopping sends no further claim)', async () => {
    const { redis, slots, key, claim } = open();
    await claim('j1', 2);
    await claim('j2', 2);
    const released = [slots.held('u1', 'j1').release(), slots.held('u1', 'j2').release()];
    await slots.flush();
    expect(await redis.zcard(key)).toBe(0);
    await Promise.all(released);
  });

  it('a claim on its own takes a slot up to the limit, refuses past it, and gives back a released slot in the same command', async () => {
    const { redis, slots, key } = open();
    expect(await slots.claim('u1', 'j1', 2)).toBe(true);
    expect(await slots.claim('u1', 'j2', 2)).toBe(true);
    expect(await slots.claim('u1', 'j3', 2)).toBe(false);
    // Claiming again for a job that holds its slot keeps it (a renewal), whatever the limit.
    expect(await slots.claim('u1', 'j1', 2)).toBe(true);
    const commands = await recordCommands(redis);
    const released = slots.held('u1', 'j1').release();
    expect(await slots.claim('u1', 'j3', 2)).toBe(true);
    await released;
    const sent = (await commands.stop()).filter((args) => args.includes(key));
    expect(sent.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha']);
    expect((await redis.zrange(key, '0', '-1')).sort()).toEqual(['j2', 'j3']);
  });
});
