import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import { WorkerCrashedError, deserializeError } from '../errors.ts';
import type { TextNeed } from '../vision/find/text-needs.ts';
import type { EncodeRequest, FromEncoder } from './encoder-messages.ts';
import { sourceExtension } from '../worker/source-extension.ts';

const BOOT = new URL('../worker/thread-boot.mjs', import.meta.url);
const ENTRY = new URL(`./encoder-thread${sourceExtension(import.meta.url)}`, import.meta.url).href;

/** A text encoder left unused this long is stopped, and its graphs leave memory with its thread. */
export const ENCODER_IDLE_MS = 5 * 60_000;

export interface TextEncoderThreadOptions {
  settings: Settings;
  logger?: Pick<Logger, 'warn' | 'info'>;
  idleMs?: number;
  /** Module URL of the thread's entry (tests swap in their own). */
  entry?: string;
}

interface Pending {
  resolve(result: { key: string; values: number[] } | undefined): void;
  reject(error: unknown): void;
}

/**
 * The bot's one text encoder thread, started on the first request and stopped after ENCODER_IDLE_MS without
 * one: nothing is loaded at start-up, and memory goes back to idle when nobody asks. It runs one text encoder
 * at a time with one intra-op thread: a phrase is a few tokens, and the inference threads need the cores.
 */
export class TextEncoderThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** How many times a thread was started (tests and the benchmark read it). */
  started = 0;

  constructor(private readonly options: TextEncoderThreadOptions) {}

  get running(): boolean {
    return this.worker !== undefined;
  }

  encode(need: TextNeed): Promise<{ key: string; values: number[] } | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const worker = this.worker ?? this.spawn();
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: EncodeRequest = { id, need };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.stop();
  }

  private spawn(): Worker {
    // One intra-op thread: the text encoder must not take the cores the inference threads run jobs on.
    const settings: Settings = { ...this.options.settings, inferenceThreads: 1 };
    const worker = new Worker(BOOT, { workerData: { entry: this.options.entry ?? ENTRY, settings } });
    this.worker = worker;
    this.started++;
    worker.on('message', (message: FromEncoder) => {
      if (message.type === 'ready') return;
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'encoded')
        pending?.resolve(message.result === undefined ? undefined : { key: message.result.key, values: Array.from(message.result.values) });
      else pending?.reject(deserializeError(message.error));
      if (this.pending.size === 0) this.armIdle();
    });
    worker.on('error', (error) => {
      this.options.logger?.warn({ err: error }, 'text encoder thread failed');
      this.fail(worker, new WorkerCrashedError(error.message));
    });
    worker.on('exit', (code) => this.fail(worker, new WorkerCrashedError(`text encoder thread exited with code ${code}`)));
    return worker;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop(), this.options.idleMs ?? ENCODER_IDLE_MS);
    // An idle timer must not keep a finished process alive.
    this.idleTimer.unref();
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    await worker.terminate();
  }

  /** The thread is gone (crashed, or stopped while asked): its requests fail, the next one starts a fresh thread. */
  private fail(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
