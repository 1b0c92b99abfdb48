import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Message, RepliableInteraction } from 'discord.js';
import type { Logger } from 'pino';
import type { BotApi, BotEvent, ConversationView, JobView } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { explain } from './explain.ts';
import { discordGate } from './nsfw.ts';
import { DEFAULT_UPLOAD_LIMIT, type VideoShrinker } from './media.ts';
import type { PendingStore } from './pending-store.ts';
import { previewAttachment, type PreviewRef } from './preview.ts';
import { cancelRow, clip, progressText, renderTurn, type RenderedMessage } from './render.ts';
import { parseScope } from './scope.ts';

type JobFinished = Extract<BotEvent, { type: 'job.finished' }>;

/** Where a running job shows progress and its result, while this process knows the interaction or message. */
interface Delivery {
  jobId: string;
  ownerId: string;
  uploadLimit: number;
  target: { kind: 'interaction'; interaction: RepliableInteraction; createdAt: number } | { kind: 'message'; message: Message };
  /** Every edit of the status message, in order, so a late progress edit never overwrites the result. */
  chain: Promise<void>;
  pendingProgress?: string;
  lastEditAt: number;
  /** The newest preview not shown yet; it waits for the next progress edit allowed to carry one. */
  pendingPreview?: PreviewRef;
  /** The preview the status message shows now (its sha256), and when it was attached. */
  shownPreview?: string;
  lastPreviewAt: number;
  finished: boolean;
  /** Cuts short the pause before a progress edit once the result is there. */
  wake?: AbortController;
}

export interface DeliveriesOptions {
  bot: BotApi;
  settings: Settings;
  logger: Logger;
  client: Client;
  pending: PendingStore;
  video: VideoShrinker;
  /** The clock that decides whether an interaction token is still usable. */
  now: () => number;
  progressIntervalMs: number;
  /** Least time between two preview uploads on one status message (each replaces the one before). */
  previewIntervalMs: number;
  tokenLifetimeMs: number;
  /** Tracks work started here so that close() waits for it. */
  inFlight: (work: Promise<void>) => void;
}

/**
 * Job events back into Discord: progress edits of the status message, then the result, as an edit of the
 * interaction reply while its token lives, else as a new message in the conversation's channel.
 */
export class Deliveries {
  private readonly deliveries = new Map<string, Delivery>();
  /** Jobs this process delivers, per author, for /vitron cancel. */
  private readonly running = new Map<string, Set<string>>();
  private readonly starting = new Map<string, number>();
  private readonly early = new Map<string, JobFinished[]>();

  constructor(private readonly o: DeliveriesOptions) {}

  runningJobsOf(ownerId: string): string[] {
    return [...(this.running.get(ownerId) ?? [])];
  }

  /** Progress and the result of `job` edit this interaction's reply. */
  async followInteraction(interaction: RepliableInteraction, job: JobView, ownerId: string, uploadLimit: number, channelId: string): Promise<void> {
    const delivery = this.track(job.id, ownerId, uploadLimit, { kind: 'interaction', interaction, createdAt: this.o.now() });
    await this.o.pending.set(job.id, { ownerId, channelId, uploadLimit });
    this.queueProgress(delivery, progressText(job));
  }

  /** Progress and the result of `job` edit `status`, the bot's reply to the user's message. */
  async followMessage(status: Message, job: JobView, ownerId: string): Promise<void> {
    this.track(job.id, ownerId, DEFAULT_UPLOAD_LIMIT, { kind: 'message', message: status });
    await this.o.pending.set(job.id, { ownerId, channelId: status.channelId, replyToId: status.id, uploadLimit: DEFAULT_UPLOAD_LIMIT });
  }

  onBotEvent(event: BotEvent): Promise<void> {
    if (event.type === 'job.queued' || event.type === 'job.progress') {
      const delivery = this.deliveries.get(event.job.id);
      if (delivery) this.queueProgress(delivery, progressText(event.job), event.job.progress?.preview);
      return Promise.resolve();
    }
    if (event.type === 'job.finished') return this.deliverResult(event);
    return Promise.resolve();
  }

