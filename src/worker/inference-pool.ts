import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import type { JobProgress, SafetyVerdict } from '../core/types.ts';
import { JobCancelledError, WorkerCrashedError, deserializeError, serializeError, asVitronError } from '../errors.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import type { ClassifiableMedia } from '../safety/nsfw-classifier.ts';
import type { FromThread, ToThread } from './thread-messages.ts';
import { sourceExtension } from './source-extension.ts';

const BOOT = new URL('./thread-boot.mjs', import.meta.url);
const ENTRY = new URL(`./inference-thread${sourceExtension(import.meta.url)}`, import.meta.url).href;

interface Pending {
  jobId: string;
  resolve(outcome: JobOutcome): void;
  reject(error: unknown): void;
  onProgress(progress: JobProgress): void;
  killTimer?: NodeJS.Timeout;
}

interface Classification {
  media: ClassifiableMedia;
  resolve(verdict: SafetyVerdict): void;
  reject(error: unknown): void;
  /** Threads it was sent to: one lost with its thread is sent once more. */
  sends: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  pending?: Pending;
  classifications: Map<number, Classification>;
}

/** A classification lost with its thread (a job's thread terminated after a cancel) is tried on the fresh one. */
const CLASSIFY_SENDS = 2;

export interface InferencePoolOptions {
  settings: Settings;
  logger?: Logger;
  /** How long a cancelled or timed-out job may take to notice before its thread is terminated. */
  killGraceMs?: number;
  /** Module URL of the thread's entry point; tests swap in their own. */
  entry?: string;
}

