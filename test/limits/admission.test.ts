import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { LimitReachedError, RateLimitedError } from '../../src/errors.ts';
import { Admission, UnfinishedJobsLimitError, createAdmission, type AdmissionRequest } from '../../src/limits/admission.ts';
import { RequestRates } from '../../src/limits/request-rates.ts';
import { deleteKeysUnder } from '../../src/queue/redis-setup.ts';
import { startTestBot, testUser } from '../helpers/bot-harness.ts';
import { startRedisInstance } from '../helpers/redis-instance.ts';
import { TEST_REDIS_URL, describeWithRedis, uniquePrefix } from '../queue/bullmq-redis.ts';

const alice: AdmissionRequest = { user: { platform: 'discord', externalId: 'alice' } };
const noJobs = async () => 0;

/** The refusal admit() threw, or undefined when the request was let in. */
async function refusal(admission: Admission, request: AdmissionRequest, unfinishedJobs = noJobs): Promise<unknown> {
  try {
    await admission.admit(request, unfinishedJobs);
    return undefined;
  } catch (error) {
    return error;
  }
}

function inMemory(perUser: number, perWorkspace = perUser * 5, maxUnfinishedJobs = 10): Admission {
  return new Admission(RequestRates.inMemory({ perUser, perWorkspace }), maxUnfinishedJobs);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Admission in memory', () => {
  it('allows N requests a minute per user, then says when to try again', async () => {
    vi.useFakeTimers({ now: 0 });
    const admission = inMemory(2);
    await admission.admit(alice, noJobs);
    await admission.admit(alice, noJobs);
    await admission.admit({ user: { platform: 'discord', externalId: 'bob' } }, noJobs);
    vi.setSystemTime(15_000);
    const error = await refusal(admission, alice);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).details).toEqual({ retryAfterSeconds: 45 });
    vi.setSystemTime(60_001);
    expect(await refusal(admission, alice)).toBeUndefined();
  });

  it('does nothing with a limit of 0', async () => {
    const admission = inMemory(0, 0);
    for (let i = 0; i < 100; i++) await admission.admit({ ...alice, workspace: 'guild-1' }, noJobs);
  });

  it('keeps the same name on two platforms apart', async () => {
    const admission = inMemory(1);
    await admission.admit(alice, noJobs);
    expect(await refusal(admission, { user: { platform: 'slack', externalId: 'alice' } })).toBeUndefined();
    expect(await refusal(admission, alice)).toBeInstanceOf(RateLimitedError);
  });

  it('shares one allowance per workspace, which a request refused for its user does not spend', async () => {
    const admission = inMemory(1, 3);
    const from = (name: string, workspace?: string): AdmissionRequest => ({
      user: { platform: 'discord', externalId: name },
      ...(workspace ? { workspace } : {}),
    });
    await admission.admit(from('alice', 'guild-1'), noJobs);
    expect(await refusal(admission, from('alice', 'guild-1'))).toBeInstanceOf(RateLimitedError);
    await admission.admit(from('bob', 'guild-1'), noJobs);
    await admission.admit(from('carol', 'guild-1'), noJobs);
    expect(await refusal(admission, from('dave', 'guild-1'))).toBeInstanceOf(RateLimitedError);
    // Another server, and a DM (no workspace), have allowances of their own.
    expect(await refusal(admission, from('erin', 'guild-2'))).toBeUndefined();
    expect(await refusal(admission, from('frank'))).toBeUndefined();
  });

  it('refuses a user with USER_MAX_QUEUED_JOBS jobs waiting or running, without spending a request', async () => {
    const admission = inMemory(1, 5, 2);
    const busy = await refusal(admission, alice, async () => 2);
    expect(busy).toBeInstanceOf(UnfinishedJobsLimitError);
    expect(busy).toBeInstanceOf(LimitReachedError);
    expect(busy).toMatchObject({ unfinished: 2, limit: 2, code: 'LIMIT_REACHED' });
    expect((busy as Error).message).toBe('You already have 2 jobs waiting or running (the limit is 2). Wait for one to finish, or cancel one.');
    expect(await refusal(admission, alice, async () => 1)).toBeUndefined();
  });

  it('is what createAdmission builds without REDIS_URL, from the settings', async () => {
    const settings = loadSettings({ USER_RATE_LIMIT_PER_MINUTE: '1', USER_MAX_QUEUED_JOBS: '3' });
    expect(settings.workspaceRateLimitPerMinute).toBe(5);
    const admission = await createAdmission(settings);
    cleanups.push(() => admission.close());
    expect(await refusal(admission, alice, async () => 3)).toBeInstanceOf(UnfinishedJobsLimitError);
    await admission.admit(alice, noJobs);
    expect(await refusal(admission, alice)).toBeInstanceOf(RateLimitedError);
    expect(loadSettings({ USER_RATE_LIMIT_PER_MINUTE: '1', WORKSPACE_RATE_LIMIT_PER_MINUTE: '0' }).workspaceRateLimitPerMinute).toBe(0);
  });
});

