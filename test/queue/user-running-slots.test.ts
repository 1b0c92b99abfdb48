import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { deleteKeysUnder } from '../../src/queue/redis-setup.ts';
import { PRECLAIMED_DATA_START, PRECLAIM_TTL_MS, UNCLAIMED_DATA_START, UserRunningSlots } from '../../src/queue/user-running-slots.ts';
import { TEST_REDIS_URL, describeWithRedis, recordCommands, uniquePrefix } from './bullmq-redis.ts';

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

  it("flush gives back released slots at once, several users' in one command (a worker stopping sends no further claim)", async () => {
    const { redis, slots, key, claim } = open();
    await claim('j1', 2);
    await claim('j2', 2);
    expect(await slots.claim('u2', 'j3', 2)).toBe(true);
    const otherKey = key.replace(/u1$/, 'u2');
    const released = [slots.held('u1', 'j1').release(), slots.held('u1', 'j2').release(), slots.held('u2', 'j3').release()];
    const commands = await recordCommands(redis);
    await slots.flush();
    const sent = (await commands.stop()).filter((args) => args.includes(key) || args.includes(otherKey));
    expect(sent).toHaveLength(1);
    expect(['eval', 'evalsha']).toContain(sent[0]![0]!.toLowerCase());
    expect(await redis.exists(key, otherKey)).toBe(0);
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

  const preclaim = (_redis: Redis, slots: UserRunningSlots, keys: { prioritized: string; job: string }, jobId: string, limit: number) =>
    slots.preclaim(keys, 'u1', jobId, limit);

  /** A job waiting in a lane, as BullMQ keeps it: in the prioritized set, its data in its hash. */
  async function waitingJob(redis: Redis, prefix: string, jobId: string, data: string) {
    const keys = { prioritized: `${prefix}:lane:prioritized`, job: `${prefix}:lane:${jobId}` };
    await redis.zadd(keys.prioritized, 1, jobId);
    await redis.hset(keys.job, 'data', data);
    return keys;
  }

  it('a pre-claim takes a free slot for a waiting job and marks its data; at the limit it takes nothing and leaves the data alone', async () => {
    const { redis, slots, key } = open();
    const rest = '"userId":"u1","payload":"{\\"preclaimed\\":false,"}';
    const first = await waitingJob(redis, key, 'j1', `${UNCLAIMED_DATA_START}${rest}`);
    const second = await waitingJob(redis, key, 'j2', `${UNCLAIMED_DATA_START}${rest}`);
    expect(await preclaim(redis, slots, first, 'j1', 1)).toBe(true);
    expect(await redis.hget(first.job, 'data')).toBe(`${PRECLAIMED_DATA_START}${rest}`);
    expect(JSON.parse((await redis.hget(first.job, 'data'))!)).toMatchObject({ preclaimed: true, userId: 'u1', payload: '{"preclaimed":false,' });
    expect(await redis.zrange(key, '0', '-1')).toEqual(['j1']);

    expect(await preclaim(redis, slots, second, 'j2', 1)).toBe(false);
    expect(await redis.hget(second.job, 'data')).toBe(`${UNCLAIMED_DATA_START}${rest}`);
    expect(await redis.zrange(key, '0', '-1')).toEqual(['j1']);
    // The pre-claimed job's own claim at its worker finds the slot its own.
    expect(await slots.claim('u1', 'j1', 1)).toBe(true);
    expect(await slots.claim('u1', 'j2', 1)).toBe(false);
  });

  it('a pre-claim does nothing for a job no longer waiting, or whose data does not begin with the unmarked flag', async () => {
    const { redis, slots, key } = open();
    const taken = await waitingJob(redis, key, 'j1', `${UNCLAIMED_DATA_START}"userId":"u1"}`);
    await redis.zrem(taken.prioritized, 'j1');
    expect(await preclaim(redis, slots, taken, 'j1', 5)).toBe(false);
    const other = await waitingJob(redis, key, 'j2', '{"userId":"u1","preclaimed":false}');
    expect(await preclaim(redis, slots, other, 'j2', 5)).toBe(false);
    expect(await redis.hget(other.job, 'data')).toBe('{"userId":"u1","preclaimed":false}');
    expect(await redis.exists(key)).toBe(0);
  });

  it("a running claim's shorter ttl never shortens the expiry a pre-claim gave the user's set", async () => {
    const { redis, slots, key } = open();
    const keys = await waitingJob(redis, key, 'j1', `${UNCLAIMED_DATA_START}"userId":"u1"}`);
    expect(await preclaim(redis, slots, keys, 'j1', 2)).toBe(true);
    expect(await slots.claim('u1', 'j2', 2)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(PRECLAIM_TTL_MS - 60_000);
  });

  it("a pre-claim given an ended job gives that job's slot back and pre-claims one for the next waiting job, in one command", async () => {
    const { redis, slots, key } = open();
    const next = await waitingJob(redis, key, 'next', `${UNCLAIMED_DATA_START}"userId":"u1"}`);
    expect(await slots.claim('u1', 'ended', 1)).toBe(true);
    expect(await preclaim(redis, slots, next, 'next', 1)).toBe(false);
    const commands = await recordCommands(redis);
    expect(await slots.preclaim(next, 'u1', 'next', 1, 'ended')).toBe(true);
    const sent = (await commands.stop()).filter((args) => args.includes(key));
    expect(sent).toHaveLength(1);
    expect(['eval', 'evalsha']).toContain(sent[0]![0]!.toLowerCase());
    expect(await redis.zrange(key, '0', '-1')).toEqual(['next']);
    expect(await redis.hget(next.job, 'data')).toBe(`${PRECLAIMED_DATA_START}"userId":"u1"}`);
  });
});
