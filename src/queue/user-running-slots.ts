import type { ChainableCommander, Redis } from 'ioredis';

/**
 * USER_MAX_RUNNING_JOBS across a fleet: before a worker runs a job it claims one of the user's running
 * slots in Redis, and gives it back when the job ends (in the script of its next claim, or on its own within
 * RELEASE_FOLD_MS when no claim comes). A claim carries an expiry that the worker renews
 * while the job runs, so a worker killed outright frees its slot after about one expiry instead of
 * holding it forever. Redis's own clock is used, so machines whose clocks differ agree on expiries.
 */
const CLAIM = `
for i = 2, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i + 2])
end
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

/**
 * How long a released slot may wait to ride along with this worker's next claim (one command instead of two
 * per job). Under load the next claim comes within a round trip; an idle worker sends the release on its own.
 */
export const RELEASE_FOLD_MS = 20;

export interface UserRunningSlotsOptions {
  prefix: string;
  /** How long a claim lives without renewal; renewed at a third of it while the job runs. */
  claimTtlMs: number;
}

/** A claimed slot: `release` gives it back (idempotent). */
export interface RunningSlot {
  release(): Promise<void>;
}

/**
 * The script as an ioredis command, sent once, then run by its SHA (EVALSHA), also inside pipelines. KEYS[1] and
 * ARGV[1..3] are the claim (key, job id, limit, ttl); KEYS[2..] with ARGV[4..] are slots given back first.
 */
type ClaimArgs = [numberOfKeys: number, ...keysThenArgs: (string | number)[]];
type WithClaim = { vitronClaimSlot(...args: ClaimArgs): Promise<number> };
type PipelineWithClaim = ChainableCommander & { vitronClaimSlot(...args: ClaimArgs): ChainableCommander };

interface PendingRelease {
  key: string;
  jobId: string;
  settle(error?: unknown): void;
}

/** Settles the releases that rode in a pipeline, once it has run: with its error if the claim failed. */
export type SettleReleases = (error?: unknown) => void;

export class UserRunningSlots {
  private pending: PendingRelease[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: UserRunningSlotsOptions,
  ) {
    redis.defineCommand('vitronClaimSlot', { lua: CLAIM });
  }

  /**
   * Adds the claim to a pipeline of other commands, so it costs no round trip of its own; its reply is 1
   * when claimed (then take the slot with `held`), 0 when the user is at the limit. Slots released since the
   * last claim are given back by the same script; call the returned function once the pipeline has run.
   */
  queueClaim(pipeline: ChainableCommander, userId: string, jobId: string, limit: number): SettleReleases {
    const releases = this.drain();
    (pipeline as PipelineWithClaim).vitronClaimSlot(...this.claimArgs(userId, jobId, limit, releases));
    return (error) => {
      for (const release of releases) release.settle(error);
    };
  }

  /**
   * The claim as a command of its own, for when nothing else rides with it: a pipeline of one costs more to
   * build and settle than the command. True when claimed (then take the slot with `held`).
   */
  async claim(userId: string, jobId: string, limit: number): Promise<boolean> {
    const releases = this.drain();
    let reply: number;
    try {
      reply = await (this.redis as unknown as WithClaim).vitronClaimSlot(...this.claimArgs(userId, jobId, limit, releases));
    } catch (error) {
      for (const release of releases) release.settle(error);
      throw error;
    }
    for (const release of releases) release.settle();
    return reply === 1;
  }

  /** The handle of a claimed slot: renews the claim while the job runs and releases it at the end. */
  held(userId: string, jobId: string): RunningSlot {
    const key = this.keyOf(userId);
    const renew = setInterval(
      () => {
        // A renewal that fails (Redis restarting) is tried again at the next tick; the claim outlives a few misses.
        (this.redis as unknown as WithClaim).vitronClaimSlot(1, key, jobId, Number.MAX_SAFE_INTEGER, this.options.claimTtlMs).catch(() => {});
      },
      Math.max(100, Math.floor(this.options.claimTtlMs / 3)),
    );
    renew.unref();
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= new Promise<void>((resolve, reject) => {
          clearInterval(renew);
          this.pending.push({ key, jobId, settle: (error) => (error === undefined ? resolve() : reject(error)) });
          this.flushTimer ??= setTimeout(() => void this.flush(), RELEASE_FOLD_MS);
        });
        return released;
      },
    };
  }

  /** Gives back every released slot that has not ridden along with a claim yet (on its timer, and before a stop). */
  async flush(): Promise<void> {
    const releases = this.drain();
    if (releases.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const release of releases) pipeline.zrem(release.key, release.jobId);
    try {
      const replies = (await pipeline.exec()) ?? [];
      for (const [i, release] of releases.entries()) release.settle(replies[i]?.[0] ?? undefined);
    } catch (error) {
      for (const release of releases) release.settle(error);
    }
  }

  /** The script's arguments: the claim's key and ARGV first, then each slot given back with it. */
  private claimArgs(userId: string, jobId: string, limit: number, releases: PendingRelease[]): ClaimArgs {
    const keys = [this.keyOf(userId), ...releases.map((r) => r.key)];
    return [keys.length, ...keys, jobId, limit, this.options.claimTtlMs, ...releases.map((r) => r.jobId)];
  }

  private drain(): PendingRelease[] {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const releases = this.pending;
    this.pending = [];
    return releases;
  }

  private keyOf(userId: string): string {
    return `${this.options.prefix}:vitron:running:${userId}`;
  }
}
