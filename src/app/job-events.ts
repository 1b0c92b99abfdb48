import type { Logger } from 'pino';
import type { ConversationService } from '../conversation/conversation-service.ts';
import { mediaName } from '../conversation/naming.ts';
import { BadInputError, JobInterruptedError, StoreUnavailableError, VitronError, operatorHintOf } from '../errors.ts';
import type { QueueEvent } from '../queue/job-queue.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { Repositories } from '../store/repositories.ts';
import type { StoredMedia } from '../store/types.ts';
import type { JobOutcome } from '../core/job.ts';
import type { ConversationNotifier } from './notifier.ts';
import type { PreviewLedger } from './preview-ledger.ts';
import { parseStepRef } from './job-steps.ts';
import { describeOutcome } from './outcome-text.ts';
import { actionsFor, choiceOf, turnView } from './views.ts';

/** About ten minutes of patience with a database that is restarting, then the event is left for recovery. */
const STORE_RETRY_FIRST_MS = 500;
const STORE_RETRY_MAX_MS = 30_000;
const STORE_RETRY_LIMIT = 25;

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface JobEventDeps {
  logger: Logger;
  repos: Repositories;
  conversations: ConversationService;
  notifier: ConversationNotifier;
  /** Previews announced here become servable by content address (BotApi.preview). */
  previews: PreviewLedger;
  /** The chat's video limits bound the Longer button (views.ts actionsFor). */
  limits: MediaLimits;
}

/**
 * Turns queue events into the job's stored state and into what the conversation hears: progress,
 * retries, failures with their reason, and results recorded as media with their lineage.
 */
export class JobEventHandler {
  private readonly lastProgressWrite = new Map<string, number>();
  /** Event handling per job runs in order (a 'completed' never overtakes its 'started'). */
  private readonly jobChains = new Map<string, Promise<void>>();
  private readonly notifier: ConversationNotifier;
  private readonly closing = new AbortController();

  constructor(private readonly deps: JobEventDeps) {
    this.notifier = deps.notifier;
  }