/**
 * Up to WORKER_THREADS inference threads, one job each at a time, each started for the first job that finds
 * no idle thread: an idle thread holds ≈100 MiB (its V8 heap and every specialist module) before it runs
 * anything, so a bot that has not run a job yet holds none. A thread that dies takes only its job with
 * it (reported as a retryable WorkerCrashedError) and is replaced; a job that ignores its abort (native
 * inference cannot be interrupted) is stopped by terminating its thread after a grace period.
 */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly waiters: ((slot: Slot) => void)[] = [];
  private closed = false;
  private loaded = new Set<string>();
  private nextClassification = 0;

  constructor(private readonly options: InferencePoolOptions) {}

  /** Jobs it runs at once: WORKER_THREADS, whether or not their threads have started yet. */
  get size(): number {
    return this.options.settings.WORKER_THREADS;
  }

  /** Threads started so far (by jobs that found none idle; a dead one is replaced at once). */
  get startedThreads(): number {
    return this.slots.length;
  }

  loadedModels(): string[] {
    return [...this.loaded];
  }

  async run(payload: JobPayload, controls: { signal: AbortSignal; onProgress(progress: JobProgress): void }): Promise<JobOutcome> {
    if (controls.signal.aborted) throw controls.signal.reason;
    const slot = await this.acquire();
    await slot.ready;
    if (controls.signal.aborted) {
      this.release(slot);
      throw controls.signal.reason;
    }
    return new Promise<JobOutcome>((resolve, reject) => {
      const pending: Pending = { jobId: payload.jobId, resolve, reject, onProgress: controls.onProgress };
      slot.pending = pending;
      const onAbort = () => {
        const reason = asVitronError(controls.signal.reason ?? new JobCancelledError());
        this.post(slot, { type: 'cancel', reason: serializeError(reason) });
        pending.killTimer = setTimeout(() => {
          this.options.logger?.warn({ jobId: payload.jobId }, 'job did not stop after abort; terminating its inference thread');
          this.replace(slot, reason);
        }, this.options.killGraceMs ?? 3000);
      };
      controls.signal.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => controls.signal.removeEventListener('abort', onAbort);
      pending.resolve = (outcome) => {
        cleanup();
        resolve(outcome);
      };
      pending.reject = (error) => {
        cleanup();
        reject(error);
      };
      this.post(slot, { type: 'run', payload });
    });
  }

  /**
   * Safety for an upload, on an inference thread rather than the bot's: the classifier's WebAssembly runtime
   * (≈150 MiB that never shrinks) is then held once, by the thread that classifies outputs anyway, and the bot's
   * event loop never blocks on it. An idle thread is preferred; a busy one answers between its job's awaits.
   */
  async classify(media: ClassifiableMedia): Promise<SafetyVerdict> {
    if (this.closed) throw new WorkerCrashedError('the inference threads are stopping');
    return new Promise<SafetyVerdict>((resolve, reject) => {
      this.sendClassification(this.nextClassification++, { media, resolve, reject, sends: 0 });
    });
  }

  private sendClassification(id: number, classification: Classification): void {
    const slot = this.slots.find((s) => !this.busy.has(s)) ?? this.slots[0] ?? this.spawnSlot();
    classification.sends++;
    slot.classifications.set(id, classification);
    void slot.ready.then(() => {
      if (slot.classifications.has(id)) this.post(slot, { type: 'classify', id, media: classification.media });
    });
  }

  /** Classifications that were on a thread that is gone: sent once more, or rejected with the thread's end. */
  private resendClassifications(slot: Slot, reason: unknown): void {
    const lost = [...slot.classifications];
    slot.classifications.clear();
    for (const [id, classification] of lost) {
      if (this.closed || classification.sends >= CLASSIFY_SENDS) classification.reject(reason);
      else this.sendClassification(id, classification);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) this.resendClassifications(slot, new WorkerCrashedError('the inference threads are stopping'));
    await Promise.allSettled(this.slots.map((slot) => slot.worker.terminate()));
  }

  private post(slot: Slot, message: ToThread): void {
    slot.worker.postMessage(message);
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT, { workerData: { entry: this.options.entry ?? ENTRY, settings: this.options.settings } });
    let markReady: () => void = () => {};
    const slot: Slot = { worker, ready: new Promise<void>((r) => (markReady = r)), classifications: new Map() };
    worker.on('message', (message: FromThread) => {
      switch (message.type) {
        case 'ready':
          markReady();
          return;
        case 'models':
          for (const name of message.loaded) this.loaded.add(name);
          return;
        case 'progress':
          slot.pending?.onProgress(message.progress);
          return;
        case 'done':
          this.settle(slot, (p) => p.resolve(message.outcome));
          return;
        case 'error':
          this.settle(slot, (p) => p.reject(deserializeError(message.error)));
          return;
        case 'classified':
        case 'classify-error': {
          const classification = slot.classifications.get(message.id);
          slot.classifications.delete(message.id);
          if (message.type === 'classified') classification?.resolve(message.verdict);
          else classification?.reject(deserializeError(message.error));
          return;
        }
      }
    });
    worker.on('error', (error) => {
      this.options.logger?.error({ err: error }, 'inference thread failed');
      this.replace(slot, new WorkerCrashedError(error.message));
    });
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) this.replace(slot, new WorkerCrashedError(`inference thread exited with code ${code}`));
    });
    return slot;
  }

  private settle(slot: Slot, action: (pending: Pending) => void): void {
    const pending = slot.pending;
    if (!pending) return;
    clearTimeout(pending.killTimer);
    slot.pending = undefined;
    action(pending);
    this.release(slot);
  }

  /** Terminates a thread (dead, or stuck past its abort) and puts a fresh one in its place. */
  private replace(slot: Slot, reason: unknown): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    const pending = slot.pending;
    slot.pending = undefined;
    if (pending) clearTimeout(pending.killTimer);
    this.slots.splice(index, 1);
    void slot.worker.terminate();
    if (this.closed) {
      pending?.reject(reason);
      this.resendClassifications(slot, reason);
      return;
    }
    const fresh = this.spawn();
    this.slots.push(fresh);
    pending?.reject(reason);
    this.resendClassifications(slot, reason);
    this.release(fresh);
  }

  private busy = new Set<Slot>();

  private acquire(): Promise<Slot> {
    let free = this.slots.find((s) => !this.busy.has(s));
    if (!free && this.slots.length < this.size) free = this.spawnSlot();
    if (free) {
      this.busy.add(free);
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A new thread in the pool (the caller has checked there is room, or there is none yet). */
  private spawnSlot(): Slot {
    const slot = this.spawn();
    this.slots.push(slot);
    return slot;
  }

  private release(slot: Slot): void {
    for (const s of [...this.busy]) if (!this.slots.includes(s)) this.busy.delete(s);
    this.busy.delete(slot);
    if (!this.slots.includes(slot)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.busy.add(slot);
      waiter(slot);
    }
  }
}
