/**
 * Generation previews in the job's thread, under its progress message: the newest picture at most once
 * per interval, each one replacing the one before, and none left once the job has ended.
 *
 * Why files and not an image block in the progress message: an image block shows only what Slack can
 * fetch — a public URL (we may have none) or a Slack file already shared where the message is (an
 * unshared upload is refused as "invalid slack file"). So each preview is shared in the thread as a file,
 * and the previous one is deleted (message and file) when the next one or the result arrives.
 */
import fs from 'node:fs/promises';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { BotApi, JobView } from '../../src/app/bot-api.ts';
import type { SlackThread } from './thread-key.ts';
import { removeFromThread, uploadToThread } from './uploads.ts';

export interface PreviewOptions {
  /** At least this long between two previews of one job (Slack's pace, and a thread that stays readable). */
  intervalMs: number;
}

type Preview = NonNullable<NonNullable<JobView['progress']>['preview']>;

interface JobPreviews {
  conversationId: string;
  thread: SlackThread;
  /** The newest preview not shown yet, with its step: a burst of them inside one interval ends as this one. */
  pending?: { preview: Preview; step: number; steps: number };
  /** When the last preview was taken for showing (0: none yet, the first goes out at once). */
  lastAt: number;
  timer?: NodeJS.Timeout;
  /** The preview in the thread now, to delete when the next one or the result comes. */
  shown?: { fileId: string; sha256: string };
  ended: boolean;
}

export class PreviewShelf {
  private readonly jobs = new Map<string, JobPreviews>();

  constructor(
    private readonly bot: BotApi,
    private readonly client: WebClient,
    private readonly logger: Logger,
    /** Runs work after the conversation's earlier Slack calls (ThreadDelivery.enqueue), so uploads keep their order. */
    private readonly enqueue: (conversationId: string, work: () => Promise<void>) => void,
    private readonly options: PreviewOptions,
  ) {}

  /** A progress event of a Slack conversation's job: keeps its preview, and shows it when the interval allows. */
  offer(conversationId: string, thread: SlackThread, job: JobView): void {
    const progress = job.progress;
    if (!progress?.preview) return;
    let entry = this.jobs.get(job.id);
    if (!entry) {
      entry = { conversationId, thread, lastAt: 0, ended: false };
      this.jobs.set(job.id, entry);
    }
    if (entry.ended) return;
    entry.pending = { preview: progress.preview, step: progress.step, steps: progress.steps };
    if (entry.timer) return; // already due: it takes whatever is newest by then
    const wait = Math.max(0, entry.lastAt + this.options.intervalMs - Date.now());
    const due = entry;
    due.timer = setTimeout(() => {
      due.timer = undefined;
      due.lastAt = Date.now();
      this.enqueue(due.conversationId, () => this.show(due));
    }, wait);
    // A preview never keeps the process alive on its way out.
    due.timer.unref();
  }

  /** The job has ended: nothing more is shown for it, and the preview in the thread goes. Run in the conversation's order. */
  async end(jobId: string): Promise<void> {
    const entry = this.jobs.get(jobId);
    if (!entry) return;
    this.jobs.delete(jobId);
    entry.ended = true;
    clearTimeout(entry.timer);
    if (entry.shown) await removeFromThread(this.client, entry.thread, entry.shown.fileId, this.logger);
  }

  /** On shutdown: no timer fires into a stopped client. Previews already shared stay (nothing remembers them across a restart). */
  stop(): void {
    for (const entry of this.jobs.values()) {
      entry.ended = true;
      clearTimeout(entry.timer);
    }
  }

  private async show(entry: JobPreviews): Promise<void> {
    const pending = entry.pending;
    entry.pending = undefined;
    if (entry.ended || !pending || pending.preview.sha256 === entry.shown?.sha256) return;
    const { preview } = pending;
    let file: Buffer;
    let mime: string;
    try {
      const found = await this.bot.preview(preview.sha256);
      file = await fs.readFile(found.path);
      mime = found.mime;
    } catch (error) {
      // A preview is a courtesy: one that is gone (the job moved on, the blob was swept) is skipped.
      this.logger.debug({ err: error, sha256: preview.sha256 }, 'slack preview not readable');
      return;
    }
    // One attempt: a missed preview is followed by a newer one, or by the result.
    const filename = `preview.${mime === 'image/jpeg' ? 'jpg' : (mime.split('/')[1] ?? 'png')}`;
    const title = pending.steps > 1 ? `Preview · step ${pending.step}/${pending.steps}` : 'Preview';
    const fileId = await uploadToThread(this.client, entry.thread, file, filename, title);
    const previous = entry.shown;
    if (fileId) entry.shown = { fileId, sha256: preview.sha256 };
    if (previous) await removeFromThread(this.client, entry.thread, previous.fileId, this.logger);
  }
}