  /** Resolves when every event received so far has been handled (or given up at close). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.jobChains.values()]);
  }

  /** Stops waiting for the database: events not stored yet are left for recovery at the next start. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.settle();
  }

  /**
   * A database outage must not lose a job's end: the event is handled again, with growing pauses, until
   * the store is back (each attempt is one transaction, so a failed one left nothing behind). A process
   * that stops meanwhile leaves the job unfinished in the store, and recovery takes it up at the next start.
   */
  private async handleUntilStored(event: QueueEvent<JobOutcome>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.handleQueueEvent(event);
      } catch (error) {
        // Only a job's end must not be lost; a stale progress report or start would only hold up the end
        // queued behind it in the same job's chain (the end claims the job from queued when it must).
        const matters = event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled';
        if (!matters && error instanceof StoreUnavailableError) {
          this.deps.logger.warn({ jobId: event.jobId, event: event.type }, 'the database is unavailable; skipped this progress report');
          return;
        }
        const retry = matters && error instanceof StoreUnavailableError && attempt < STORE_RETRY_LIMIT && !this.closing.signal.aborted;
        if (!retry) throw error;
        const delayMs = Math.min(STORE_RETRY_MAX_MS, STORE_RETRY_FIRST_MS * 2 ** (attempt - 1));
        this.deps.logger.warn(
          { jobId: event.jobId, event: event.type, attempt, delayMs },
          'the database is unavailable; handling this job event again shortly',
        );
        await abortableDelay(delayMs, this.closing.signal);
      }
    }
  }

  onQueueEvent(event: QueueEvent<JobOutcome>): void {
    const previous = this.jobChains.get(event.jobId) ?? Promise.resolve();
    const next = previous
      .then(() => this.handleUntilStored(event))
      .catch((error: unknown) => this.deps.logger.error({ err: error, jobId: event.jobId, event: event.type }, 'handling a job event failed'));
    this.jobChains.set(event.jobId, next);
    void next.finally(() => {
      if (this.jobChains.get(event.jobId) === next) this.jobChains.delete(event.jobId);
    });
  }

  private async handleQueueEvent(event: QueueEvent<JobOutcome>): Promise<void> {
    const { repos, logger } = this.deps;
    const log = logger.child({ jobId: event.jobId });
    switch (event.type) {
      case 'queued':
      case 'cancelled':
        if (event.type === 'cancelled') {
          const job = (await repos.jobs.cancel(event.jobId)) ?? (await repos.jobs.get(event.jobId));
          log.info('job cancelled');
          await this.notifier.reportEnd(job, 'Cancelled.');
        } else {
          const job = await repos.jobs.get(event.jobId);
          this.notifier.publish({ type: 'job.queued', conversationId: job.conversationId, job: this.notifier.jobView(job) });
        }
        return;
      case 'started': {
        const job = await repos.jobs.markRunning(event.jobId);
        if (!job) return;
        log.info({ attempt: event.attempt, conversationId: job.conversationId }, 'job started');
        this.notifier.publish({ type: 'job.progress', conversationId: job.conversationId, job: this.notifier.jobView(job) });
        return;
      }
      case 'progress': {
        const now = Date.now();
        const last = this.lastProgressWrite.get(event.jobId) ?? 0;
        // Progress reaches the page on every report, the database at most twice a second.
        if (now - last > 500 || event.progress.fraction >= 1) {
          this.lastProgressWrite.set(event.jobId, now);
          await repos.jobs.progress(event.jobId, event.progress.fraction, event.progress.note);
        }
        const job = await repos.jobs.get(event.jobId);
        // A report that overtook nothing: the job already ended (its result or error was published).
        if (job.state !== 'running' && job.state !== 'queued') return;
        if (event.progress.preview) this.deps.previews.add(event.progress.preview.sha256);
        this.notifier.publish({ type: 'job.progress', conversationId: job.conversationId, job: this.notifier.jobView(job, event.progress) });
        return;
      }
      case 'retrying': {
        log.warn({ err: event.error, attempt: event.attempt, delayMs: event.delayMs }, 'job failed, will retry');
        const job = await repos.jobs.requeue(event.jobId, { code: event.error.code, message: event.error.message });
        if (job) this.notifier.publish({ type: 'job.progress', conversationId: job.conversationId, job: this.notifier.jobView(job) });
        return;
      }
      case 'failed': {
        this.lastProgressWrite.delete(event.jobId);
        if (event.error instanceof JobInterruptedError) {
          // The process is stopping: leave the job for the next start to resume, and say nothing yet.
          await repos.jobs.markInterrupted(event.jobId);
          log.info('job interrupted by shutdown; it resumes at the next start');
          return;
        }
        const job = (await repos.jobs.fail(event.jobId, { code: event.error.code, message: event.error.message })) ?? (await repos.jobs.get(event.jobId));
        if (event.error instanceof VitronError && !(event.error instanceof BadInputError)) log.error({ err: event.error }, 'job failed');
        else {
          // A model gone since the job was queued: the chat hears "ask its admin", the log says what to pull.
          const operatorHint = operatorHintOf(event.error);
          log.info({ code: event.error.code, ...(operatorHint !== undefined ? { operatorHint } : {}) }, 'job refused its input');
        }
        const prefix = event.error instanceof BadInputError ? '' : 'Sorry, that did not work. ';
        await this.notifier.reportEnd(job, `${prefix}${event.error.message}`);
        return;
      }
      case 'completed':
        this.lastProgressWrite.delete(event.jobId);
        await this.recordOutcome(event.jobId, event.result);
        return;
    }
  }

  /**
   * Stores each step's outputs as media with their lineage, then tells the conversation. The writes are
   * one transaction: a database failing half way leaves the job running with nothing of its result
   * stored, and recovery records it again later; a second bot hearing the same end records nothing.
   */
  private async recordOutcome(jobId: string, outcome: JobOutcome): Promise<void> {
    const { repos, conversations } = this.deps;
    const { conversationId } = await repos.jobs.get(jobId);
    const recorded = await conversations.recordJobOutcome(conversationId, jobId, async ({ repos: tx, job, addResult, recordBotTurn }) => {
      const botTurn = await recordBotTurn('');
      const resultIds: (string | undefined)[] = [];
      const shown: StoredMedia[] = [];
      for (const [index, step] of outcome.steps.entries()) {
        const planned = job.steps[index]!;
        const firstTarget = planned.targetIds[0];
        const stepRef = firstTarget === undefined ? undefined : parseStepRef(firstTarget);
        const parentId = stepRef === undefined ? firstTarget : resultIds[stepRef];
        let resultId: string | undefined;
        for (const produced of step.media) {
          const { sha256, kind, mime, bytes, width, height, durationSec, fps, frameCount, hasAudio, role, label, generation, safety } = produced;
          const stored = await addResult({
            turnId: botTurn.id,
            jobId,
            parentId: parentId ?? null,
            invocation: planned.invocation,
            sha256,
            kind,
            mime,
            bytes,
            width,
            height,
            ...(durationSec === undefined ? {} : { durationSec }),
            ...(fps === undefined ? {} : { fps }),
            ...(frameCount === undefined ? {} : { frameCount }),
            ...(hasAudio === undefined ? {} : { hasAudio }),
            ...(generation === undefined ? {} : { generation }),
            ...(safety === undefined ? {} : { safety }),
            role,
            label,
            // Of a batch ("draw four foxes") the first picture is the one "it" means; the others are picked by number.
            current: role === 'result' && resultId === undefined,
          });
          if (role === 'result' && resultId === undefined) resultId = stored.id;
          // Intermediate results of a chain stay in the lineage (undo walks back through them) but
          // only the last step's outputs are shown.
          if (index === outcome.steps.length - 1 || role !== 'result') shown.push(stored);
        }
        resultIds.push(resultId);
      }
      const text = describeOutcome(outcome, shown, mediaName);
      await tx.turns.setText(botTurn.id, text);
      const succeeded =
        (await tx.jobs.succeed(jobId, {
          steps: outcome.steps.map((s, i) => ({
            task: s.task,
            text: s.text,
            boxes: s.boxes,
            ...(s.choice ? { choice: s.choice } : {}),
            resultId: resultIds[i],
          })),
        })) ?? (await tx.jobs.get(jobId));
      return { botTurn, text, shown, succeeded };
    });
    // Recorded already (a duplicate 'completed', another bot) or cancelled meanwhile.
    if (!recorded) return;
    const { botTurn, text, shown, succeeded } = recorded;
    const job = succeeded;
    this.deps.logger.info({ jobId, conversationId: job.conversationId }, 'job succeeded');
    const conversation = await repos.conversations.get(job.conversationId);
    const view = turnView({ ...botTurn, text }, shown, {
      boxes: outcome.steps.flatMap((s) => s.boxes ?? []),
      ...choiceOf(outcome.steps),
      actions: actionsFor(shown, conversation.redoStack.length > 0, this.deps.limits),
    });
    this.notifier.publish({ type: 'job.finished', conversationId: job.conversationId, job: this.notifier.jobView(succeeded), turn: view });
  }
}
