/**
 * Entry of the bot's text encoder thread: loads only text encoders (the text half of CLIPSeg's and OWL-ViT's
 * graphs, SD-Turbo's text_encoder), one request at a time. onnxruntime's blocking `run` stalls this thread,
 * never the bot's event loop; the thread is started on the first turn that needs it and stopped when idle
 * (text-encoder-thread.ts), so a bot that is not being asked holds none of these graphs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Settings } from '../config/settings.ts';
import { serializeError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { encodeNeed } from '../vision/find/text-needs.ts';
import { ModelRegistry } from '../vision/models/model-registry.ts';
import type { EncodeRequest, FromEncoder } from './encoder-messages.ts';

const port = parentPort;
if (!port) throw new Error('encoder-thread must run as a worker thread');
const settings = (workerData as { settings: Settings }).settings;
const logger = createLogger(settings).child({ thread: 'text-encoder' });
const models = new ModelRegistry({ settings, log: { warn: (message) => logger.warn(message) } });

const send = (message: FromEncoder, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', ({ id, need }: EncodeRequest) => {
  encodeNeed(models, need)
    .then((result) => {
      if (result === undefined) return send({ type: 'encoded', id });
      const values = Float64Array.from(result.values);
      send({ type: 'encoded', id, result: { key: result.key, values } }, [values.buffer]);
    })
    .catch((error: unknown) => send({ type: 'failed', id, error: serializeError(error) }));
});

send({ type: 'ready' });
