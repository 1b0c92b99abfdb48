/**
 * An inference thread that finishes every job at once with nothing made: a job that costs the queue,
 * the store and the chat adapter what any job costs, and no work of its own. The Slack bench uses it
 * so the adapter's overhead is compared against the bot's own cost per job, not against image work (nor against
 * the NSFW classifier, which runs on the inference thread in the real bot).
 */
import { parentPort } from 'node:worker_threads';
import type { FromThread, ToThread } from '../../../src/worker/thread-messages.ts';

const port = parentPort!;
const send = (message: FromThread) => port.postMessage(message);

port.on('message', (message: ToThread) => {
  if (message.type === 'run') send({ type: 'done', jobId: message.payload.jobId, outcome: { steps: [] } });
  // The bot sends its uploads here for the safety verdict: answered at once, no classifier loaded, like the job.
  if (message.type === 'classify') send({ type: 'classified', id: message.id, verdict: { nsfw: 0, flagged: false } });
});
send({ type: 'ready' });
