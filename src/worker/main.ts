/**
 * `npm run worker`: a worker alone, for GPU machines. It takes jobs from the BullMQ lanes in REDIS_URL,
 * runs them on its inference threads, writes results to the media store, and stops gracefully on
 * SIGTERM (running jobs finish or go back to the queue).
 */
import 'dotenv/config';
import { loadSettings, type Settings } from '../config/settings.ts';
import { SettingsError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { Queue } from 'bullmq';
import { laneCounts } from '../queue/lane-counts.ts';
import { LANES, queueNameOf } from '../queue/lanes.ts';
import { bullConnection, redisClient, warnUnlessNoEviction } from '../queue/redis-setup.ts';
import { Metrics } from '../metrics/metrics.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.ts';
import { startInferenceWorkers } from './inference-workers.ts';

function settingsOrExit(): Settings & { REDIS_URL: string } {
  try {
    const settings = loadSettings();
    if (!settings.REDIS_URL) throw new SettingsError('REDIS_URL', 'a URL starting with redis:// or rediss:// (a worker takes its jobs from Redis)', 'nothing');
    return settings as Settings & { REDIS_URL: string };
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const settings = settingsOrExit();
  const logger = createLogger(settings).child({ role: 'worker' });
  const redis = redisClient(settings.REDIS_URL);
  try {
    await warnUnlessNoEviction(redis, logger);
  } finally {
    await redis.quit();
  }
  // Metrics are fed whether or not they are served: cheap counters, and one code path to test.
  const metrics = new Metrics();
  const workers = await startInferenceWorkers(settings, { logger, metrics });
  logger.info(
    {
      tasks: workers.tasks,
      executionProvider: settings.ORT_PROVIDER,
      cudaFallbackToCpu: settings.ORT_PROVIDER === 'cuda' ? settings.ORT_CUDA_FALLBACK : undefined,
      concurrencyPerLane: settings.workerConcurrency,
      memoryBudgetMb: settings.WORKER_MEMORY_BUDGET_MB || undefined,
      queuePrefix: settings.QUEUE_PREFIX,
    },
    'worker ready',
  );
  let metricsServer: MetricsServer | undefined;
  const depthQueues = new Map<string, Queue>();
  if (settings.METRICS_PORT !== undefined) {
    metrics.setWorkerInfo({
      tasks: workers.tasks,
      executionProvider: settings.ORT_PROVIDER,
      concurrency: settings.workerConcurrency,
      memoryBudgetMb: settings.WORKER_MEMORY_BUDGET_MB,
    });
    for (const lane of LANES)
      depthQueues.set(lane, new Queue(queueNameOf(lane), { connection: bullConnection(settings.REDIS_URL), prefix: settings.QUEUE_PREFIX }));
    metrics.addQueueDepthSource(() => laneCounts(depthQueues));
    metricsServer = await startMetricsServer({ metrics, host: settings.HOST, port: settings.METRICS_PORT });
    logger.info({ url: metricsServer.url }, 'worker metrics listening');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: running jobs finish or go back to the queue');
    try {
      await workers.close();
      await metricsServer?.close();
      await Promise.allSettled([...depthQueues.values()].map((q) => q.close()));
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'stopped with errors');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`vitron-chat worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
