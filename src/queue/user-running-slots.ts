import type { ChainableCommander, Redis } from 'ioredis';

/**
 * USER_MAX_RUNNING_JOBS across a fleet: before a worker runs a job it claims one of the user's running
 * slots in Redis, and gives it back when the job ends. A claim carries an expiry that the worker renews
 * while the job runs, so a worker killed outright frees its slot after about one expiry instead of
 * holding it forever. Redis's own clock is used, so machines whose clocks differ agree on expiries.
 */
const CLAIM = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], nowMs + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end
return 0
`;

export interface UserRunningSlotsOptions {
  prefix: string;
  /** How long a claim lives without renewal; renewed at a third of it while the job runs. */
  claimTtlMs: number;
}

/** A claimed slot: `release` gives it back (idempotent). */
export interface RunningSlot {
  release(): Promise<void>;
}

/** The script as an ioredis command: sent once, then run by its SHA (EVALSHA), also inside pipelines. */
type WithClaim = { vitronClaimSlot(key: string, jobId: string, limit: number, ttlMs: number): Promise<number> };
type PipelineWithClaim = ChainableCommander & { vitronClaimSlot(key: string, jobId: string, limit: number, ttlMs: number): ChainableCommander };

export class UserRunningSlots {
  constructor(
    private readonly redis: Redis,
    private readonly options: UserRunningSlotsOptions,
  ) {
    redis.defineCommand('vitronClaimSlot', { numberOfKeys: 1, lua: CLAIM });
  }

  /**
   * Adds the claim to a pipeline of other commands, so it costs no round trip of its own; its reply is 1
   * when claimed (then take the slot with `held`), 0 when the user is at the limit.
   */
  queueClaim(pipeline: ChainableCommander, userId: string, jobId: string, limit: number): void {
    (pipeline as PipelineWithClaim).vitronClaimSlot(this.keyOf(userId), jobId, limit, this.options.claimTtlMs);
  }

  /** The handle of a claimed slot: renews the claim while the job runs and releases it at the end. */
  held(userId: string, jobId: string): RunningSlot {
    const key = this.keyOf(userId);
    const renew = setInterval(
      () => {
        // A renewal that fails (Redis restarting) is tried again at the next tick; the claim outlives a few misses.
        (this.redis as unknown as WithClaim).vitronClaimSlot(key, jobId, Number.MAX_SAFE_INTEGER, this.options.claimTtlMs).catch(() => {});
      },
      Math.max(100, Math.floor(this.options.claimTtlMs / 3)),
    );
    renew.unref();
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= (async () => {
          clearInterval(renew);
          await this.redis.zrem(key, jobId);
        })();
        return released;
      },
    };
  }

  private keyOf(userId: string): string {
    return `${this.options.prefix}:vitron:running:${userId}`;
  }
}
