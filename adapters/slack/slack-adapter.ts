/**
 * The Slack app: Slack events in, core turns out; core events back into the thread they belong to.
 * Every Slack request is acknowledged before any work starts (Bolt acks events itself; commands,
 * shortcuts and buttons call ack() first), and the work runs in the background.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { Assistant } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { BotApi, BotEvent, IncomingFile, JobView, MediaView, TurnView, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { BadInputError, RateLimitedError, VitronError, asVitronError } from '../../src/errors.ts';
import { RateLimiter } from '../shared/rate-limiter.ts';
import { downloadFileName } from '../web/media-filename.ts';
import type { ChatAdapter } from '../chat-adapters.ts';
import { ACTION_PREFIX, RESULT_ACTIONS, choiceBlocks, progressBlocks, resultBlocks, type ButtonAction } from './blocks.ts';
import { createBoltApp, type BoltApp, type BoltAppOptions } from './bolt-app.ts';
import { DeliveryDedupe } from './delivery-dedupe.ts';
import { FileIntake } from './file-intake.ts';
import {
  AssistantThreadStartedSchema,
  BlockActionSchema,
  ButtonValueSchema,
  EventEnvelopeSchema,
  MessageEventSchema,
  MessageShortcutSchema,
  SlashCommandSchema,
  type ButtonValue,
  type MessageEvent,
  type SlackFile,
} from './payloads.ts';
import { parseThreadKey, threadArgs, threadKey, type SlackThread } from './thread-key.ts';

export const SHORTCUT_CALLBACK_ID = 'edit_with_vitron';
export const SLASH_COMMAND = '/vitron';
export const WORKING_STATUS = 'is working on it…';

export const SUGGESTED_PROMPTS = [
  { title: 'Remove the background', message: 'Remove the background of this image' },
  { title: 'Black and white', message: 'Make it black and white' },
  { title: 'What is in it?', message: 'What is in this picture?' },
  { title: 'What can you do?', message: 'help' },
];

/** What a button asks the core for, as a turn after continuing from the exact result. */
const BUTTON_TURNS: Partial<Record<ButtonAction, string>> = { upscale: 'upscale it', cutout: 'cut it out', animate: 'animate it' };

export interface SlackAdapterOptions extends BoltAppOptions {
  /** Attempts per result upload before the failure is reported in the thread. */
  uploadAttempts?: number;
  uploadRetryDelayMs?: number;
  /** Slack requests worked on at once after their ack (default 2); the rest wait their turn. */
  maxConcurrentRequests?: number;
}

interface Incoming {
  thread: SlackThread;
  userId: string;
  text: string;
  files: SlackFile[];
  assistant?: boolean;
  /** The Slack message behind the turn: a redelivery records nothing and runs nothing in the core too. */
  eventKey?: string;
}

