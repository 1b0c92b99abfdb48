import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors.ts';

/** Requests per minute; 0 means no limit. */
export interface RequestRateLimits {
  perUser: number;
  /** One Discord server or Slack workspace, shared by all its users. */
  perWorkspace: number;
}

const WINDOW_SECONDS = 60;

/**
 * USER_RATE_LIMIT_PER_MINUTE and WORKSPACE_RATE_LIMIT_PER_MINUTE: a one-minute window per key, counted by
 * rate-limiter-flexible in this process or in Redis, where every bot process counts against the same keys.
 */
export class RequestRates {
  private constructor(
    private readonly perUser: RateLimiterAbstract | undefined,
    private readonly perWorkspace: RateLimiterAbstract | undefined,
  ) {}

  static inMemory(limits: RequestRateLimits): RequestRates {
    const limiter = (points: number, purpose: string) =>
      points > 0 ? new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix: purpose }) : undefined;
    return new RequestRates(limiter(limits.perUser, 'user'), limiter(limits.perWorkspace, 'workspace'));
  }

  /**
   * Counts in Redis under `<prefix>:limits:`. While Redis is unreachable each process counts in its own
   * memory (the library's insurance limiter) rather than refusing everyone or letting everyone through.
   */
  static onRedis(limits: RequestRateLimits, client: Redis, prefix: string): RequestRates {
    const limiter = (points: number, purpose: string) => {
      if (points <= 0) return undefined;
      const keyPrefix = `${prefix}:limits:${purpose}`;
      return new RateLimiterRedis({
        storeClient: client,
        points,
        duration: WINDOW_SECONDS,
        keyPrefix,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix }),
      });
    };
    return new RequestRates(limiter(limits.perUser, 'user'), limiter(limits.perWorkspace, 'workspace'));
  }

  /**
   * Counts one request of `user` and, when given, of its workspace; throws RateLimitedError saying when to
   * try again. A request the user's own limit refuses is not counted against the workspace.
   */
  async take(user: string, workspace?: string): Promise<void> {
    await consume(this.perUser, user);
    if (workspace !== undefined) await consume(this.perWorkspace, workspace);
  }
}

async function consume(limiter: RateLimiterAbstract | undefined, key: string): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (rejection) {
    // The library rejects with its result when the points are spent, and with an Error when the store failed.
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    throw rejection;
  }
}
