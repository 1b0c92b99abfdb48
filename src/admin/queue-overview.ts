import type { Queue } from 'bullmq';

/**
 * What the admin page shows: the queue's state per lane, per user and per worker. Built here without any
 * HTTP framework so the web adapter (or a future CLI) only renders it.
 */
// No "paused": in BullMQ 6 a paused lane keeps its jobs in waiting (LaneOverview.paused says so).
export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

export interface LaneOverview {
  lane: string;
  /** The BullMQ queue behind the lane; absent in-process. */
  queue?: string;
  paused: boolean;
  /** null: this queue does not know that state (the in-process queue has no priorities). */
  counts: Record<JobStateName, number | null>;
}

export interface UserLoad {
  userId: string;
  /** Waiting, prioritized or delayed (backoff). */
  waiting: number;
  running: number;
}

export interface RunningJobView {
  id: string;
  lane: string;
  userId?: string;
  /** BullMQ job name: the tasks of the job (e.g. "cutout+upscale"). */
  name?: string;
  startedAt?: string;
  /** 1-based attempt as the queue counts it. */
  attempt?: number;
  /** The worker's name when it has one (BullMQ's processedBy). */
  worker?: string;
}

export interface WorkerView {
  /** Redis client id of a BullMQ worker's connection; "in-process" for the embedded pool. */
  id: string;
  lane: string;
  /** The worker's own name, when it was given one. */
  name?: string;
  addr?: string;
  ageSeconds?: number;
  idleSeconds?: number;
  /** Jobs it runs at once, when known. */
  concurrency?: number;
  /** Jobs running on it; null when the queue cannot tell (BullMQ workers started without a name). */
  runningJobIds: string[] | null;
}

export interface QueueOverview {
  kind: 'bullmq' | 'in-process';
  at: string;
  lanes: LaneOverview[];
  /** Users with at least one unfinished job, most loaded first. */
  users: UserLoad[];
  running: RunningJobView[];
  workers: WorkerView[];
  /** True when `users` and `running` were computed from the first `sampleLimit` jobs of a state only. */
  truncated: boolean;
  sampleLimit?: number;
  /** Caveats a reader must know to read the numbers right. */
  notes: string[];
}

/** The admin's view of one deployment's queue. */
export interface QueueAdmin {
  readonly kind: QueueOverview['kind'];
  overview(): Promise<QueueOverview>;
  /** The BullMQ queue of each lane, for a dashboard such as Bull Board; empty in-process. */
  readonly bullQueues: readonly Queue[];
  close(): Promise<void>;
}

/** Sorted so the users a reader is looking for (the ones filling the queue) come first. */
export function sortUsers(byUser: Map<string, UserLoad>): UserLoad[] {
  return [...byUser.values()].sort((a, b) => b.running + b.waiting - (a.running + a.waiting) || a.userId.localeCompare(b.userId));
}

export function userLoad(byUser: Map<string, UserLoad>, userId: string): UserLoad {
  let load = byUser.get(userId);
  if (!load) {
    load = { userId, waiting: 0, running: 0 };
    byUser.set(userId, load);
  }
  return load;
}
