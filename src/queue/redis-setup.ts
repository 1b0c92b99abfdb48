import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** BullMQ's connection options for a REDIS_URL; blocking commands need maxRetriesPerRequest = null. */
export function bullConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** A plain client for our own keys and pub/sub (the cancel channel). */
export function redisClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Cancellation reaches workers on other machines through this channel; the key covers a job not yet running. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:vitron:cancel`;
}

export function cancelKey(prefix: string, jobId: string): string {
  return `${prefix}:vitron:cancelled:${jobId}`;
}

/**
 * Queued jobs must survive memory pressure: with any eviction policy but noeviction Redis may drop a job's
 * keys. One clear warning line; the process still starts (a managed Redis may not allow CONFIG GET).
 */
export async function warnUnlessNoEviction(client: Redis, logger: Logger): Promise<void> {
  try {
    const reply: unknown = await client.config('GET', 'maxmemory-policy');
    // RESP2 answers [name, value]; RESP3 a map.
    const policy = Array.isArray(reply) ? (reply[1] as string | undefined) : (reply as Record<string, string> | null)?.['maxmemory-policy'];
    if (policy !== undefined && policy !== 'noeviction') {
      logger.warn({ policy }, `Redis maxmemory-policy is "${policy}": set it to noeviction, or Redis may evict queued jobs under memory pressure (see docs/deploy.md)`);
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not read Redis maxmemory-policy (CONFIG GET refused); make sure it is noeviction');
  }
}
