/**
 * Entry of one inference thread. Models load here once and stay warm for the thread's life;
 * onnxruntime's blocking `run` stalls only this thread, never the bot's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Settings } from '../config/settings.ts';
import { InternalError, deserializeError, serializeError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { runJob } from './job-runner.ts';
import { createRunnerDeps } from './runner-deps.ts';
import type { FromThread, ToThread } from './thread-messages.ts';

const port = parentPort;
if (!port) throw new Error('inference-thread must run as a worker thread');
const settings = (workerData as { settings: Settings }).settings;

const send = (message: FromThread) => port.postMessage(message);

const logger = createLogger(settings).child({ thread: 'inference' });
const deps = await createRunnerDeps(settings, logger);
const models = deps.models;

let current: { jobId: string; controller: AbortController } | undefined;

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    current?.controller.abort(deserializeError(message.reason));
    return;
  }
  if (message.type === 'classify') {
    const { id, media } = message;
    // Not a job: answered while this thread's job awaits its native work, so an upload never waits for a job.
    (deps.classify ? deps.classify(media) : Promise.reject(new InternalError('The inference thread was asked to classify with SAFETY=off.')))
      .then((verdict) => send({ type: 'classified', id, verdict }))
      .catch((error: unknown) => send({ type: 'classify-error', id, error: serializeError(error) }));
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
