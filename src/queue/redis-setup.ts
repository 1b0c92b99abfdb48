import type { Socket } from 'node:net';
import { Redis, type Command, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * An ioredis client that sends the commands issued in one tick of the event loop in one socket write: the
 * socket is corked at the tick's first command and uncorked once the tick's work is done (Node's own
 * cork / nextTick(uncork) pattern). Under load, a worker finishing several jobs and a bot adding several at
 * once issue many commands per tick, and on a virtual machine each write is a costly system call (≈20 µs
 * here, more than our side of the command). With 100 submitters of no-op jobs, our layer went from ≈3.2
 * socket writes per job to ≈0.5, and its CPU per job from 1.4–1.6× raw BullMQ's to 1.1–1.25× (docs/deploy.md).
 * A lone command waits for nothing but the end of the current tick.
 */
export class CoalescingRedis extends Redis {
  private corked: Socket | undefined;

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const socket = this.stream as Socket | undefined;
    // Only a ready socket: before that, commands wait in ioredis's offline queue and are written at connect.
    if (this.corked === undefined && socket !== undefined && this.status === 'ready') {
      this.corked = socket;
      socket.cork();
      process.nextTick(() => {
        this.corked = undefined;
        socket.uncork();
      });
    }
    return super.sendCommand(command, stream);
  }

  /** BullMQ duplicates a connection it is given for its blocking reads: the copy coalesces too. */
  override duplicate(...[override]: Parameters<Redis['duplicate']>): ReturnType<Redis['duplicate']> {
    const options = { ...this.options, ...(override as Partial<RedisOptions> | undefined) } as RedisOptions & { replyMapping?: 'legacy' };
    return new CoalescingRedis(options) as ReturnType<Redis['duplicate']>;
  }
}

/**
 * The connection of a BullMQ Queue or Worker that sends commands (not a blocking reader): a client of ours, so
 * that its writes coalesce per tick. BullMQ does not close a client it is given; its owner quits it after the
 * Queue or Worker has closed.
 */
export function bullCommandClient(url: string, logger: Logger | undefined, purpose: string): CoalescingRedis {
  const client = new CoalescingRedis(url, { maxRetriesPerRequest: null });
  watchConnection(client, logger, purpose);
  return client;
}

/** BullMQ's connection options for a REDIS_URL; blocking commands need maxRetriesPerRequest = null. */
export function bullConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/**
 * A plain client for our own keys and pub/sub (the cancel channel). Commands wait while Redis is away
 * (maxRetriesPerRequest null) and ioredis reconnects by itself; an outage is logged once when it starts
 * and once when it ends, instead of an unhandled error event per reconnect attempt.
 */
export function redisClient(url: string, logger?: Logger, purpose = 'redis'): Redis {
  const client = new CoalescingRedis(url, { maxRetriesPerRequest: null });
  watchConnection(client, logger, purpose);
  return client;
}

/** Logs a connection's outages (first error, then recovery); also keeps its errors from being unhandled. */
export function watchConnection(
  client: { on(event: 'error', listener: (error: Error) => void): unknown; on(event: 'ready', listener: () => void): unknown },
  logger: Logger | undefined,
  purpose: string,
): void {
  let down = false;
  client.on('error', (error) => {
    if (down) return;
    down = true;
    logger?.warn({ err: error, purpose }, 'lost the connection to Redis; reconnecting (commands wait meanwhile)');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info({ purpose }, 'reconnected to Redis');
  });
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
      logger.warn(
        { policy },
        `Redis maxmemory-policy is "${policy}": set it to noeviction, or Redis may evict queued jobs under memory pressure (see docs/deploy.md)`,
      );
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not read Redis maxmemory-policy (CONFIG GET refused); make sure it is noeviction');
  }
}

/**
 * An 'error' listener for BullMQ's Queue, QueueEvents and Worker, whose connections report every failed
 * reconnect attempt: one log line per `quietMs` is enough to see an outage without flooding the log.
 */
export function throttledErrorLog(logger: Logger | undefined, message: string, fields: Record<string, unknown> = {}, quietMs = 10_000): (error: Error) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < quietMs) {
      suppressed++;
      return;
    }
    logger?.error({ err: error, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, message);
    last = now;
    suppressed = 0;
  };
}

/** Deletes every key under `<prefix>:` (lanes, event streams, our cancel and slot keys): dropping a deployment. */
export async function deleteKeysUnder(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
