import { RateLimitedError } from '../../src/errors.ts';

/**
 * USER_RATE_LIMIT_PER_MINUTE for chat platforms: a sliding one-minute window per key (a user, a guild).
 * In memory: one bot process serves a platform connection, so its counts are the ones that matter.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    /** 0 = no limit. */
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key`; throws RateLimitedError (saying when to retry) when over the limit. */
  take(key: string): void {
    if (this.perMinute <= 0) return;
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((at) => now - at < 60_000);
    if (recent.length >= this.perMinute) {
      this.hits.set(key, recent);
      throw new RateLimitedError(Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000)));
    }
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) this.forgetIdle(now);
  }

  private forgetIdle(now: number): void {
    for (const [key, times] of this.hits) if (times.every((at) => now - at >= 60_000)) this.hits.delete(key);
  }
}
