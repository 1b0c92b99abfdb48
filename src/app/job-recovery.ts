import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import { asVitronError } from '../errors.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { Repositories } from '../store/repositories.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import type { ConversationNotifier } from './notifier.ts';
import { payloadOf } from './job-steps.ts';

export interface RecoveryDeps {
  settings: Settings;
  logger: Logger;
  repos: Repositories;
  queue: JobQueue<JobPayload, JobOutcome>;
  notifier: ConversationNotifier;
}

/**
 * After a stop, jobs left queued or running are resumed (their attempt count kept) or, when out of
 * attempts, reported to their conversation. Nothing is silently dropped.
 */
export async function recoverUnfinishedJobs(deps: RecoveryDeps): Promise<{ resumed: number; reported: number }> {
  if (deps.queue.kind === 'bullmq') return adoptSharedJobs(deps);
  const { repos, settings, logger, notifier } = deps;
  await repos.jobs.interruptRunning();
  const interrupted = await repos.jobs.listInterrupted();
  const queued = (await repos.jobs.findUnfinished()).filter((j) => j.state === 'queued');
  let resumed = 0;
  let reported = 0;
  for (const job of [...interrupted, ...queued]) {
    try {
      if (job.attempts >= settings.JOB_MAX_ATTEMPTS) {
        const failed =
          (await repos.jobs.requeue(job.id)) &&
          (await repos.jobs.fail(job.id, { code: 'JOB_INTERRUPTED', message: 'The job was interrupted too many times.' }));
        await notifier.reportEnd(failed || job, 'I was restarted while working on this, too many times; it could not be finished. Please ask again.');
        reported++;
        continue;
      }
      if (job.state === 'interrupted') await repos.jobs.requeue(job.id, { code: 'JOB_INTERRUPTED', message: 'interrupted by a restart' });
      const payload = await payloadOf(job, repos);
      await deps.queue.enqueue({
        id: job.id,
        userId: job.userId ?? 'unknown',
        conversationId: job.conversationId,
        payload,
        attemptsMade: job.attempts,
        resumed: true,
      });
      if (job.state === 'interrupted') await notifier.reply(job.conversationId, 'I was restarted while working on this; picking it up again.');
      resumed++;
    } catch (error) {
      logger.error({ err: error, jobId: job.id }, 'could not resume job');
      const failed = await repos.jobs.fail(job.id, { code: asVitronError(error).code, message: asVitronError(error).message });
      await notifier.reportEnd(failed ?? job, `This job could not be resumed after a restart: ${asVitronError(error).message}`);
      reported++;
    }
  }
  if (resumed + reported > 0) logger.info({ resumed, reported }, 'recovered unfinished jobs');
  return { resumed, reported };
}

/**
 * With BullMQ the jobs live in Redis and may be running on other machines right now: nothing is marked
 * interrupted. Each unfinished job is enqueued again under its own id, which follows the Redis job when
 * it exists (reporting an end that came while this bot was down) and adds it when Redis lost it.
 */
async function adoptSharedJobs(deps: RecoveryDeps): Promise<{ resumed: number; reported: number }> {
  const { repos, logger, notifier } = deps;
  let resumed = 0;
  let reported = 0;
  for (const job of await repos.jobs.findUnfinished()) {
    try {
      const payload = await payloadOf(job, repos);
      await deps.queue.enqueue({
        id: job.id,
        userId: job.userId ?? 'unknown',
        conversationId: job.conversationId,
        payload,
        attemptsMade: job.attempts,
        resumed: true,
      });
      resumed++;
    } catch (error) {
      logger.error({ err: error, jobId: job.id }, 'could not resume job');
      const problem = asVitronError(error);
      const failed = await repos.jobs.fail(job.id, { code: problem.code, message: problem.message });
      await notifier.reportEnd(failed ?? job, `This job could not be resumed after a restart: ${problem.message}`);
      reported++;
    }
  }
  if (resumed + reported > 0) logger.info({ resumed, reported }, 'followed unfinished jobs in the shared queue');
  return { resumed, reported };
}
