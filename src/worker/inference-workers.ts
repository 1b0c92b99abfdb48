import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import { LANES } from '../queue/lanes.ts';
import { createTaskReadiness, workerTasks } from '../vision/readiness.ts';
import { LaneWorkers } from './bullmq-worker.ts';
import { InferencePool } from './inference-pool.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import { taskLabel } from '../metrics/job-tracker.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { MemoryBudget } from './memory-budget.ts';
import type { ClassifiableMedia } from '../safety/nsfw-classifier.ts';
import type { SafetyVerdict } from '../core/types.ts';

export interface InferenceWorkers {
  tasks: Task[];
  loadedModels(): string[];
  /** Safety for the bot's uploads, on the image lane's inference threads (where outputs are classified too). */
  classify(media: ClassifiableMedia): Promise<SafetyVerdict>;
  close(): Promise<void>;
}

/**
 * A BullMQ worker per lane, each with its own inference threads, so a video job holding its lane's
 * threads never delays the image lane on the same machine. A job whose task is not taken here, or whose
 * model is not installed here, is handed back for another worker.
 */
export async function startInferenceWorkers(
  settings: Settings & { REDIS_URL: string },
  options: { logger: Logger; threadEntry?: string; handBackDelayMs?: number; shutdownGraceMs?: number; metrics?: Metrics },
): Promise<InferenceWorkers> {
  const tasks = workerTasks(settings);
  const allowed = new Set<string>(tasks);
  const readiness = createTaskReadiness(settings);
  const canRun = (payload: JobPayload) => payload.steps.every(({ invocation: { task } }) => allowed.has(task) && readiness.canRun(task));
  const pools = new Map<string, InferencePool>();
  for (const lane of LANES) {
    pools.set(
      lane,
      new InferencePool({
        settings: { ...settings, WORKER_THREADS: settings.workerConcurrency },
        logger: options.logger,
        ...(options.threadEntry ? { entry: options.threadEntry } : {}),
      }),
    );
  }
  const closePools = () => Promise.allSettled([...pools.values()].map((p) => p.close()));
  let workers: LaneWorkers<JobPayload, JobOutcome>;
  try {
    workers = await LaneWorkers.start<JobPayload, JobOutcome>({
      redisUrl: settings.REDIS_URL,
      prefix: settings.QUEUE_PREFIX,
      lanes: LANES,
      concurrency: settings.workerConcurrency,
      processorFor: (lane) => (job) => pools.get(lane)!.run(job.payload, { signal: job.signal, onProgress: job.progress }),
      canRun,
      lockDurationMs: settings.WORKER_LOCK_MS,
      // BullMQ fails a job on the stall after maxStalledCount: JOB_MAX_ATTEMPTS - 1 lets a job that kills its
      // worker every time take down JOB_MAX_ATTEMPTS workers, as JOB_MAX_ATTEMPTS bounds ordinary failures.
      maxStalledCount: settings.JOB_MAX_ATTEMPTS - 1,
      memoryBudget: new MemoryBudget(settings.WORKER_MEMORY_BUDGET_MB),
      logger: options.logger,
      ...(options.metrics ? { metrics: { jobs: options.metrics.jobs, taskOf: taskLabel } } : {}),
      ...(options.handBackDelayMs === undefined ? {} : { handBackDelayMs: options.handBackDelayMs }),
      ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
    });
  } catch (error) {
    await closePools();
    throw error;
  }
  return {
    tasks,
    loadedModels: () => [...new Set([...pools.values()].flatMap((p) => p.loadedModels()))],
    classify: (media) => (pools.get('image') ?? [...pools.values()][0]!).classify(media),
    async close() {
      // Workers first (they finish or hand back their jobs), then the threads those jobs ran on.
      try {
        await workers.close();
      } finally {
        await closePools();
      }
    },
  };
}
