/**
 * Entry of one inference thread. Models load here once and stay warm for the thread's life;
 * onnxruntime's blocking `run` stalls only this thread, never the bot's event loop.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Settings } from '../config/settings.ts';
import { InternalError, deserializeError, serializeError } from '../errors.ts';
import { createBlobStore } from '../media/blob-store-from-settings.ts';
import { locateFfmpeg } from '../media/ffmpeg.ts';
import { limitsFromSettings } from '../media/limits.ts';
import { createLogger } from '../log.ts';
import { ModelRegistry } from '../vision/model-registry.ts';
import { specialistFor } from '../vision/registry.ts';
import { runJob, type JobRunnerDeps } from './job-runner.ts';
import type { FromThread, ToThread } from './thread-messages.ts';

const port = parentPort;
if (!port) throw new Error('inference-thread must run as a worker thread');
const settings = (workerData as { settings: Settings }).settings;

const send = (message: FromThread) => port.postMessage(message);

const logger = createLogger(settings).child({ thread: 'inference' });
const models = new ModelRegistry({ settings, log: { warn: (message) => logger.warn(message) } });
const deps: JobRunnerDeps = {
  settings,
  blobs: createBlobStore(settings),
  models,
  ffmpeg: await locateFfmpeg(settings),
  limits: limitsFromSettings(settings),
  specialistFor(task) {
    const specialist = specialistFor(task);
    if (!specialist) throw new InternalError(`${task} is a conversation command, not a job step.`);
    return specialist;
  },
  tmpRoot: os.tmpdir(),
};

let current: { jobId: string; controller: AbortController } | undefined;

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    current?.controller.abort(deserializeError(message.reason));
    return;
  }
  const { payload } = message;
  const controller = new AbortController();
  current = { jobId: payload.jobId, controller };
  runJob(payload, deps, {
    signal: controller.signal,
    progress: (progress) => send({ type: 'progress', jobId: payload.jobId, progress }),
  })
    .then((outcome) => send({ type: 'done', jobId: payload.jobId, outcome }))
    .catch((error: unknown) => send({ type: 'error', jobId: payload.jobId, error: serializeError(error) }))
    .finally(() => {
      current = undefined;
      send({ type: 'models', loaded: models.loadedSessions() });
    });
});

send({ type: 'ready' });