  /**
   * A fast job can finish before handleTurn has returned its id to us; its job.finished waits here until
   * the turn's reply is registered, so the result edits that reply instead of going out unattributed.
   */
  async duringTurn(conversationId: string, work: () => Promise<void>): Promise<void> {
    this.starting.set(conversationId, (this.starting.get(conversationId) ?? 0) + 1);
    try {
      await work();
    } finally {
      const left = (this.starting.get(conversationId) ?? 1) - 1;
      if (left > 0) this.starting.set(conversationId, left);
      else {
        this.starting.delete(conversationId);
        const held = this.early.get(conversationId) ?? [];
        this.early.delete(conversationId);
        for (const event of held) this.o.inFlight(this.deliverResult(event).catch((error: unknown) => this.o.logger.error({ err: error }, 'delivery failed')));
      }
    }
  }

  /** Every status edit still on its way, and the pending-jobs file's last write. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.deliveries.values()].map((d) => d.chain));
    await this.o.pending.settled();
  }

  private track(jobId: string, ownerId: string, uploadLimit: number, target: Delivery['target']): Delivery {
    const delivery: Delivery = { jobId, ownerId, uploadLimit, target, chain: Promise.resolve(), lastEditAt: 0, lastPreviewAt: 0, finished: false };
    this.deliveries.set(jobId, delivery);
    const jobs = this.running.get(ownerId) ?? new Set<string>();
    jobs.add(jobId);
    this.running.set(ownerId, jobs);
    return delivery;
  }

  private untrack(jobId: string): void {
    this.deliveries.delete(jobId);
    for (const [owner, jobs] of this.running) {
      jobs.delete(jobId);
      if (jobs.size === 0) this.running.delete(owner);
    }
  }

  /**
   * Progress edits coalesce: at most one waits, holding the newest text, and edits are spaced by
   * progressIntervalMs so a chatty job stays inside Discord's per-message edit limit. A preview rides on
   * an edit at most every previewIntervalMs, the newest one, replacing the one shown; edits between keep it.
   */
  private queueProgress(delivery: Delivery, text: string, preview?: PreviewRef): void {
    if (delivery.finished) return;
    if (preview && preview.sha256 !== delivery.shownPreview) delivery.pendingPreview = preview;
    const waiting = delivery.pendingProgress !== undefined;
    delivery.pendingProgress = text;
    if (waiting) return;
    delivery.chain = delivery.chain
      .then(async () => {
        const wait = delivery.lastEditAt + this.o.progressIntervalMs - Date.now();
        if (wait > 0) {
          delivery.wake = new AbortController();
          await sleep(wait, undefined, { signal: delivery.wake.signal }).catch(() => undefined);
          delivery.wake = undefined;
        }
        const next = delivery.pendingProgress;
        delivery.pendingProgress = undefined;
        if (delivery.finished || next === undefined) return;
        if (delivery.target.kind === 'interaction' && !this.tokenAlive(delivery)) return;
        const preview = this.previewDue(delivery);
        const file = preview ? await previewAttachment(this.o.bot, preview) : undefined;
        // The result may have come while the preview was read: it goes last, and alone.
        if (delivery.finished) return;
        const message = {
          content: next,
          components: [cancelRow(delivery.jobId, delivery.ownerId)],
          // `attachments: []` drops the preview shown before; without `files` an edit leaves it in place.
          ...(file ? { files: [file], attachments: [] } : {}),
        };
        if (delivery.target.kind === 'message') await delivery.target.message.edit(message);
        else await delivery.target.interaction.editReply(message);
        delivery.lastEditAt = Date.now();
        if (preview && file) {
          delivery.shownPreview = preview.sha256;
          delivery.lastPreviewAt = delivery.lastEditAt;
        }
      })
      .catch((error: unknown) => this.o.logger.warn({ err: error, job: delivery.jobId }, 'progress edit failed'));
  }

  /** The preview to attach to this edit, if one waits and the last was long enough ago; taken off the queue. */
  private previewDue(delivery: Delivery): PreviewRef | undefined {
    const preview = delivery.pendingPreview;
    if (!preview || Date.now() - delivery.lastPreviewAt < this.o.previewIntervalMs) return undefined;
    delivery.pendingPreview = undefined;
    return preview;
  }