export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack';
  private readonly client: WebClient;
  private readonly limiter: RateLimiter;
  private readonly dedupe: DeliveryDedupe;
  private readonly intake: FileIntake;
  private readonly unsubscribe: () => void;
  /** Per conversation, the tail of its Slack calls: messages reach a thread in the order the core spoke. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly threads = new Map<string, SlackThread | null>();
  /** Threads this process has seen (follow-ups without a mention); see knownThread for after a restart. */
  private readonly knownThreads = new Set<string>();
  private readonly progress = new Map<string, { channel: string; ts: string; text: string }>();
  private readonly progressSeq = new Map<string, number>();
  /** Conversations shown in the assistant panel, whose status is cleared when their job ends. */
  private readonly assistantThreads = new Set<string>();
  private readonly background = new Set<Promise<void>>();
  private port: number | undefined;
  private readonly slots: Slots;
  /** Deliveries dropped as already handled (Slack retries, app_mention + message of one message). */
  duplicatesDropped = 0;

  constructor(
    private readonly bot: BotApi,
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly bolt: BoltApp,
    private readonly options: SlackAdapterOptions = {},
  ) {
    this.client = bolt.app.client;
    this.limiter = new RateLimiter(settings.USER_RATE_LIMIT_PER_MINUTE);
    this.slots = new Slots(options.maxConcurrentRequests ?? 2);
    this.dedupe = new DeliveryDedupe({ journalPath: path.join(settings.DATA_DIR, 'slack', 'deliveries.log') });
    const apiHost = settings.SLACK_API_URL ? new URL(settings.SLACK_API_URL).hostname : undefined;
    this.intake = new FileIntake({ botToken: settings.SLACK_BOT_TOKEN!, maxBytes: settings.MAX_UPLOAD_BYTES, ...(apiHost ? { extraHost: apiHost } : {}) });
    this.register();
    this.unsubscribe = bot.subscribeAll((event) => this.onBotEvent(event));
  }

  /** The HTTP events port in HTTP mode (useful when SLACK_PORT=0). */
  get httpPort(): number | undefined {
    return this.port;
  }

  get mode(): BoltApp['mode'] {
    return this.bolt.mode;
  }

  async start(): Promise<void> {
    // Claims from before a restart first, so a redelivery that was waiting for us is recognised.
    await this.dedupe.load();
    this.port = (await this.bolt.start()).port;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.bolt.app.stop();
    await Promise.allSettled([...this.background]);
    await Promise.allSettled([...this.chains.values()]);
    await this.dedupe.flush().catch((error: unknown) => this.logger.warn({ err: error }, 'slack delivery journal not written'));
  }

  // ---- Slack → core --------------------------------------------------------------------------------

  private register(): void {
    const { app } = this.bolt;

    app.assistant(
      new Assistant({
        threadStarted: async ({ payload, body }) => {
          const parsed = AssistantThreadStartedSchema.safeParse(payload);
          const teamId = EventEnvelopeSchema.safeParse(body).data?.team_id;
          if (!parsed.success || !teamId) return;
          const { channel_id, thread_ts } = parsed.data.assistant_thread;
          if (!this.allowed(teamId, channel_id)) return;
          this.run(async () => {
            await this.client.assistant.threads.setSuggestedPrompts({ channel_id, thread_ts, title: 'Try one of these, or attach an image:', prompts: SUGGESTED_PROMPTS });
          });
        },
        userMessage: async ({ payload, body }) => this.onMessageEvent(payload, body, true),
      }),
    );

    app.event('app_mention', async ({ event, body }) => this.onMessageEvent(event, body, false));
    app.message(async ({ message, body }) => this.onMessageEvent(message, body, false));

    app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
      const parsed = SlashCommandSchema.safeParse(command);
      if (!parsed.success) return ack();
      const { text, user_id, team_id, channel_id } = parsed.data;
      if (!this.allowed(team_id, channel_id)) return ack({ response_type: 'ephemeral', text: 'vitron is not enabled in this channel.' });
      if (text.trim() === '' || text.trim().toLowerCase() === 'help') return ack({ response_type: 'ephemeral', text: this.bot.helpText() });
      await ack();
      this.run(async () => {
        // A command has no message to thread under: the bot posts one, and that thread is the conversation.
        let rootTs: string | undefined;
        try {
          rootTs = (await this.client.chat.postMessage({ channel: channel_id, text: `<@${user_id}> asked: ${text}` })).ts;
        } catch (error) {
          this.logger.warn({ err: error, channel: channel_id }, 'slack command: could not post in the channel');
        }
        if (!rootTs) {
          await respond({ response_type: 'ephemeral', text: 'I cannot post in this channel. Invite me first (/invite @vitron), or mention me in a channel I am in.' });
          return;
        }
        await this.handleIncoming({ thread: { teamId: team_id, channel: channel_id, threadTs: rootTs }, userId: user_id, text, files: [] });
      });
    });

    app.shortcut(SHORTCUT_CALLBACK_ID, async ({ shortcut, ack }) => {
      await ack();
      const parsed = MessageShortcutSchema.safeParse(shortcut);
      if (!parsed.success) return;
      const { user, team, channel, message } = parsed.data;
      const teamId = team?.id ?? user.team_id;
      if (!teamId || !this.allowed(teamId, channel.id)) return;
      const thread = { teamId, channel: channel.id, threadTs: message.thread_ts ?? message.ts };
      this.run(async () => {
        if (!(message.files ?? []).length) {
          await this.say(thread, 'That message has no image or video attached. Use "Edit with vitron" on a message with a file.');
          return;
        }
        await this.handleIncoming({ thread, userId: user.id, text: '', files: message.files ?? [] });
      });
    });

    app.action(new RegExp(`^${ACTION_PREFIX}`), async ({ ack, body }) => {
      await ack();
      const parsed = BlockActionSchema.safeParse(body);
      if (!parsed.success) return;
      this.run(() => this.onButton(parsed.data));
    });

    app.error(async (error) => {
      this.logger.error({ err: error }, 'slack listener failed');
    });
  }

  private async onMessageEvent(raw: unknown, body: unknown, assistant: boolean): Promise<void> {
    const parsed = MessageEventSchema.safeParse(raw);
    if (!parsed.success) return;
    const event = parsed.data;
    if (!this.isUserMessage(event) || !event.user) return;
    // The installing workspace, not the author's: in a channel shared with another org they differ.
    const teamId = EventEnvelopeSchema.safeParse(body).data?.team_id ?? event.team;
    if (!teamId || !this.allowed(teamId, event.channel)) return;
    const direct = event.channel_type === 'im';
    const thread: SlackThread = { teamId, channel: event.channel, threadTs: event.thread_ts ?? (direct ? '' : event.ts) };
    if (event.type === 'message' && !direct && !assistant) {
      // In channels, only replies in a thread the bot is part of; mentions come as app_mention.
      if (!event.thread_ts || !(await this.knownThread(thread))) return;
    }
    const deliveryKey = `${teamId}:${event.channel}:${event.ts}`;
    if (!this.dedupe.claim(deliveryKey)) {
      this.duplicatesDropped += 1;
      this.logger.debug({ deliveryKey }, 'slack message already handled (retry or duplicate event)');
      return;
    }
    this.run(() => this.handleIncoming({ thread, userId: event.user!, text: stripMentions(event.text), files: event.files ?? [], assistant, eventKey: `slack:${deliveryKey}` }));
  }

  private isUserMessage(event: MessageEvent): boolean {
    if (event.bot_id) return false;
    return event.subtype === undefined || event.subtype === 'file_share' || event.subtype === 'thread_broadcast';
  }

  /**
   * A thread reply without a mention belongs to the bot when the thread is a conversation: seen threads
   * are in memory, and after a restart the store knows them (whoever replies).
   */
  private async knownThread(thread: SlackThread): Promise<boolean> {
    const key = threadKey(thread);
    if (this.knownThreads.has(key)) return true;
    if ((await this.bot.findConversation('slack', key)) === null) return false;
    this.knownThreads.add(key);
    return true;
  }

  private async handleIncoming(incoming: Incoming): Promise<void> {
    const { thread, userId } = incoming;
    const user = this.userRef(thread.teamId, userId);
    try {
      this.limiter.take(user.externalId);
    } catch (error) {
      if (error instanceof RateLimitedError) {
        await this.say(thread, error.message);
        return;
      }
      throw error;
    }
    const key = threadKey(thread);
    this.knownThreads.add(key);
    const conversation = await this.bot.startConversation({ user, platform: 'slack', externalId: key, title: incoming.text.slice(0, 60) || undefined });
    this.threads.set(conversation.id, thread);
    if (incoming.assistant) {
      this.assistantThreads.add(conversation.id);
      await this.setStatus(thread, WORKING_STATUS);
    }

    const files: IncomingFile[] = [];
    const problems: string[] = [];
    for (const file of incoming.files) {
      try {
        files.push(await this.intake.fetch(file));
      } catch (error) {
        if (!(error instanceof VitronError)) throw error;
        problems.push(`I could not fetch "${file.name ?? 'the file'}": ${error.message}`);
      }
    }
    if (problems.length > 0) await this.say(thread, problems.join('\n') + (files.length === 0 ? '\nNothing was done; share the file again.' : ''));
    if (problems.length > 0 && files.length === 0) {
      if (incoming.assistant) await this.clearStatus(conversation.id, thread);
      return;
    }

    // Problems with the words or the files come back as a bot turn, which onBotEvent posts.
    await nextLoopTurn();
    let job = false;
    try {
      const result = await this.bot.handleTurn({ conversationId: conversation.id, user, text: incoming.text, files, ...(incoming.eventKey ? { eventKey: incoming.eventKey } : {}) });
      // Delivered before (another process, or before a restart that lost the journal): the first delivery answers.
      if (result.duplicate) {
        // The status set above for this delivery must not outlive the job it would have shown; a job still
        // under way clears it when it finishes (finish() sees the conversation in assistantThreads).
        const underWay = result.job?.state === 'queued' || result.job?.state === 'running';
        if (incoming.assistant && !underWay) this.enqueue(conversation.id, () => this.clearStatus(conversation.id, thread));
        return;
      }
      job = result.job !== undefined;
    } catch (error) {
      // Not bad input (that is a bot turn) but a fault: the store is down, say so rather than stay silent.
      this.logger.error({ err: error, conversationId: conversation.id }, 'slack turn failed');
      await this.say(thread, `Sorry, that failed: ${asVitronError(error).message}`);
    }
    if (!job && incoming.assistant) this.enqueue(conversation.id, () => this.clearStatus(conversation.id, thread));
  }

  private async onButton(payload: ReturnType<typeof BlockActionSchema.parse>): Promise<void> {
    const action = payload.actions[0]!;
    const name = action.action_id.slice(ACTION_PREFIX.length).split(':')[0] as ButtonAction;
    let value: ButtonValue;
    try {
      value = ButtonValueSchema.parse(JSON.parse(action.value ?? ''));
    } catch {
      this.logger.warn({ actionId: action.action_id }, 'slack button with an unreadable value');
      return;
    }
    const teamId = payload.team?.id ?? payload.user.team_id;
    const channel = payload.channel?.id;
    if (!teamId || (channel && !this.allowed(teamId, channel))) return;
    const user = this.userRef(teamId, payload.user.id);
    const thread = await this.threadOf(value.c);
    // Values come from our own messages, but a conversation of another workspace is never acted on.
    if (!thread || thread.teamId !== teamId) return;
    try {
      this.limiter.take(user.externalId);
      await this.runButton(name, value, user);
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      // Refusals (not your job, rate limit) go to the person who clicked, not to the whole thread.
      await this.client.chat.postEphemeral({ channel: thread.channel, user: payload.user.id, text: error.message, ...(thread.threadTs ? { thread_ts: thread.threadTs } : {}) });
    }
  }

  private async runButton(name: ButtonAction, value: ButtonValue, user: UserRef): Promise<void> {
    const conversationId = value.c;
    if (name === 'cancel') {
      if (value.j) await this.bot.cancelJob(value.j, user);
      return;
    }
    if (name === 'choose') {
      // The number is the answer, word for word: the planner turns it into the asked invocation with `pick`.
      if (value.n !== undefined) await this.bot.handleTurn({ conversationId, user, text: String(value.n), files: [] });
      return;
    }
    if (!(RESULT_ACTIONS as readonly string[]).includes(name) || !value.m) return;
    if (name === 'undo') {
      if (!value.p) throw new BadInputError('NOTHING_TO_UNDO', 'This result has nothing before it to go back to.');
      await this.bot.act({ conversationId, user, action: 'use', mediaId: value.p });
      return;
    }
    if (name === 'redo') {
      await this.bot.act({ conversationId, user, action: 'use', mediaId: value.m });
      return;
    }
    if (name === 'retry') {
      const text = value.j ? await this.requestOf(conversationId, value.j) : undefined;
      if (!text || !value.p) throw new BadInputError('INVALID_ARGUMENT', 'I cannot tell what made this result, so there is nothing to retry; say it again in the thread.');
      await this.bot.act({ conversationId, user, action: 'use', mediaId: value.p });
      await this.bot.handleTurn({ conversationId, user, text, files: [] });
      return;
    }
    const words = BUTTON_TURNS[name];
    if (!words) return;
    await this.bot.act({ conversationId, user, action: 'use', mediaId: value.m });
    await this.bot.handleTurn({ conversationId, user, text: words, files: [] });
  }

  /** The words of the turn that started a job, to run them again. */
  private async requestOf(conversationId: string, jobId: string): Promise<string | undefined> {
    const history = await this.bot.history(conversationId);
    return history.turns.find((t) => t.role === 'user' && t.job?.id === jobId)?.text;
  }

  // ---- core → Slack --------------------------------------------------------------------------------

  private onBotEvent(event: BotEvent): void {
    if (event.type === 'turn' && event.turn.role !== 'bot') return;
    if (event.type === 'job.progress') this.progressSeq.set(event.job.id, (this.progressSeq.get(event.job.id) ?? 0) + 1);
    // Dropped here, not in finish(): jobs of other platforms never reach finish() but do count progress.
    if (event.type === 'job.finished') this.progressSeq.delete(event.job.id);
    const seq = event.type === 'job.progress' ? this.progressSeq.get(event.job.id) : undefined;
    this.enqueue(event.conversationId, async () => {
      const thread = await this.threadOf(event.conversationId);
      if (!thread) return;
      switch (event.type) {
        case 'turn':
          await this.postTurn(thread, event.turn);
          return;
        case 'job.queued':
          await this.showProgress(thread, event.conversationId, event.job);
          return;
        case 'job.progress':
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
  }

  private async finish(thread: SlackThread, conversationId: string, job: JobView, turn: TurnView): Promise<void> {
    try {
      await this.showProgress(thread, conversationId, job);
    } catch (error) {
      // A progress message that cannot be edited (deleted by someone) must not hold back the result.
      this.logger.warn({ err: error, jobId: job.id }, 'slack progress message not updated');
    }
    this.progress.delete(job.id);
    const outputs = turn.media.filter((m) => m.role !== 'upload');
    const result = outputs.find((m) => m.role === 'result') ?? outputs[0];
    if (job.state === 'succeeded' && turn.choice) {
      // The numbered picture first, then the question with a button per number.
      if (outputs.length > 0) await this.uploadAll(thread, outputs);
      const message = choiceBlocks(turn.text, turn.choice, conversationId);
      await this.client.chat.postMessage({ ...threadArgs(thread), text: message.text, blocks: message.blocks });
    } else if (job.state === 'succeeded' && result) {
      // The result alone when there is one (its comparison or mask would crowd the thread), else every output.
      const uploaded = await this.uploadAll(thread, result.role === 'result' ? [result] : outputs);
      if (uploaded) {
        const message = resultBlocks(turn.text, result, conversationId, job.id);
        await this.client.chat.postMessage({ ...threadArgs(thread), text: message.text, blocks: message.blocks });
      }
    } else if (turn.text.trim() !== '') {
      await this.postTurn(thread, turn);
    }
    if (this.assistantThreads.has(conversationId)) await this.clearStatus(conversationId, thread);
  }

  /** files.uploadV2 (getUploadURLExternal, POST, completeUploadExternal), retried, then reported. */
  private async uploadAll(thread: SlackThread, media: MediaView[]): Promise<boolean> {
    const attempts = this.options.uploadAttempts ?? 3;
    for (const item of media) {
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const { view, path } = await this.bot.media(item.id);
          const filename = downloadFileName(view);
          const file = await fs.readFile(path);
          await (thread.threadTs
            ? this.client.filesUploadV2({ channel_id: thread.channel, thread_ts: thread.threadTs, file, filename, title: filename })
            : this.client.filesUploadV2({ channel_id: thread.channel, file, filename, title: filename }));
          lastError = undefined;
          break;
        } catch (error) {
          lastError = error;
          this.logger.warn({ err: error, attempt, mediaId: item.id }, 'slack upload failed');
          if (attempt < attempts) await sleep((this.options.uploadRetryDelayMs ?? 2000) * attempt);
        }
      }
      if (lastError !== undefined) {
        await this.say(thread, `The result is ready, but I could not upload it to Slack after ${attempts} tries (${asVitronError(lastError).message}). Ask again in a moment.`);
        return false;
      }
    }
    return true;
  }

  private async postTurn(thread: SlackThread, turn: TurnView): Promise<void> {
    if (turn.text.trim() === '') return;
    await this.say(thread, turn.text);
  }

  private async say(thread: SlackThread, text: string): Promise<void> {
    await this.client.chat.postMessage({ ...threadArgs(thread), text });
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

  private async clearStatus(conversationId: string, thread: SlackThread): Promise<void> {
    this.assistantThreads.delete(conversationId);
    await this.setStatus(thread, '');
  }

  // ---- plumbing ------------------------------------------------------------------------------------

  private async threadOf(conversationId: string): Promise<SlackThread | undefined> {
    const cached = this.threads.get(conversationId);
    if (cached !== undefined) return cached ?? undefined;
    let thread: SlackThread | undefined;
    try {
      const conversation = await this.bot.getConversation(conversationId);
      thread = conversation.platform === 'slack' ? parseThreadKey(conversation.externalId) : undefined;
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
    }
    this.threads.set(conversationId, thread ?? null);
    return thread;
  }

  private allowed(teamId: string, channel: string): boolean {
    const { SLACK_ALLOWED_TEAMS: teams, SLACK_ALLOWED_CHANNELS: channels } = this.settings;
    if (teams && !teams.includes(teamId)) return false;
    // Direct messages (D…) are governed by the workspace list only: they belong to no channel.
    if (channels && !channel.startsWith('D') && !channels.includes(channel)) return false;
    return true;
  }

  private userRef(teamId: string, userId: string): UserRef {
    return { platform: 'slack', externalId: `${teamId}:${userId}` };
  }

  private enqueue(conversationId: string, work: () => Promise<void>): void {
    const previous = this.chains.get(conversationId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => this.logger.error({ err: error, conversationId }, 'slack delivery failed'));
    this.chains.set(conversationId, next);
    void next.then(() => {
      if (this.chains.get(conversationId) === next) this.chains.delete(conversationId);
    });
  }

  /**
   * Work after the ack: tracked so close() waits for it, and failures are logged, never unhandled.
   * At most `maxConcurrentRequests` run at once; a burst of events otherwise keeps the event loop so busy
   * with turns (the store runs in this thread) that the acks of newer events miss Slack's 3 seconds.
   */
  private run(work: () => Promise<void>): void {
    const task = this.slots
      .acquire()
      .then(async (release) => {
        try {
          // The embedded store (PGlite) runs queries on this thread without giving the loop a turn; yielding
          // here lets the acks of events that arrived meanwhile go out first.
          await nextLoopTurn();
          await work();
        } finally {
          release();
        }
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'slack request failed'));
    this.background.add(task);
    void task.then(() => this.background.delete(task));
  }
}

/** A counting semaphore: acquire() resolves with a release function once a slot is free. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}

function stripMentions(text: string): string {
  return text.replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, ' ').replace(/\s+/g, ' ').trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function createSlackAdapter(bot: BotApi, settings: Settings, logger: Logger, options: SlackAdapterOptions = {}): SlackAdapter {
  return new SlackAdapter(bot, settings, logger, createBoltApp(settings, logger, options), options);
}
