import type { Settings } from '../config/settings.ts';
import { LANES } from '../queue/lanes.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import { BullmqQueueAdmin } from './bullmq-overview.ts';
import { InProcessQueueAdmin, type OwnerTrackingQueue } from './in-process-overview.ts';
import type { QueueAdmin } from './queue-overview.ts';

/**
 * The admin of the deployment's queue: read from Redis with REDIS_URL, otherwise from the owner-tracking
 * wrapper the bot enqueues through (which must be given then).
 */
export async function openQueueAdmin(
  settings: Pick<Settings, 'REDIS_URL' | 'QUEUE_PREFIX'>,
  inProcess?: { queue: OwnerTrackingQueue<JobPayload, JobOutcome>; concurrency: number },
): Promise<QueueAdmin> {
  if (settings.REDIS_URL) {
    const admin = new BullmqQueueAdmin({ redisUrl: settings.REDIS_URL, prefix: settings.QUEUE_PREFIX, lanes: LANES });
    try {
      await admin.ready();
    } catch (error) {
      await admin.close().catch(() => {});
      throw error;
    }
    return admin;
  }
  if (!inProcess) throw new Error('the in-process queue admin needs the owner-tracking queue the bot enqueues through');
  return new InProcessQueueAdmin(inProcess.queue, { concurrency: inProcess.concurrency });
}
