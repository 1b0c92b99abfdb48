/**
 * The real inference thread (src/worker/inference-thread.ts) with faults a test scripts per input (see
 * fault-scripts.ts): jobs without a script run exactly as in production, real work and real results.
 * The thread's port is wrapped before the real entry loads, so its own message handling is untouched.
 */
import { parentPort } from 'node:worker_threads';
import type { JobPayload } from '../../src/core/job.ts';
import type { FromThread, ToThread } from '../../src/worker/thread-messages.ts';
import { faultScriptFor, type FaultScript } from './fault-scripts.ts';

const port = parentPort!;

function scriptOf(payload: JobPayload): { script: FaultScript; sha256: string } | undefined {
  for (const step of payload.steps) {
    for (const target of step.targets) {
      if (!('media' in target)) continue;
      const script = faultScriptFor(target.media.sha256);
      if (script) return { script, sha256: target.media.sha256 };
    }
  }
  return undefined;
}

/** Results held back, by job id, until their script is removed. */
const held = new Map<string, string>();

const on = port.on.bind(port);
port.on = ((event: string, listener: (message: ToThread) => void) => {
  if (event !== 'message') return on(event, listener);
  return on('message', (message: ToThread) => {
    if (message.type === 'run') {
      const fault = scriptOf(message.payload);
      if (fault?.script === 'crash-thread') process.exit(70);
      if (fault?.script === 'kill-process') process.kill(process.pid, 'SIGKILL');
      if (fault?.script === 'hold-result') held.set(message.payload.jobId, fault.sha256);
    }
    listener(message);
  });
}) as typeof port.on;

const post = port.postMessage.bind(port);
port.postMessage = ((message: FromThread) => {
  const sha256 = message.type === 'done' ? held.get(message.jobId) : undefined;
  if (message.type !== 'done' || sha256 === undefined) return post(message);
  const release = setInterval(() => {
    if (faultScriptFor(sha256) === 'hold-result') return;
    clearInterval(release);
    held.delete(message.jobId);
    post(message);
  }, 100);
}) as typeof port.postMessage;

await import('../../src/worker/inference-thread.ts');
