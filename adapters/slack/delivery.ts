import fs from 'node:fs/promises';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { BotApi, BotEvent, JobView, MediaView, TurnView } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { asVitronError } from '../../src/errors.ts';
import { slackChannelAllowsNsfw } from '../../src/safety/safety-policy.ts';
import { mediaGate } from '../shared/safety-gate.ts';
import { downloadFileName } from '../web/media-filename.ts';
import { choiceBlocks, progressBlocks, resultBlocks } from './blocks.ts';
import { gridBlocks } from './grid-blocks.ts';
import { PreviewShelf } from './previews.ts';
import { threadArgs, type SlackThread } from './thread-key.ts';
import type { SlackThreads } from './threads.ts';
import { uploadToThread } from './uploads.ts';

export interface ThreadDeliveryOptions {
  /** Attempts per result upload before the failure is reported in the thread. */
  uploadAttempts: number;
  uploadRetryDelayMs: number;
  /** Safety: the mode, and the channels where flagged media may be posted. */
  safety: Pick<Settings, 'SAFETY' | 'SLACK_NSFW_CHANNELS'>;
  /** At least this long between two generation previews of one job in its thread. */
  previewIntervalMs: number;
  /** How often a shown assistant status is set again: Slack drops it after two minutes. */
  statusRefreshMs?: number;
}

/** Under Slack's two minutes, with room for a slow call. */
const STATUS_REFRESH_MS = 90_000;

/**
 * Core events into the thread they belong to: one progress message per job, updated in place, with the
 * newest generation preview under it (previews.ts); the result uploaded with its buttons, a batch as its
 * grid (grid-blocks.ts); bot turns as replies; the assistant panel's status while a job runs. Per
 * conversation, Slack calls run one after another, so messages reach a thread in the order the core spoke.
 */
export class ThreadDelivery {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly progress = new Map<string, { channel: string; ts: string; text: string }>();
  private readonly progressSeq = new Map<string, number>();
  /**
   * Conversations shown in the assistant panel, with the status they show until their job ends. Slack
   * clears an assistant status whenever the app posts in the thread, and after two minutes in any case,
   * so it is set again after each post and on a timer.
   */
  private readonly assistantThreads = new Map<string, { thread: SlackThread; status: string; timer: NodeJS.Timeout }>();
  private readonly previews: PreviewShelf;

  constructor(
    private readonly bot: BotApi,
    private readonly client: WebClient,
    private readonly threads: SlackThreads,
    private readonly logger: Logger,
    private readonly options: ThreadDeliveryOptions,
  ) {
    // A preview is shared in the thread, which clears the assistant status: set it again behind each one.
    const afterPreview = (conversationId: string, work: () => Promise<void>) =>
      this.enqueue(conversationId, async () => {
        await work();
        await this.restoreStatus(conversationId);
      });
    this.previews = new PreviewShelf(bot, client, logger, afterPreview, {
      intervalMs: options.previewIntervalMs,
    });
  }

  onBotEvent(event: BotEvent): void {
    if (event.type === 'turn' && event.turn.role !== 'bot') return;
    if (event.type === 'job.progress') this.progressSeq.set(event.job.id, (this.progressSeq.get(event.job.id) ?? 0) + 1);
    // Dropped here, not in finish(): jobs of other platforms never reach finish() but do count progress.
    if (event.type === 'job.finished') this.progressSeq.delete(event.job.id);
    const seq = event.type === 'job.progress' ? this.progressSeq.get(event.job.id) : undefined;
    this.enqueue(event.conversationId, async () => {
      const thread = await this.threads.of(event.conversationId);
      if (!thread) return;
      switch (event.type) {
        case 'turn':
          await this.postTurn(thread, event.turn);
          await this.restoreStatus(event.conversationId);
          return;
        case 'job.queued':
          await this.showProgress(thread, event.conversationId, event.job);
          return;
        case 'job.progress':
          // Before the skip below: a preview is kept even when a newer step replaces this one's line.
          this.previews.offer(event.conversationId, thread, event.job);
          // A newer progress event is already waiting: Slack only needs to see the latest.
          if (seq !== this.progressSeq.get(event.job.id)) return;
          await this.showProgress(thread, event.conversationId, event.job);
          return;
        case 'job.finished':
          await this.finish(thread, event.conversationId, event.job, event.turn);
          return;
      }
    });
  }