describeWithRedis('Admission on Redis', () => {
  async function onRedis(prefix: string, env: Record<string, string> = {}, url = TEST_REDIS_URL): Promise<Admission> {
    const admission = await createAdmission(loadSettings({ REDIS_URL: url, QUEUE_PREFIX: prefix, USER_RATE_LIMIT_PER_MINUTE: '2', ...env }));
    cleanups.push(() => admission.close());
    return admission;
  }

  function dropAfterwards(prefix: string): void {
    cleanups.unshift(async () => {
      const client = new Redis(TEST_REDIS_URL);
      try {
        await deleteKeysUnder(client, prefix);
      } finally {
        await client.quit();
      }
    });
  }

  it('counts in Redis under the queue prefix, with the time left until the window ends', async () => {
    const prefix = uniquePrefix();
    dropAfterwards(prefix);
    const admission = await onRedis(prefix);
    await admission.admit({ ...alice, workspace: 'guild-1' }, noJobs);
    await admission.admit(alice, noJobs);
    const error = await refusal(admission, alice);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).details.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    const client = new Redis(TEST_REDIS_URL);
    try {
      expect(await client.get(`${prefix}:limits:user:discord:alice`)).toBe('3');
      expect(await client.get(`${prefix}:limits:workspace:discord:guild-1`)).toBe('1');
      expect(await client.pttl(`${prefix}:limits:user:discord:alice`)).toBeLessThanOrEqual(60_000);
    } finally {
      await client.quit();
    }
  });

  it('gives two bot processes on one Redis one count, and deployments with other prefixes their own', async () => {
    const prefix = uniquePrefix();
    const elsewhere = uniquePrefix();
    dropAfterwards(prefix);
    dropAfterwards(elsewhere);
    const first = await onRedis(prefix, { USER_RATE_LIMIT_PER_MINUTE: '3', WORKSPACE_RATE_LIMIT_PER_MINUTE: '4' });
    const second = await onRedis(prefix, { USER_RATE_LIMIT_PER_MINUTE: '3', WORKSPACE_RATE_LIMIT_PER_MINUTE: '4' });
    await first.admit(alice, noJobs);
    await second.admit(alice, noJobs);
    await first.admit(alice, noJobs);
    expect(await refusal(second, alice)).toBeInstanceOf(RateLimitedError);
    expect(await refusal(first, alice)).toBeInstanceOf(RateLimitedError);
    const inGuild = (name: string): AdmissionRequest => ({ user: { platform: 'slack', externalId: name }, workspace: 'T1' });
    for (const [admission, name] of [
      [first, 'u1'],
      [second, 'u2'],
      [first, 'u3'],
      [second, 'u4'],
    ] as const)
      await admission.admit(inGuild(name), noJobs);
    expect(await refusal(first, inGuild('u5'))).toBeInstanceOf(RateLimitedError);
    expect(await refusal(await onRedis(elsewhere), alice)).toBeUndefined();
  });

  it('keeps counting in memory while Redis is away, and in Redis again once it is back', async () => {
    const redis = await startRedisInstance();
    cleanups.push(() => redis.destroy());
    const prefix = uniquePrefix();
    const admission = await onRedis(prefix, { USER_RATE_LIMIT_PER_MINUTE: '2' }, redis.url);
    await admission.admit(alice, noJobs);
    await redis.stop();
    const bob: AdmissionRequest = { user: { platform: 'web', externalId: 'bob' } };
    await admission.admit(bob, noJobs);
    await admission.admit(bob, noJobs);
    expect(await refusal(admission, bob)).toBeInstanceOf(RateLimitedError);

    await redis.start();
    const look = new Redis(redis.url);
    cleanups.push(() => look.quit());
    let probes = 0;
    await vi.waitFor(
      async () => {
        const probe = `probe-${++probes}`;
        await admission.admit({ user: { platform: 'web', externalId: probe } }, noJobs);
        expect(await look.exists(`${prefix}:limits:user:web:${probe}`)).toBe(1);
      },
      // No event tells when the admission's own Redis client has reconnected (ioredis retries on its own
      // schedule), so this probes until it counts in Redis again, with a timeout a loaded machine does not run out of.
      { timeout: 60_000, interval: 100 },
    );
    // Alice's request from before the outage is still counted (Redis kept it); memory never saw her.
    await admission.admit(alice, noJobs);
    expect(await refusal(admission, alice)).toBeInstanceOf(RateLimitedError);
  });
});

describeWithRedis('Two bots on one Redis', () => {
  it('refuse a user on the second bot once the first has spent the allowance', { timeout: 120_000 }, async () => {
    const prefix = uniquePrefix();
    const env = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, RUN_WORKER: 'false', USER_RATE_LIMIT_PER_MINUTE: '2' };
    const first = await startTestBot(env, { recover: false });
    cleanups.push(() => first.cleanup());
    const second = await startTestBot(env, { recover: false });
    cleanups.push(() => second.cleanup());
    cleanups.unshift(async () => {
      const client = new Redis(TEST_REDIS_URL);
      try {
        await deleteKeysUnder(client, prefix);
      } finally {
        await client.quit();
      }
    });
    const user = testUser();
    await first.running.bot.admit({ user });
    await second.running.bot.admit({ user });
    await expect(first.running.bot.admit({ user })).rejects.toBeInstanceOf(RateLimitedError);
    await expect(second.running.bot.admit({ user: testUser() })).resolves.toBeUndefined();
  });
});
