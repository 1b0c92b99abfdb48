import { EngineRejectedError, EngineUnavailableError, JobCancelledError } from '../../errors.ts';
import type { ComfyUiHttp } from './comfyui-http.ts';
import { type HistoryEntry, type QueueState, type WsMessage, describeExecutionError, historyError, historyInterrupted } from './comfyui-protocol.ts';
import type { ComfyUiSocket } from './comfyui-socket.ts';
import type { ApiWorkflow } from './comfyui-workflows.ts';

/**
 * One prompt at ComfyUI from POST /prompt to its history entry. The socket gives progress and the early
 * news; HTTP is the truth: after a reconnect, every few seconds, and when the socket says "done", the
 * history and queue are read, so a dropped socket still finishes and a restarted server (which forgot the
 * prompt) ends in EngineUnavailableError instead of a hang.
 */

export interface RunPromptOptions {
  http: ComfyUiHttp;
  socket: ComfyUiSocket;
  prompt: ApiWorkflow;
  file: string;
  signal: AbortSignal;
  /** Epoch ms after which the prompt is withdrawn and EngineUnavailableError thrown. */
  deadline: number;
  timeoutMs: number;
  progress(value: number, max: number): void;
  queued(position: number): void;
  preview(image: Buffer): void;
}

/** How often HTTP is asked while the socket is up (a safety net) and while it is down (the only news). */
const POLL_UP_MS = 2000;
const POLL_DOWN_MS = 400;
/** execution_success is sent before ComfyUI writes the history: re-ask this often until it is there. */
const POLL_DONE_MS = 20;
/** How long a prompt ComfyUI called finished may lack its history before it counts as lost. */
const DONE_GRACE_MS = 5000;
/** How long ComfyUI may stay unreachable mid-job (a restart) before the job gives up on it. */
const OUTAGE_GRACE_MS = 10_000;

function holds(queue: QueueState, id: string): 'running' | 'pending' | undefined {
  if (queue.queue_running.some((item) => item[1] === id)) return 'running';
  if (queue.queue_pending.some((item) => item[1] === id)) return 'pending';
  return undefined;
}

/** Prompts ahead of ours: whatever runs, and pending prompts with a lower number (ComfyUI's heap order). */
function positionOf(queue: QueueState, id: string): number {
  const ours = queue.queue_pending.find((item) => item[1] === id);
  if (ours === undefined) return 0;
  return queue.queue_running.length + queue.queue_pending.filter((item) => item[0] < ours[0]).length;
}

/**
 * Removes only our prompt: deleted from the queue while pending; interrupted only while it is the one
 * running (/interrupt stops whatever runs, another user's prompt included, on servers that ignore prompt_id).
 */
export async function withdrawPrompt(http: ComfyUiHttp, id: string): Promise<void> {
  const queue = await http.queue();
  const where = holds(queue, id);
  if (where === 'pending') await http.deletePending([id]);
  else if (where === 'running') await http.interrupt(id);
}

