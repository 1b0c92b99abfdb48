import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { OwnerTrackingQueue } from '../admin/in-process-overview.ts';
import type { QueueAdmin } from '../admin/queue-overview.ts';
import type { Settings } from '../config/settings.ts';
import type { Planner } from '../core/types.ts';
import { ConversationService } from '../conversation/conversation-service.ts';
import { createBlobStore } from '../media/blob-store-from-settings.ts';
import { Metrics } from '../metrics/metrics.ts';
import { observeQueue } from '../metrics/observe-queue.ts';
import { type FfmpegTools, locateFfmpeg } from '../media/ffmpeg.ts';
import { limitsFromSettings } from '../media/limits.ts';
import { BaselinePlanner } from '../planner/baseline-planner.ts';
import { LlmPlanner } from '../planner/llm/llm-planner.ts';
import { linkSecret, mediaLinkSigner } from './media-links.ts';
import { helpText } from '../planner/help-text.ts';
import { InProcessQueue } from '../queue/in-process-queue.ts';
import type { LaneCount } from '../queue/lane-counts.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { LANES, laneOf } from '../queue/lanes.ts';
import type { InferenceWorkers } from '../worker/inference-workers.ts';
import { openDatabase } from '../store/database.ts';
import { createRepositories } from '../store/repositories.ts';
import { InferencePool } from '../worker/inference-pool.ts';
import type { JobRunnerDeps } from '../worker/job-runner.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import { createLogger } from '../log.ts';
import { createAdmission } from '../limits/admission.ts';
import { createNsfwClassifier, type MediaClassifier } from '../safety/nsfw-classifier.ts';
import { Bot } from './bot.ts';
import { createTextEmbedder } from '../embedding/embedder.ts';
import { createTaskReadiness, type TaskReadiness } from '../vision/readiness.ts';

export interface CreateBotOptions {
  logger?: Logger;
  planner?: Planner;
  /** Entry module of the inference threads (tests swap in their own). */
  threadEntry?: string;
  /** Resume or report jobs left unfinished by the last stop (default true); tests call it themselves. */
  recover?: boolean;
  /** Safety: the upload classifier (tests inject a verdict); default nsfwjs, none when SAFETY=off. */
  classify?: MediaClassifier;
}

export interface RunningBot {
  bot: Bot;
  settings: Settings;
  logger: Logger;
  /** Prometheus metrics of this process's queue and jobs, for the playground's /metrics. */
  metrics: Metrics;
  /** The queue overview of the admin pages; only with ADMIN_TOKEN. */
  admin?: QueueAdmin;
  close(): Promise<void>;
}

/**
 * Wires the embedded defaults (PGlite or PostgreSQL, local media store, in-process queue, inference
 * threads), or with REDIS_URL the BullMQ queue, plus a worker in this process unless RUN_WORKER=false.
 */
export async function createBot(settings: Settings, options: CreateBotOptions = {}): Promise<RunningBot> {
  const logger = options.logger ?? createLogger(settings);
  await fs.mkdir(settings.MEDIA_DIR, { recursive: true });
  const db = await openDatabase(settings);
  const repos = createRepositories(db.prisma);
  const ffmpeg = await locateFfmpeg(settings);
  const readiness = createTaskReadiness(settings);
  const parts = await createQueue(settings, logger, options, readiness);
  const { pool, workers } = parts;
  const metrics = new Metrics();
  // The wrapper is what the bot and recovery enqueue through, so every job is counted with its task.
  const inner = parts.queue;
  // In-process, only a job's enqueue tells its user; in BullMQ mode the admin reads Redis instead.
  const owners = settings.ADMIN_TOKEN && !parts.laneCounts ? new OwnerTrackingQueue(inner) : undefined;
  const queue = observeQueue(metrics, owners ?? inner, parts.laneCounts ? { depth: parts.laneCounts } : {});
  const admission = await createAdmission(settings, logger);
  // The continuous half of the message: text encoders for the installed models, in a thread started on first need.
  const embedder = createTextEmbedder(settings, logger);
  const bot = new Bot({
    settings,
    logger,
    db,
    repos,
    conversations: new ConversationService(db.prisma),
    planner: options.planner ?? plannerFor(settings, logger),
    blobs: createBlobStore(settings),
    ffmpeg,
    limits: limitsFromSettings(settings),
    queue,
    readiness,
    helpText,
    loadedModels: () => pool?.loadedModels() ?? workers?.loadedModels() ?? [],
    admission,
    embed: (invocations) => embedder.embed(invocations),
    links: mediaLinkSigner(await linkSecret(settings), settings.MEDIA_LINK_TTL_HOURS),
    // Safety: uploads are classified on an inference thread of this process when it has one (the runtime the
    // outputs' classifier loads there anyway), else on this thread (a picture is ~0.1–0.3 s of WASM).
    ...(settings.SAFETY === 'off' ? {} : { classify: options.classify ?? uploadClassifier(parts, settings, ffmpeg) }),
  });
  if (options.recover !== false) await bot.recoverUnfinishedJobs();
  // The admin pages' module reaches bullmq: imported only when they are on.
  const admin = settings.ADMIN_TOKEN
    ? await (await import('../admin/open-queue-admin.ts')).openQueueAdmin(settings, owners && { queue: owners, concurrency: pool?.size ?? 0 })
    : undefined;

  return {
    bot,
    settings,
    logger,
    metrics,
    admin,
    async close() {
      // Every step runs even when an earlier one fails; the failures are reported together.
      const failures: unknown[] = [];
      // Workers first: their running jobs finish or go back to Redis while the bot still records events.
      const steps = [
        () => admin?.close(),
        () => workers?.close(),
        () => queue.close(),
        () => bot.close(),
        () => admission.close(),
        () => embedder.close(),
        () => pool?.close(),
        () => db.close(),
      ];
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          failures.push(error);
          logger.error({ err: error }, 'shutdown step failed');
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, 'shutdown finished with errors');
    },
  };
}

