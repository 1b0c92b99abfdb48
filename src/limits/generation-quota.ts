import { usesEngine } from '../core/tasks.ts';
import type { Invocation } from '../core/types.ts';
import { QuotaReachedError } from '../errors.ts';
import type { JobRecord } from '../store/types.ts';

/**
 * GENERATION_DAILY_QUOTA: pictures one user may have generated or painted by words per UTC day. Counted
 * from the jobs themselves (each engine step asks for `count` pictures, 1 when it has none), so the count
 * survives restarts and is shared by every bot process on one database; failed and cancelled jobs do not
 * count.
 */

export function picturesAsked(invocations: readonly Pick<Invocation, 'task' | 'args'>[]): number {
  let total = 0;
  for (const { task, args } of invocations) {
    if (!usesEngine(task, args)) continue;
    const count = Number(args.count);
    total += Number.isInteger(count) && count > 0 ? count : 1;
  }
  return total;
}

/** The start of the UTC day `now` is in. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Throws QuotaReachedError when `asking` more pictures would take the user past `quota` today (0 = no limit). */
export function checkGenerationQuota(quota: number, earlierToday: readonly JobRecord[], asking: number, now: Date): void {
  if (quota === 0 || asking === 0) return;
  const used = earlierToday.reduce((sum, job) => sum + picturesAsked(job.steps.map((s) => s.invocation)), 0);
  if (used + asking <= quota) return;
  const reset = new Date(startOfUtcDay(now).getTime() + 24 * 3600 * 1000);
  const hours = Math.max(1, Math.ceil((reset.getTime() - now.getTime()) / 3600_000));
  const left = Math.max(0, quota - used);
  throw new QuotaReachedError(
    left === 0
      ? `You have used today's ${quota} generated pictures; the quota resets at midnight UTC (in about ${hours} h).`
      : `That would make ${asking} pictures, and only ${left} of today's ${quota} are left; ask for fewer, or wait for midnight UTC (in about ${hours} h).`,
    { quota, used, asking },
  );
}