export async function runPrompt(o: RunPromptOptions): Promise<HistoryEntry> {
  const early: WsMessage[] = [];
  let id: string | undefined;
  let started = false;
  let doneSeen = false;
  let doneAt = 0;
  let failure: Error | undefined;
  let checkQueue = false;
  let due = 0;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();

  const handle = (m: WsMessage) => {
    if (m.type === 'status') {
      if (!started) checkQueue = true;
      return poke();
    }
    if (m.data.prompt_id !== id) return;
    if (m.type === 'execution_start' || m.type === 'executing' || m.type === 'execution_cached') started = true;
    if (m.type === 'progress') o.progress(Number(m.data.value), Number(m.data.max));
    else if (m.type === 'execution_success' || (m.type === 'executing' && m.data.node === null)) {
      doneAt ||= Date.now();
      doneSeen = true;
    } else if (m.type === 'execution_error')
      failure = new EngineRejectedError('comfyui', describeExecutionError(m.data, o.file), { file: o.file, node: m.data.node_id });
    else if (m.type === 'execution_interrupted' && !o.signal.aborted) failure = interruptedByOthers(o.http.baseUrl);
    poke();
  };
  const unsubscribe = await o.socket.subscribe(
    {
      message: (m) => (id === undefined ? early.push(m) : handle(m)),
      preview: (image, promptId) => {
        if (id !== undefined && promptId === id) o.preview(image);
      },
      reconnected: () => {
        due = 0;
        poke();
      },
    },
    Math.max(1000, Math.min(10_000, o.deadline - Date.now())),
  );
  o.signal.addEventListener('abort', poke);
  let outageSince: number | undefined;
  try {
    // Not aborted by the signal: a prompt ComfyUI accepted while we stopped listening would run unseen;
    // once queued, a cancel withdraws it below.
    id = await o.http.queuePrompt(o.prompt, o.socket.clientId, o.file);
    for (const m of early.splice(0)) handle(m);
    checkQueue = !started;
    for (;;) {
      if (failure) throw failure;
      if (o.signal.aborted) {
        await withdrawPrompt(o.http, id).catch(() => undefined);
        throw new JobCancelledError();
      }
      if (Date.now() >= o.deadline) {
        await withdrawPrompt(o.http, id).catch(() => undefined);
        throw new EngineUnavailableError(
          'comfyui',
          `ComfyUI did not finish ${o.file} within COMFYUI_TIMEOUT_MS (${o.timeoutMs} ms); the prompt was withdrawn.`,
        );
      }
      if (doneSeen || checkQueue || Date.now() >= due) {
        try {
          const entry = await check(o, id, doneSeen && Date.now() - doneAt < DONE_GRACE_MS, checkQueue || Date.now() >= due);
          outageSince = undefined;
          if (entry !== undefined) return entry;
        } catch (error) {
          if (!(error instanceof EngineUnavailableError) || error.details.lost) throw error;
          outageSince ??= Date.now();
          if (Date.now() - outageSince > OUTAGE_GRACE_MS) throw error;
        }
        checkQueue = false;
        due = Date.now() + (o.socket.connected && outageSince === undefined ? POLL_UP_MS : POLL_DOWN_MS);
      }
      const wait = Math.max(0, Math.min(doneSeen ? POLL_DONE_MS : due - Date.now(), o.deadline - Date.now()));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    o.signal.removeEventListener('abort', poke);
    unsubscribe();
  }

  /** The history entry once there; otherwise confirms the prompt is still queued (and reports its place). */
  /** `done`: ComfyUI just said the prompt ended, so its absence from the queue is expected for a moment. */
  async function check(opts: RunPromptOptions, promptId: string, done: boolean, full: boolean): Promise<HistoryEntry | undefined> {
    const entry = await opts.http.history(promptId);
    if (entry !== undefined) return finished(opts, entry);
    if (!full) return undefined;
    const queue = await opts.http.queue();
    const where = holds(queue, promptId);
    if (where === 'pending') opts.queued(positionOf(queue, promptId));
    if (where !== undefined || done) return undefined;
    // Not queued: it finished between the two reads, or the server forgot it (a restart).
    const again = await opts.http.history(promptId);
    if (again !== undefined) return finished(opts, again);
    throw lost(opts.http.baseUrl, promptId);
  }
}

function finished(o: RunPromptOptions, entry: HistoryEntry): HistoryEntry {
  const error = historyError(entry);
  if (error !== undefined) throw new EngineRejectedError('comfyui', describeExecutionError(error, o.file), { file: o.file, node: error.node_id });
  if (historyInterrupted(entry)) {
    if (o.signal.aborted) throw new JobCancelledError();
    throw interruptedByOthers(o.http.baseUrl);
  }
  return entry;
}

function interruptedByOthers(baseUrl: string): EngineUnavailableError {
  return new EngineUnavailableError('comfyui', `Someone interrupted our prompt at ComfyUI (${baseUrl}); the job can be run again.`);
}

function lost(baseUrl: string, id: string): EngineUnavailableError {
  const error = new EngineUnavailableError('comfyui', `ComfyUI at ${baseUrl} no longer knows prompt ${id} (it restarted mid-job); the job can be run again.`);
  error.details.lost = true;
  return error;
}
