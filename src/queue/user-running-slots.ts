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
  -- Only ever lengthened: a pre-claim in the same set may live longer than a running claim.
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  return 1
end
return 0
`;

/**
 * A pre-claim, sent by the bot on the Queue's connection right behind the add of a job: while the job still
 * waits (it is in its lane's prioritized set) and the user has a slot free, the slot is taken for the job and
 * the job's data is marked, in one step. A worker that fetches the marked job starts it without a claim of its own (no round trip
 * before the job). A worker that fetched it first claims as usual, and finds the slot already its job's.
 * KEYS: the user's running set, the lane's prioritized set, the job's hash. ARGV: job id, limit, ttl, the
 * unmarked and marked beginnings of the job's data, and optionally a job of the user's that has ended, whose
 * slot is given back first (the bot passes an ended job's slot on to the user's next waiting job).
 */
const PRECLAIM = `
if ARGV[6] then redis.call('ZREM', KEYS[1], ARGV[6]) end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local data = redis.call('HGET', KEYS[3], 'data')
if not data or string.sub(data, 1, #ARGV[4]) ~= ARGV[4] then return 0 end
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], nowMs + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('HSET', KEYS[3], 'data', ARGV[5] .. string.sub(data, #ARGV[4] + 1))
return 1
`;

/** Slots given back together: KEYS are users' running sets, ARGV the job ids, pairwise. */
const RELEASE = `
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i])
end
return #KEYS
`;

/**
 * The job data's first member while no pre-claim holds a slot for it; a pre-claim turns it into
 * PRECLAIMED_DATA_START. It must stay the first member, so that the script can check and change it
 * without parsing the JSON.
 */
export const UNCLAIMED_DATA_START = '{"preclaimed":false,';
export const PRECLAIMED_DATA_START = '{"preclaimed":true,';

/**
 * How long a pre-claim holds its slot while the job waits. A worker trusts the mark only while the job is
 * younger than PRECLAIM_TRUSTED_MS (older: it claims as usual), so machines' clocks may differ by up to
 * the difference before a mark could outlive its slot. A pre-claim left behind (its job removed by hand)
 * holds the user's slot at most this long.
 */
export const PRECLAIM_TTL_MS = 60 * 60_000;
export const PRECLAIM_TRUSTED_MS = 10 * 60_000;

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

/** Where a pre-claim looks for its job: the lane's prioritized set and the job's hash. */
export interface PreclaimKeys {
  prioritized: string;
  job: string;
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
type WithClaim = {
  vitronClaimSlot(...args: ClaimArgs): Promise<number>;
  vitronReleaseSlots(numberOfKeys: number, ...keysThenJobIds: string[]): Promise<number>;
  vitronPreclaimSlot(numberOfKeys: 3, ...keysThenArgs: (string | number)[]): Promise<number>;
};
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
    redis.defineCommand('vitronPreclaimSlot', { lua: PRECLAIM });
    redis.defineCommand('vitronReleaseSlots', { lua: RELEASE });
  }

  /**
   * Pre-claims the user's slot for a waiting job (PRECLAIM), first giving back the slot of `endedJobId` if given:
   * true when the slot was taken and the job marked; false when the user has no slot free, the job is no longer
   * waiting, or its data does not begin with UNCLAIMED_DATA_START. The bot sends it on the Queue's connection
   * right behind the job's add, so that Redis runs it before any worker can fetch the job; and when a job of
   * the user's ends, to pass that job's slot on to the user's next waiting job.
   */
  async preclaim(keys: PreclaimKeys, userId: string, jobId: string, limit: number, endedJobId?: string): Promise<boolean> {
    const args = this.preclaimArgs(keys, userId, jobId, limit);
    if (endedJobId !== undefined) args.push(endedJobId);
    return (await (this.redis as unknown as WithClaim).vitronPreclaimSlot(...args)) === 1;
  }

  private preclaimArgs(keys: PreclaimKeys, userId: string, jobId: string, limit: number): [3, ...(string | number)[]] {
    return [3, this.keyOf(userId), keys.prioritized, keys.job, jobId, limit, PRECLAIM_TTL_MS, UNCLAIMED_DATA_START, PRECLAIMED_DATA_START];
  }

  /** Gives back a job's slot now, whoever took it (a pre-claimed job cancelled while waiting, or failed without a worker). */
  async releaseNow(userId: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.keyOf(userId), jobId);
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
    try {
      // One command for all of them: with pre-claims, most jobs start without a claim for releases to ride in.
      await (this.redis as unknown as WithClaim).vitronReleaseSlots(releases.length, ...releases.map((r) => r.key), ...releases.map((r) => r.jobId));
      for (const release of releases) release.settle();
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
