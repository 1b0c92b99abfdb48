import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import { LimitReachedError } from '../errors.ts';
import { RequestRates } from './request-rates.ts';

/** Who asks, as adapters name them: the same key in every bot process. */
export interface Requester {
  platform: string;
  externalId: string;
}

export interface AdmissionRequest {
  user: Requester;
  /** The platform's id of the server or workspace the request comes from; none for DMs and the playground. */
  workspace?: string;
}

/** The user already has as many jobs waiting or running as USER_MAX_QUEUED_JOBS allows. */
export class UnfinishedJobsLimitError extends LimitReachedError {
  constructor(
    readonly unfinished: number,
    readonly limit: number,
  ) {
    const one = unfinished === 1;
    super(
      `You already have ${unfinished} job${one ? '' : 's'} waiting or running (the limit is ${limit}). Wait for ${one ? 'it' : 'one'} to finish, or cancel ${one ? 'it' : 'one'}.`,
      { unfinished, limit },
    );
  }
}

export type AdmissionSettings = Pick<
  Settings,
  'USER_RATE_LIMIT_PER_MINUTE' | 'workspaceRateLimitPerMinute' | 'USER_MAX_QUEUED_JOBS' | 'REDIS_URL' | 'QUEUE_PREFIX'
>;

/**
 * Whether a request that may start work is let in, the same for every platform: the user's jobs waiting
 * or running (USER_MAX_QUEUED_JOBS) first, so a refusal for jobs spends no request allowance, then the
 * user's and the workspace's requests per minute.
 */
export class Admission {
  constructor(
    private readonly rates: RequestRates,
    private readonly maxUnfinishedJobs: number,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  /**
   * Throws UnfinishedJobsLimitError or RateLimitedError (both bad input: shown, never retried).
   * `unfinishedJobs` counts where every bot process sees the same jobs (the store).
   */
  async admit(request: AdmissionRequest, unfinishedJobs: () => Promise<number>): Promise<void> {
    const unfinished = await unfinishedJobs();
    if (unfinished >= this.maxUnfinishedJobs) throw new UnfinishedJobsLimitError(unfinished, this.maxUnfinishedJobs);
    const { platform, externalId } = request.user;
    await this.rates.take(`${platform}:${externalId}`, request.workspace === undefined ? undefined : `${platform}:${request.workspace}`);
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

/** In this process's memory, or in Redis with REDIS_URL so that every bot process shares one count. */
export async function createAdmission(settings: AdmissionSettings, logger?: Logger): Promise<Admission> {
  const limits = { perUser: settings.USER_RATE_LIMIT_PER_MINUTE, perWorkspace: settings.workspaceRateLimitPerMinute };
  if (!settings.REDIS_URL) return new Admission(RequestRates.inMemory(limits), settings.USER_MAX_QUEUED_JOBS);
  // ioredis only when Redis is used: the embedded default never loads it.
  const [{ Redis }, { watchConnection }] = await Promise.all([import('ioredis'), import('../queue/redis-setup.ts')]);
  // No offline queue: while Redis is away a count fails at once and the in-memory insurance answers,
  // instead of every request waiting for the reconnect.
  const client = new Redis(settings.REDIS_URL, { enableOfflineQueue: false, lazyConnect: true });
  watchConnection(client, logger, 'request limits');
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return new Admission(RequestRates.onRedis(limits, client, settings.QUEUE_PREFIX), settings.USER_MAX_QUEUED_JOBS, async () => {
    await client.quit();
  });
}
