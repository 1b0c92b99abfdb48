/**
 * `npm run worker` (src/worker/main.ts) for fault tests: the same settings, BullMQ lanes and inference
 * pools, but its inference threads run test/helpers/fault-thread.ts, the real thread with the faults a test
 * scripts per input. Logs "worker ready" like main.ts, so the same process harness drives both.
 */
import type { Settings } from '../../src/config/settings.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { createLogger } from '../../src/log.ts';
import { startInferenceWorkers } from '../../src/worker/inference-workers.ts';

const THREAD_ENTRY = new URL('./fault-thread.ts', import.meta.url).href;

const settings = loadSettings();
if (!settings.REDIS_URL) throw new Error('fault-worker needs REDIS_URL');
const logger = createLogger(settings).child({ role: 'worker' });
const workers = await startInferenceWorkers(settings as Settings & { REDIS_URL: string }, { logger, threadEntry: THREAD_ENTRY });
logger.info({ tasks: workers.tasks, queuePrefix: settings.QUEUE_PREFIX, pid: process.pid }, 'worker ready');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  try {
    await workers.close();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'stopped with errors');
    process.exit(1);
  }
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