  /** After the conversation's earlier Slack calls; failures are logged, and the next call still runs. */
  enqueue(conversationId: string, work: () => Promise<void>): void {
    const previous = this.chains.get(conversationId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => this.logger.error({ err: error, conversationId }, 'slack delivery failed'));
    this.chains.set(conversationId, next);
    void next.then(() => {
      if (this.chains.get(conversationId) === next) this.chains.delete(conversationId);
    });
  }

  async settled(): Promise<void> {
    this.previews.stop();
    for (const shown of this.assistantThreads.values()) clearInterval(shown.timer);
    await Promise.allSettled([...this.chains.values()]);
  }

  async say(thread: SlackThread, text: string): Promise<void> {
    await this.client.chat.postMessage({ ...threadArgs(thread), text });
  }

  /** The assistant panel says the bot is working until the conversation's job ends. */
  async showStatus(conversationId: string, thread: SlackThread, status: string): Promise<void> {
    const before = this.assistantThreads.get(conversationId);
    if (before) clearInterval(before.timer);
    const timer = setInterval(() => this.enqueue(conversationId, () => this.restoreStatus(conversationId)), this.options.statusRefreshMs ?? STATUS_REFRESH_MS);
    // A status is decoration: it never keeps the process alive.
    timer.unref();
    this.assistantThreads.set(conversationId, { thread, status, timer });
    await this.setStatus(thread, status);
  }

  async clearStatus(conversationId: string, thread: SlackThread): Promise<void> {
    const shown = this.assistantThreads.get(conversationId);
    if (shown) clearInterval(shown.timer);
    this.assistantThreads.delete(conversationId);
    await this.setStatus(thread, '');
  }

  /** The status again, after a post in the thread (which cleared it) or before Slack's two minutes run out. */
  private async restoreStatus(conversationId: string): Promise<void> {
    const shown = this.assistantThreads.get(conversationId);
    if (shown) await this.setStatus(shown.thread, shown.status);
  }

  private async showProgress(thread: SlackThread, conversationId: string, job: JobView): Promise<void> {
    const { text, blocks } = progressBlocks(job, conversationId);
    const shown = this.progress.get(job.id);
    if (shown?.text === text) return;
    if (shown) {
      await this.client.chat.update({ channel: shown.channel, ts: shown.ts, text, blocks });
      shown.text = text;
      return;
    }
    const posted = await this.client.chat.postMessage({ ...threadArgs(thread), text, blocks });
    if (posted.ts) this.progress.set(job.id, { channel: posted.channel ?? thread.channel, ts: posted.ts, text });
    // The post cleared the assistant status; a job that has ended clears it itself right after.
    if (job.state === 'queued' || job.state === 'running') await this.restoreStatus(conversationId);
  }

  private async finish(thread: SlackThread, conversationId: string, job: JobView, turn: TurnView): Promise<void> {
    try {
      await this.showProgress(thread, conversationId, job);
    } catch (error) {
      // A progress message that cannot be edited (deleted by someone) must not hold back the result.
      this.logger.warn({ err: error, jobId: job.id }, 'slack progress message not updated');
    }
    this.progress.delete(job.id);
    // Whatever the outcome, no preview stays behind it.
    await this.previews.end(job.id);
    const { posted: outputs, withheld } = this.screen(
      thread,
      conversationId,
      turn.media.filter((m) => m.role !== 'upload'),
    );
    const result = outputs.find((m) => m.role === 'result') ?? outputs[0];
    const grid = turn.media.find((m) => m.role === 'grid');
    if (job.state === 'succeeded' && grid) {
      await this.postGrid(thread, conversationId, job, turn, grid, outputs, withheld);
    } else if (job.state === 'succeeded' && turn.choice) {
      // The numbered picture first, then the question with a button per number.
      if (outputs.length > 0) await this.uploadAll(thread, outputs);
      if (withheld.length > 0) await this.say(thread, withheld.join('\n'));
      const message = choiceBlocks(turn.text, turn.choice, conversationId);
      await this.client.chat.postMessage({ ...threadArgs(thread), text: message.text, blocks: message.blocks });
    } else if (job.state === 'succeeded' && withheld.length > 0 && result?.role !== 'result') {
      // Safety: the result itself was withheld: the words and the reason, without buttons that act on it.
      if (outputs.length > 0) await this.uploadAll(thread, outputs);
      await this.say(thread, [turn.text.trim(), ...withheld].filter((line) => line !== '').join('\n'));
    } else if (job.state === 'succeeded' && result) {
      // The result alone when there is one (its comparison or mask would crowd the thread), else every output.
      const uploaded = await this.uploadAll(thread, result.role === 'result' ? [result] : outputs);
      if (uploaded) {
        const message = resultBlocks(turn.text, result, conversationId, job.id, turn.actions);
        await this.client.chat.postMessage({ ...threadArgs(thread), text: message.text, blocks: message.blocks });
      }
    } else if (turn.text.trim() !== '') {
      await this.postTurn(thread, turn);
    }
    if (this.assistantThreads.has(conversationId)) await this.clearStatus(conversationId, thread);
  }

