/**
 * An inference thread whose behaviour the job payload scripts (via its first step's args), so the pool's
 * handling of crashes, hangs, progress and errors is tested on real threads without loading models. Uploads
 * sent for classification get a verdict read off their first byte.
 */
import { parentPort } from 'node:worker_threads';
import { BadInputError, serializeError } from '../../src/errors.ts';
import type { FromThread, ToThread } from '../../src/worker/thread-messages.ts';

const port = parentPort!;
const send = (m: FromThread) => port.postMessage(m);

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    if (script === 'cooperative') send({ type: 'error', jobId, error: message.reason });
    return;
  }
  if (message.type === 'classify') {
    // A verdict read off the picture's first byte; a second byte of 1 holds the answer back for 300 ms.
    if (message.media.kind !== 'image') return;
    const [score = 0, slow = 0] = message.media.bytes;
    const answer = () => send({ type: 'classified', id: message.id, verdict: { nsfw: score / 255, flagged: score >= 128 } });
    if (slow === 1) setTimeout(answer, 300);
    else answer();
    return;
  }
  jobId = message.payload.jobId;
  script = String(message.payload.steps[0]?.invocation.args.script);
  switch (script) {
    case 'succeed':
      send({ type: 'progress', jobId, progress: { fraction: 0.5, step: 1, steps: 1, note: 'half' } });
      send({ type: 'done', jobId, outcome: { steps: [] } });
      break;
    case 'bad-input':
      send({ type: 'error', jobId, error: serializeError(new BadInputError('MEDIA_CORRUPT', 'broken')) });
      break;
    case 'crash':
      process.exit(7);
      break;
    case 'hang': {
      // Busy-waits like a native inference call that never yields to the event loop.
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        /* spin */
      }
      break;
    }
    case 'cooperative':
      break;
  }
});
let jobId = '';
let script = '';
send({ type: 'ready' });