  private tokenAlive(delivery: Delivery): boolean {
    return delivery.target.kind === 'interaction' && this.o.now() - delivery.target.createdAt < this.o.tokenLifetimeMs;
  }

  private async deliverResult(event: JobFinished): Promise<void> {
    const { bot, pending, settings } = this.o;
    if (!this.deliveries.has(event.job.id) && !pending.get(event.job.id) && this.starting.has(event.conversationId)) {
      this.early.set(event.conversationId, [...(this.early.get(event.conversationId) ?? []), event]);
      return;
    }
    const conversation = await bot.getConversation(event.conversationId);
    if (conversation.platform !== 'discord') return;
    const delivery = this.deliveries.get(event.job.id);
    const saved = pending.get(event.job.id);
    this.untrack(event.job.id);
    if (delivery) {
      delivery.finished = true;
      delivery.wake?.abort();
      await delivery.chain;
    }
    const ownerId = delivery?.ownerId ?? saved?.ownerId;
    const uploadLimit = delivery?.uploadLimit ?? saved?.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;
    // Safety: the channel the result lands in decides what may be shown (an NSFW channel, or a thread of one).
    const postedIn =
      delivery?.target.kind === 'interaction'
        ? (delivery.target.interaction.channelId ?? '')
        : delivery?.target.kind === 'message'
          ? delivery.target.message.channelId
          : (parseScope(conversation.externalId)?.channelId ?? saved?.channelId ?? '');
    const gate = await discordGate(this.o, postedIn, conversation.id);
    const context = { conversationId: conversation.id, ownerId: ownerId ?? '0', uploadLimit, publicUrl: settings.PUBLIC_URL, video: this.o.video, gate };
    let rendered: RenderedMessage;
    try {
      rendered = await renderTurn(bot, event.turn, context);
    } catch (error) {
      rendered = { content: `⚠️ The job finished but its result could not be read: ${explain(this.o, error)}`, files: [], components: [] };
    }
    try {
      if (delivery?.target.kind === 'interaction' && this.tokenAlive(delivery)) {
        // `attachments: []`: the result replaces the progress preview, also when it has no file of its own.
        const { interaction } = delivery.target;
        await this.withUploadFallback(rendered, (m) => interaction.editReply({ ...m, attachments: [] }));
      } else if (delivery?.target.kind === 'message') {
        const status = delivery.target.message;
        await this.withUploadFallback(rendered, (m) => status.edit({ ...m, attachments: [] }));
      } else {
        await this.postToChannel(conversation, rendered, ownerId, saved?.replyToId, saved?.channelId);
      }
    } finally {
      await pending.delete(event.job.id);
    }
  }

  /** discord.js already retried the upload; if it still fails the user gets the text and the reason. */
  private async withUploadFallback(rendered: RenderedMessage, send: (message: RenderedMessage) => Promise<unknown>): Promise<void> {
    try {
      await send(rendered);
    } catch (error) {
      if (rendered.files.length === 0) throw error;
      this.o.logger.warn({ err: error }, 'upload failed; sending the text alone');
      const reason = error instanceof Error ? error.message : String(error);
      await send({ ...rendered, files: [], components: [], content: clip(`${rendered.content}\n⚠️ The result could not be uploaded to Discord (${reason}).`) });
    }
  }

  /** A result nobody waits on any more (token expired, or the bot restarted): a new message in the conversation's channel. */
  private async postToChannel(
    conversation: ConversationView,
    rendered: RenderedMessage,
    ownerId: string | undefined,
    replyToId: string | undefined,
    savedChannelId: string | undefined,
  ): Promise<void> {
    const channelId = parseScope(conversation.externalId)?.channelId ?? savedChannelId;
    if (!channelId) {
      this.o.logger.warn({ conversation: conversation.id }, 'result without a Discord channel');
      return;
    }
    const channel = await this.o.client.channels.fetch(channelId);
    if (!channel?.isSendable()) return;
    const mention = ownerId ? `<@${ownerId}> ` : '';
    const reply = replyToId && savedChannelId === channelId ? { reply: { messageReference: replyToId, failIfNotExists: false } } : {};
    await this.withUploadFallback({ ...rendered, content: clip(`${mention}${rendered.content}`) }, (m) => channel.send({ ...m, ...reply }));
  }
}