  /**
   * A batch: the grid alone (its n pictures would flood the thread), with U/V/Pick buttons per picture
   * that this channel may see. A withheld grid is the reason only, without buttons.
   */
  private async postGrid(
    thread: SlackThread,
    conversationId: string,
    job: JobView,
    turn: TurnView,
    grid: MediaView,
    outputs: MediaView[],
    withheld: string[],
  ): Promise<void> {
    if (!outputs.includes(grid)) {
      await this.say(thread, [turn.text.trim(), ...withheld].filter((line) => line !== '').join('\n'));
      return;
    }
    if (!(await this.uploadAll(thread, [grid]))) return;
    // Numbers are places on the grid, so they count withheld pictures too.
    const pictures = turn.media
      .filter((m) => m.role === 'result')
      .map((picture, i) => ({ number: i + 1, picture }))
      .filter(({ picture }) => outputs.includes(picture));
    const words = [turn.text.trim(), ...withheld].filter((line) => line !== '').join('\n');
    const message = gridBlocks(words, grid, pictures, conversationId, job.id);
    await this.client.chat.postMessage({ ...threadArgs(thread), text: message.text, blocks: message.blocks });
  }

  /**
   * Safety: the outputs this channel may see, and one sentence per kind of withheld item for the rest
   * (flagged media goes only to SLACK_NSFW_CHANNELS under SAFETY=flag, nowhere under block).
   */
  private screen(thread: SlackThread, conversationId: string, media: MediaView[]): { posted: MediaView[]; withheld: string[] } {
    const { safety } = this.options;
    const gate = mediaGate({
      settings: safety,
      logger: this.logger,
      platform: 'slack',
      conversationId,
      place: thread.channel,
      nsfwAllowed: slackChannelAllowsNsfw(safety, thread.channel),
    });
    const posted: MediaView[] = [];
    const withheld: string[] = [];
    for (const item of media) {
      const sentence = gate(item);
      if (sentence === undefined) posted.push(item);
      else if (!withheld.includes(sentence)) withheld.push(sentence);
    }
    return { posted, withheld };
  }

  /** Each item shared in the thread (uploads.ts), retried, then reported. */
  private async uploadAll(thread: SlackThread, media: MediaView[]): Promise<boolean> {
    const attempts = this.options.uploadAttempts;
    for (const item of media) {
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const { view, path } = await this.bot.media(item.id);
          const filename = downloadFileName(view);
          await uploadToThread(this.client, thread, await fs.readFile(path), filename);
          lastError = undefined;
          break;
        } catch (error) {
          lastError = error;
          this.logger.warn({ err: error, attempt, mediaId: item.id }, 'slack upload failed');
          if (attempt < attempts) await sleep(this.options.uploadRetryDelayMs * attempt);
        }
      }
      if (lastError !== undefined) {
        await this.say(
          thread,
          `The result is ready, but I could not upload it to Slack after ${attempts} tries (${asVitronError(lastError).message}). Ask again in a moment.`,
        );
        return false;
      }
    }
    return true;
  }

  private async postTurn(thread: SlackThread, turn: TurnView): Promise<void> {
    if (turn.text.trim() === '') return;
    await this.say(thread, turn.text);
  }

  private async setStatus(thread: SlackThread, status: string): Promise<void> {
    if (!thread.threadTs) return;
    try {
      await this.client.assistant.threads.setStatus({ channel_id: thread.channel, thread_ts: thread.threadTs, status });
    } catch (error) {
      // The status is decoration: a thread that is not an assistant thread refuses it, the reply still goes out.
      this.logger.debug({ err: error }, 'slack assistant status not set');
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
