import type { Prisma } from '@prisma/client';
import type { JobState } from '../core/types.ts';
import { NotFoundError } from '../errors.ts';
import { inTransaction, type Db } from './client.ts';
import { toJob } from './mappers.ts';
import type { JobError, JobRecord, ResolvedStep } from './types.ts';

export interface NewJob {
  conversationId: string;
  turnId?: string | null;
  userId?: string | null;
  steps: ResolvedStep[];
}

/**
 * Jobs and their state machine:
 *   queued → running → succeeded | failed | cancelled | (requeued for a retry) queued
 *   running → interrupted (the process died) → queued
 * Each transition is one conditional UPDATE, so two processes (or a cancel racing a finish) cannot both
 * win: a transition returns the job as it is now, or null when the job was not in a state the transition
 * starts from (someone else moved it first). A job that does not exist at all is a NotFoundError.
 */
export class JobRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NewJob): Promise<JobRecord> {
    const row = await this.db.job.create({
      data: {
        conversationId: input.conversationId,
        turnId: input.turnId ?? null,
        userId: input.userId ?? null,
        plan: { steps: input.steps } as unknown as Prisma.InputJsonValue,
      },
    });
    return toJob(row);
  }

  async find(id: string): Promise<JobRecord | null> {
    const row = await this.db.job.findUnique({ where: { id } });
    return row === null ? null : toJob(row);
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.find(id);
    if (job === null) throw new NotFoundError(`Job ${id}`);
    return job;
  }

  /** Claims a queued job for running; null if another worker claimed it or it was cancelled. */
  markRunning(id: string): Promise<JobRecord | null> {
    return this.transition(id, ['queued'], {
      state: 'running',
      attempts: { increment: 1 },
      startedAt: this.now(),
      progressFraction: 0,
      progressNote: null,
    });
  }

  /** False when the job is no longer running (cancelled, finished): the worker can stop reporting. */
  async progress(id: string, fraction: number, note?: string | null): Promise<boolean> {
    const { count } = await this.db.job.updateMany({
      where: { id, state: 'running' },
      data: { progressFraction: Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0, progressNote: note ?? null },
    });
    return count === 1;
  }

  succeed(id: string, result: unknown): Promise<JobRecord | null> {
    return this.transition(id, ['running'], {
      state: 'succeeded',
      result: (result ?? undefined) as Prisma.InputJsonValue | undefined,
      progressFraction: 1,
      errorCode: null,
      errorMessage: null,
      finishedAt: this.now(),
    });
  }

  /** A queued job can fail too: input found bad before it ever ran. */
  fail(id: string, error: JobError): Promise<JobRecord | null> {
    return this.transition(id, ['queued', 'running'], { state: 'failed', errorCode: error.code, errorMessage: error.message, finishedAt: this.now() });
  }

  cancel(id: string): Promise<JobRecord | null> {
    return this.transition(id, ['queued', 'running'], {
      state: 'cancelled',
      errorCode: 'JOB_CANCELLED',
      errorMessage: 'The job was cancelled.',
      finishedAt: this.now(),
    });
  }

  markInterrupted(id: string): Promise<JobRecord | null> {
    return this.transition(id, ['running'], {
      state: 'interrupted',
      errorCode: 'JOB_INTERRUPTED',
      errorMessage: 'The job was interrupted because the bot stopped while it ran.',
      finishedAt: this.now(),
    });
  }

  /** Back to the queue for another attempt (after a transient fault, or after an interruption). */
  requeue(id: string, lastError?: JobError): Promise<JobRecord | null> {
    return this.transition(id, ['running', 'interrupted'], {
      state: 'queued',
      finishedAt: null,
      ...(lastError === undefined ? {} : { errorCode: lastError.code, errorMessage: lastError.message }),
    });
  }

  /** Queued or running, oldest first: what start-up recovery has to look at. */
  async findUnfinished(): Promise<JobRecord[]> {
    const rows = await this.db.job.findMany({ where: { state: { in: ['queued', 'running'] } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(toJob);
  }

  /** Interrupted jobs not yet re-queued or given up on, oldest first. */
  async listInterrupted(): Promise<JobRecord[]> {
    const rows = await this.db.job.findMany({ where: { state: 'interrupted' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(toJob);
  }

  /**
   * Marks every running job interrupted and returns them. Only for start-up of a deployment where this
   * process is the only one running jobs (the in-process queue); with shared workers, running jobs may
   * well be alive elsewhere.
   */
  async interruptRunning(): Promise<JobRecord[]> {
    const running = await this.db.job.findMany({ where: { state: 'running' }, select: { id: true } });
    const interrupted: JobRecord[] = [];
    for (const { id } of running) {
      const job = await this.markInterrupted(id);
      if (job !== null) interrupted.push(job);
    }
    return interrupted;
  }

  /** Newest first. */
  async listForConversation(conversationId: string, limit = 50): Promise<JobRecord[]> {
    const rows = await this.db.job.findMany({ where: { conversationId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
    return rows.map(toJob);
  }

  async lastSucceeded(conversationId: string): Promise<JobRecord | null> {
    const row = await this.db.job.findFirst({
      where: { conversationId, state: 'succeeded' },
      orderBy: [{ finishedAt: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }],
    });
    return row === null ? null : toJob(row);
  }

  /** The user's jobs created since `since` that did not fail or get cancelled: what a daily quota counts. */
  async listCountedForUserSince(userId: string, since: Date): Promise<JobRecord[]> {
    const rows = await this.db.job.findMany({
      where: { userId, createdAt: { gte: since }, state: { notIn: ['failed', 'cancelled'] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toJob);
  }

  /** For per-user limits (USER_MAX_RUNNING_JOBS, USER_MAX_QUEUED_JOBS). */
  async countUnfinishedForUser(userId: string): Promise<{ queued: number; running: number }> {
    const groups = await this.db.job.groupBy({ by: ['state'], where: { userId, state: { in: ['queued', 'running'] } }, _count: { _all: true } });
    const count = (state: JobState) => groups.find((g) => g.state === state)?._count._all ?? 0;
    return { queued: count('queued'), running: count('running') };
  }

  private async transition(id: string, from: JobState[], data: Prisma.JobUpdateManyMutationInput): Promise<JobRecord | null> {
    // One transaction, so the job returned is the one this update produced, not a later state.
    return inTransaction(this.db, async (tx) => {
      const { count } = await tx.job.updateMany({ where: { id, state: { in: from } }, data });
      const job = await new JobRepository(tx, this.now).get(id);
      return count === 1 ? job : null;
    });
  }
}