interface QueueParts {
  queue: JobQueue<JobPayload, JobOutcome>;
  /** BullMQ mode: the waiting and running counts per lane, read from Redis. */
  laneCounts?: () => Promise<LaneCount[]>;
  pool?: InferencePool;
  workers?: InferenceWorkers;
}

async function createQueue(settings: Settings, logger: Logger, options: CreateBotOptions, readiness: TaskReadiness): Promise<QueueParts> {
  const threadEntry = options.threadEntry ? { entry: options.threadEntry } : {};
  const limits = {
    maxActivePerUser: settings.USER_MAX_QUEUED_JOBS,
    maxAttempts: settings.JOB_MAX_ATTEMPTS,
    backoffMs: settings.JOB_RETRY_BACKOFF_MS,
    timeoutMs: settings.JOB_TIMEOUT_SECONDS * 1000,
  };
  const redisUrl = settings.REDIS_URL;
  if (!redisUrl) {
    const pool = new InferencePool({ settings, logger, ...threadEntry });
    // Jobs an endpoint serves (caption/answer with LLM_URL) run here, beside the threads: a slow
    // server must not hold the only inference thread while edits wait behind it.
    // The runner and every specialist module are imported on the first such job: on this thread they
    // would only hold memory (onnxruntime, the vision modules) for a bot without LLM_URL.
    let local: Promise<[typeof import('../worker/job-runner.ts'), JobRunnerDeps]> | undefined;
    const runHere = () =>
      (local ??= Promise.all([import('../worker/job-runner.ts'), import('../worker/runner-deps.ts').then((m) => m.createRunnerDeps(settings, logger))]));
    const onEndpoint = (payload: JobPayload) => payload.steps.every((step) => readiness.servedByEndpoint(step.invocation.task));
    const queue = new InProcessQueue<JobPayload, JobOutcome>(
      async (job) => {
        if (!onEndpoint(job.payload)) return pool.run(job.payload, { signal: job.signal, onProgress: job.progress });
        const [{ runJob }, deps] = await runHere();
        return runJob(job.payload, deps, { signal: job.signal, progress: job.progress });
      },
      {
        concurrency: pool.size,
        maxRunningPerUser: settings.USER_MAX_RUNNING_JOBS,
        offThread: { is: onEndpoint, concurrency: settings.LLM_CONCURRENCY },
        ...limits,
      },
    );
    return { queue, pool };
  }
  // bullmq and ioredis (≈30 MiB) are imported only in BullMQ mode: the embedded default never loads them.
  const [{ BullmqJobQueue }, { redisClient, warnUnlessNoEviction }, { startInferenceWorkers }] = await Promise.all([
    import('../queue/bullmq-queue.ts'),
    import('../queue/redis-setup.ts'),
    import('../worker/inference-workers.ts'),
  ]);
  const redis = redisClient(redisUrl);
  try {
    await warnUnlessNoEviction(redis, logger);
  } finally {
    await redis.quit();
  }
  const queue = new BullmqJobQueue<JobPayload, JobOutcome>({
    redisUrl,
    prefix: settings.QUEUE_PREFIX,
    lanes: LANES,
    laneOf,
    maxRunningPerUser: settings.USER_MAX_RUNNING_JOBS,
    jobName: (payload) => payload.steps.map((s) => s.invocation.task).join('+'),
    logger,
    ...limits,
  });
  await queue.ready();
  const laneCounts = () => queue.laneCounts();
  if (!settings.RUN_WORKER) return { queue, laneCounts };
  try {
    // The bot's own worker hands its running jobs back at once on stop: the next start (or another worker) resumes them.
    const workers = await startInferenceWorkers(
      { ...settings, REDIS_URL: redisUrl },
      { logger, shutdownGraceMs: 0, ...(options.threadEntry ? { threadEntry: options.threadEntry } : {}) },
    );
    return { queue, workers, laneCounts };
  } catch (error) {
    await queue.close();
    throw error;
  }
}

function uploadClassifier(parts: QueueParts, settings: Settings, ffmpeg: FfmpegTools): MediaClassifier {
  const threads = parts.pool ?? parts.workers;
  return threads ? (media) => threads.classify(media) : createNsfwClassifier(settings, ffmpeg);
}

/** The LLM plans when LLM_URL is set (unless LLM_PLANNER=false); the rule-based planner otherwise, and as its fallback. */
function plannerFor(settings: Settings, logger: Logger): Planner {
  const rules = new BaselinePlanner();
  if (settings.LLM_URL === undefined || !settings.LLM_PLANNER) return rules;
  return new LlmPlanner({ settings, logger, fallback: rules, limits: { maxImagePixels: settings.MAX_IMAGE_PIXELS } });
}
