import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ChannelType,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  Partials,
  PermissionFlagsBits,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
  type StringSelectMenuInteraction,
} from 'discord.js';
import type { Logger } from 'pino';
import type { BotApi, BotEvent, ConversationView, IncomingFile, JobView, TurnResult, UserRef } from '../../src/app/bot-api.ts';
import { VitronError } from '../../src/errors.ts';
import { locateFfmpeg, type FfmpegTools } from '../../src/media/ffmpeg.ts';
import { formatBytes } from '../../src/media/limits.ts';
import type { ChatAdapter, ChatAdapterContext } from '../chat-adapters.ts';
import { RateLimiter } from '../shared/rate-limiter.ts';
import { refusal, type Origin } from './access.ts';
import { COMMAND_NAME, CONTEXT_MENU_NAME, registerCommands } from './commands.ts';
import { decodeCustomId, type ComponentTarget } from './custom-id.ts';
import { DEFAULT_UPLOAD_LIMIT, fetchAttachment, fileName, type IntakeOptions, type VideoShrinker } from './media.ts';
import { PendingStore } from './pending-store.ts';
import { cancelRow, clip, progressText, renderTurn, type RenderedMessage } from './render.ts';
import { parseScope, scopeKey, type DiscordScope } from './scope.ts';

export interface DiscordAdapterOptions {
  /** The clock that decides whether an interaction token is still usable (tests move it forward). */
  now?: () => number;
  /** Least time between two progress edits of one message; Discord allows about 5 edits per 5 s. */
  progressIntervalMs?: number;
  maxJobsPerUser?: number;
  /** Interaction tokens live 15 minutes; past this age a result goes out as a new channel message. */
  tokenLifetimeMs?: number;
}

export interface DiscordAdapter extends ChatAdapter {
  readonly client: Client;
}

/** The chat-adapters starter: nothing happens without DISCORD_TOKEN. */
export async function startDiscordAdapter(context: ChatAdapterContext): Promise<ChatAdapter | undefined> {
  if (!context.settings.DISCORD_TOKEN) return undefined;
  return createDiscordAdapter(context);
}

export async function createDiscordAdapter(context: ChatAdapterContext, options: DiscordAdapterOptions = {}): Promise<DiscordAdapter> {
  const adapter = new DiscordBridge(context, options);
  await adapter.start();
  return adapter;
}

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
  finished: boolean;
  /** Cuts short the pause before a progress edit once the result is there. */
  wake?: AbortController;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const TURN_WORDS = { upscale: 'upscale it', cutout: 'cut it out', animate: 'animate it' } as const;

class DiscordBridge implements DiscordAdapter {
  readonly platform = 'discord';
  readonly client: Client;
  private readonly bot: BotApi;
  private readonly logger: Logger;
  private readonly settings: ChatAdapterContext['settings'];
  private readonly now: () => number;
  private readonly progressIntervalMs: number;
  private readonly maxJobsPerUser: number;
  private readonly tokenLifetimeMs: number;
  private readonly userLimiter: RateLimiter;
  private readonly guildLimiter: RateLimiter;
  private readonly deliveries = new Map<string, Delivery>();
  /** Running jobs per user, for the concurrency limit and /vitron cancel. */
  private readonly running = new Map<string, Set<string>>();
  private readonly pending: PendingStore;
  private readonly starting = new Map<string, number>();
  private readonly early = new Map<string, Extract<BotEvent, { type: 'job.finished' }>[]>();
  private readonly intake: IntakeOptions;
  private unsubscribe?: () => void;
  private ffmpeg?: Promise<FfmpegTools | undefined>;
  /** ffmpeg is looked up on the first too-large video only; without it such a video is linked or explained. */
  private readonly video: VideoShrinker = {
    tools: () =>
      (this.ffmpeg ??= locateFfmpeg(this.settings).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'no ffmpeg: too-large videos cannot be re-encoded for Discord');
        return undefined;
      })),
    tmpDir: os.tmpdir(),
  };

  constructor(context: ChatAdapterContext, options: DiscordAdapterOptions) {
    this.bot = context.bot;
    this.settings = context.settings;
    this.logger = context.logger.child({ platform: 'discord' });
    this.now = options.now ?? Date.now;
    this.progressIntervalMs = options.progressIntervalMs ?? 1500;
    this.maxJobsPerUser = options.maxJobsPerUser ?? 2;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 14 * 60_000;
    this.userLimiter = new RateLimiter(this.settings.USER_RATE_LIMIT_PER_MINUTE);
    // A server shares one allowance a few users' worth wide, so one busy server cannot starve the others.
    this.guildLimiter = new RateLimiter(this.settings.USER_RATE_LIMIT_PER_MINUTE * 5);
    this.pending = new PendingStore(path.join(this.settings.DATA_DIR, 'discord', 'pending-jobs.json'));
    const apiHost = this.settings.DISCORD_API_URL ? new URL(this.settings.DISCORD_API_URL) : undefined;
    this.intake = {
      maxBytes: this.settings.MAX_UPLOAD_BYTES,
      // Only a plain-http API on this machine (the tests' local fake) may serve attachments over http.
      insecureHosts: apiHost?.protocol === 'http:' && LOOPBACK.has(apiHost.hostname) ? [apiHost.hostname] : [],
    };
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
      // DM channels are not in the cache until fetched; without this the first DM is dropped.
      partials: [Partials.Channel, Partials.Message],
      // Every message create carries a nonce with enforce_nonce, so a POST retried after a 5xx or timeout is created once.
      enforceNonce: true,
      rest: this.settings.DISCORD_API_URL ? { api: this.settings.DISCORD_API_URL } : {},
    });
  }

  async start(): Promise<void> {
    await this.pending.load();
    this.client.on(Events.InteractionCreate, (interaction) => {
      if (!this.firstDelivery(`interaction:${interaction.id}`)) return;
      this.inFlight(this.onInteraction(interaction).catch((error: unknown) => this.interactionFailed(interaction, error)));
    });
    this.client.on(Events.MessageCreate, (message) => {
      if (!this.firstDelivery(`message:${message.id}`)) return;
      this.inFlight(this.onMessage(message).catch((error: unknown) => this.logger.error({ err: error }, 'message failed')));
    });
    this.client.on(Events.ShardResume, (shard) => this.logger.info({ shard }, 'gateway resumed'));
    this.client.on(Events.ShardDisconnect, (event, shard) => this.logger.warn({ shard, code: event.code }, 'gateway disconnected'));
    this.client.on(Events.Error, (error) => this.logger.error({ err: error }, 'discord client error'));
    this.unsubscribe = this.bot.subscribeAll((event) => this.inFlight(this.onBotEvent(event).catch((error: unknown) => this.logger.error({ err: error, event: event.type }, 'delivery failed'))));
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    try {
      await this.client.login(this.settings.DISCORD_TOKEN);
      await ready;
    } catch (error) {
      // A wrong token stops start-up (main.ts prints why); nothing of this adapter may stay behind.
      this.unsubscribe?.();
      await this.client.destroy();
      throw error;
    }
    if (this.settings.DISCORD_REGISTER_COMMANDS) {
      const applicationId = this.settings.DISCORD_APPLICATION_ID ?? this.client.application?.id;
      if (applicationId) {
        try {
          await registerCommands(this.client.rest, applicationId, this.settings.DISCORD_GUILD_ID);
        } catch (error) {
          // The bot still answers mentions and DMs; the log says what to fix.
          this.logger.error({ err: error }, 'could not register slash commands (run npm run discord:register)');
        }
      }
    }
    this.logger.info({ user: this.client.user?.tag }, 'discord bot logged in');
  }

  /** Gateway events seen lately, oldest first; a Map keeps insertion order, so trimming drops the oldest. */
  private readonly delivered = new Map<string, true>();

  /**
   * A resume can replay events this process already handled. Dropped here, before anything is done: a
   * replayed interaction would be acknowledged twice (Discord refuses that, and the refusal would overwrite
   * the reply), and a replayed reply to a result would record its "use this one" turn again before the
   * core's eventKey check could say duplicate. The core check still covers a redelivery to another process.
   */
  private firstDelivery(key: string): boolean {
    if (this.delivered.has(key)) return false;
    this.delivered.set(key, true);
    if (this.delivered.size > 10_000) this.delivered.delete(this.delivered.keys().next().value!);
    return true;
  }

  /** Handlers still running; close() lets them finish so a job's owner is saved before the process stops. */
  private readonly handlers = new Set<Promise<void>>();

  private inFlight(work: Promise<void>): void {
    this.handlers.add(work);
    void work.finally(() => this.handlers.delete(work));
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await Promise.allSettled([...this.handlers]);
    await Promise.allSettled([...this.deliveries.values()].map((d) => d.chain));
    // A delivery's last bookkeeping write may still be on its way to disk.
    await this.pending.settled();
    await this.client.destroy();
  }

  // ---------------------------------------------------------------- gatekeeping

  private userRef(user: { id: string; username: string }): UserRef {
    return { platform: 'discord', externalId: user.id, name: user.username };
  }

  private originOf(source: Interaction | Message): Origin {
    const channel = source.channel;
    const member = source.member;
    let roleIds: string[] = [];
    if (member) {
      // A cached GuildMember keeps roles in a manager; an uncached interaction member is the raw API object.
      const roles = (member as { roles: unknown }).roles;
      if (Array.isArray(roles)) roleIds = roles as string[];
      else if (roles && typeof roles === 'object' && 'cache' in roles) roleIds = [...(roles as { cache: Map<string, unknown> }).cache.keys()];
    }
    return {
      guildId: source.guildId ?? null,
      channelId: source.channelId ?? '',
      parentChannelId: channel && 'isThread' in channel && channel.isThread() ? channel.parentId : null,
      roleIds,
    };
  }

  /** Rate limit and concurrent jobs; undefined when the user may start another job. */
  private admit(userId: string, guildId: string | null): string | undefined {
    const runningJobs = this.running.get(userId)?.size ?? 0;
    if (runningJobs >= this.maxJobsPerUser) {
      return `You have ${runningJobs} job${runningJobs === 1 ? '' : 's'} running; wait for ${runningJobs === 1 ? 'it' : 'one'} to finish or use \`/vitron cancel\`.`;
    }
    try {
      this.userLimiter.take(`user:${userId}`);
      if (guildId) this.guildLimiter.take(`guild:${guildId}`);
    } catch (error) {
      if (error instanceof VitronError) return error.message;
      throw error;
    }
    return undefined;
  }

  private explain(error: unknown): string {
    if (error instanceof VitronError) return error.message;
    this.logger.error({ err: error }, 'unexpected error');
    return 'Something went wrong on my side; please try again.';
  }

  // ---------------------------------------------------------------- interactions

  private async onInteraction(interaction: Interaction): Promise<void> {
    if (interaction.isChatInputCommand() && interaction.commandName === COMMAND_NAME) return this.onSlash(interaction);
    if (interaction.isMessageContextMenuCommand() && interaction.commandName === CONTEXT_MENU_NAME) return this.onContextMenu(interaction);
    if (interaction.isModalSubmit() && interaction.customId.startsWith('vt1m:')) return this.onModal(interaction);
    if (interaction.isButton() || interaction.isStringSelectMenu()) {
      const target = decodeCustomId(interaction.customId);
      if (target) return this.onComponent(interaction, target);
    }
  }

  /** A user who got "thinking…" must not be left with it: the reason replaces it when Discord still lets us. */
  private interactionFailed(interaction: Interaction, error: unknown): void {
    const text = `⚠️ ${this.explain(error)}`;
    if (interaction.isRepliable()) void this.refuse(interaction, text).catch((failure: unknown) => this.logger.warn({ err: failure }, 'could not report a failed interaction'));
  }

  private async refuse(interaction: RepliableInteraction, text: string): Promise<void> {
    if (interaction.deferred || interaction.replied) await interaction.editReply({ content: clip(text), components: [], files: [] });
    else await interaction.reply({ content: clip(text), flags: MessageFlags.Ephemeral });
  }

  private async onSlash(interaction: ChatInputCommandInteraction): Promise<void> {
    const denied = refusal(this.settings, this.originOf(interaction));
    if (denied) return this.refuse(interaction, denied);
    const sub = interaction.options.getSubcommand();
    const user = this.userRef(interaction.user);
    if (sub === 'help') return this.refuse(interaction, this.bot.helpText());
    if (sub === 'settings') return this.refuse(interaction, this.settingsText(interaction.attachmentSizeLimit));
    if (sub === 'cancel') return this.refuse(interaction, await this.cancelAll(user));
    if (sub === 'undo' || sub === 'history') {
      const conversation = await this.findConversation(interaction, user);
      if (!conversation) return this.refuse(interaction, 'There is no conversation with you here yet; start one with `/vitron edit`.');
      if (sub === 'history') return this.refuse(interaction, await this.historyText(conversation.id));
      await interaction.deferReply();
      const result = await this.bot.act({ conversationId: conversation.id, user, action: 'undo' });
      return this.answerInteraction(interaction, result, conversation.id, user.externalId);
    }
    const prompt = interaction.options.getString('prompt', true);
    const attachment = interaction.options.getAttachment('attachment');
    return this.startFromInteraction(interaction, user, prompt, attachment ? [attachment] : []);
  }

  /**
   * The shared path of `/vitron edit` and the context menu: admit, acknowledge within Discord's 3 s,
   * fetch the attachments, find or open the conversation (a thread when the channel allows), run the turn.
   */
  private async startFromInteraction(
    interaction: ChatInputCommandInteraction | ModalSubmitInteraction,
    user: UserRef,
    prompt: string,
    attachments: { url: string; name: string; size: number; contentType: string | null }[],
  ): Promise<void> {
    const busy = this.admit(user.externalId, interaction.guildId);
    if (busy) return this.refuse(interaction, busy);
    await interaction.deferReply();
    const uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
    let files: IncomingFile[];
    try {
      files = await Promise.all(attachments.map((a) => fetchAttachment({ url: a.url, name: a.name, size: a.size, contentType: a.contentType }, this.intake)));
    } catch (error) {
      return this.refuse(interaction, `⚠️ ${this.explain(error)}`);
    }
    const scope = await this.scopeForInteraction(interaction, prompt);
    const conversation = await this.bot.startConversation({ user, platform: 'discord', externalId: scopeKey(scope), title: clip(prompt, 80) });
    await this.duringTurn(conversation.id, async () => {
      // Keyed by the interaction: a gateway replay of it after a resume records and runs nothing again.
      const result = await this.bot.handleTurn({ conversationId: conversation.id, user, text: prompt, files, eventKey: `discord:interaction:${interaction.id}` });
      if (result.duplicate) return;
      await this.answerInteraction(interaction, result, conversation.id, user.externalId, uploadLimit, scope.channelId);
    });
  }

  private async scopeForInteraction(interaction: RepliableInteraction, prompt: string): Promise<DiscordScope> {
    const channel = interaction.channel;
    if (!interaction.inGuild()) return { kind: 'dm', channelId: interaction.channelId ?? '' };
    if (channel?.isThread() && channel.ownerId === this.client.user?.id) return { kind: 'thread', channelId: channel.id };
    const reply = await interaction.fetchReply();
    if (channel?.type === ChannelType.GuildText) {
      try {
        const thread = await reply.startThread({ name: clip(prompt, 90) || 'vitron', autoArchiveDuration: 1440 });
        return { kind: 'thread', channelId: thread.id };
      } catch (error) {
        // Missing Create Public Threads permission or a channel that forbids them: the reply chain is the scope.
        this.logger.info({ err: error, channel: channel.id }, 'could not open a thread; using the reply chain');
      }
    }
    return { kind: 'chain', channelId: interaction.channelId ?? '', rootMessageId: reply.id };
  }

  /** Shows an immediate answer, or registers the job so that progress and the result edit this reply. */
  private async answerInteraction(
    interaction: RepliableInteraction,
    result: TurnResult,
    conversationId: string,
    ownerId: string,
    uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT,
    conversationChannelId = interaction.channelId ?? '',
  ): Promise<void> {
    if (result.job) {
      const delivery: Delivery = {
        jobId: result.job.id,
        ownerId,
        uploadLimit,
        target: { kind: 'interaction', interaction, createdAt: this.now() },
        chain: Promise.resolve(),
        lastEditAt: 0,
        finished: false,
      };
      this.track(result.job.id, ownerId, delivery);
      await this.pending.set(result.job.id, { ownerId, channelId: conversationChannelId, uploadLimit });
      this.queueProgress(delivery, progressText(result.job));
      return;
    }
    if (result.botTurn) {
      const rendered = await renderTurn(this.bot, result.botTurn, { conversationId, ownerId, uploadLimit, publicUrl: this.settings.PUBLIC_URL, video: this.video });
      await interaction.editReply(rendered);
    } else {
      await interaction.editReply({ content: 'OK.' });
    }
  }

  private async onContextMenu(interaction: MessageContextMenuCommandInteraction): Promise<void> {
    const denied = refusal(this.settings, this.originOf(interaction));
    if (denied) return this.refuse(interaction, denied);
    const target = interaction.targetMessage;
    const media = [...target.attachments.values()].filter((a) => a.contentType?.startsWith('image/') || a.contentType?.startsWith('video/'));
    if (media.length === 0) return this.refuse(interaction, 'That message has no image or video to edit.');
    const modal = new ModalBuilder()
      .setCustomId(`vt1m:${target.channelId}:${target.id}`)
      .setTitle('Edit with vitron')
      .addComponents(
        new ActionRowBuilder<TextInputBuilder>().addComponents(
          new TextInputBuilder().setCustomId('prompt').setLabel('What should I do with it?').setStyle(TextInputStyle.Short).setMaxLength(1500).setRequired(true),
        ),
      );
    await interaction.showModal(modal);
  }

  private async onModal(interaction: ModalSubmitInteraction): Promise<void> {
    const [, channelId, messageId] = interaction.customId.split(':');
    const prompt = interaction.fields.getTextInputValue('prompt');
    const channel = channelId ? await this.client.channels.fetch(channelId).catch(() => null) : null;
    const message = channel && 'messages' in channel && messageId ? await channel.messages.fetch(messageId).catch(() => null) : null;
    if (!message) return this.refuse(interaction, 'I cannot see that message any more.');
    const media = [...message.attachments.values()].filter((a) => a.contentType?.startsWith('image/') || a.contentType?.startsWith('video/'));
    return this.startFromInteraction(interaction, this.userRef(interaction.user), prompt, media);
  }

  private async onComponent(interaction: ButtonInteraction | StringSelectMenuInteraction, target: ComponentTarget): Promise<void> {
    const denied = refusal(this.settings, this.originOf(interaction));
    if (denied) return this.refuse(interaction, denied);
    const owner = interaction.user.id === target.ownerId || interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
    if (!owner) return this.refuse(interaction, `Only <@${target.ownerId}> (or a member with Manage Messages) can use these buttons.`);
    const user = this.userRef(interaction.user);
    try {
      if (target.action === 'cancel') {
        const job = await this.bot.cancelJob(target.subject, user);
        return this.refuse(interaction, job.state === 'cancelled' ? 'Cancelled.' : `That job has already ${job.state}.`);
      }
      const conversationId = target.subject;
      await this.bot.getConversation(conversationId);
      if (target.action === 'download') return this.sendOriginal(interaction, target.mediaId);
      if (target.action === 'pick') {
        const picked = interaction.isStringSelectMenu() ? interaction.values[0] : undefined;
        if (!picked) return this.refuse(interaction, 'Pick one of the images.');
        const result = await this.bot.act({ conversationId, user, action: 'use', mediaId: picked });
        return this.refuse(interaction, result.botTurn?.text ?? 'OK: the next edit starts from that one.');
      }
      if (target.action === 'undo' || target.action === 'redo') {
        await interaction.deferReply();
        const result = await this.bot.act({ conversationId, user, action: target.action });
        return this.answerInteraction(interaction, result, conversationId, target.ownerId);
      }
      const busy = this.admit(user.externalId, interaction.guildId);
      if (busy) return this.refuse(interaction, busy);
      await interaction.deferReply();
      const conversation = await this.bot.getConversation(conversationId);
      if (target.action === 'choose') {
        // The number is the answer, word for word: the planner turns it into the asked invocation with `pick`.
        await this.duringTurn(conversationId, async () => {
          const result = await this.bot.handleTurn({ conversationId, user, text: target.mediaId, files: [] });
          await this.answerInteraction(interaction, result, conversationId, target.ownerId, undefined, parseScope(conversation.externalId)?.channelId);
        });
        return;
      }
      const step = target.action === 'retry' ? await this.retryOf(conversationId, target.mediaId) : { from: target.mediaId, words: TURN_WORDS[target.action] };
      if (!step) return this.refuse(interaction, 'I cannot find the request that made this result any more.');
      const { from, words } = step;
      await this.duringTurn(conversationId, async () => {
        await this.bot.act({ conversationId, user, action: 'use', mediaId: from });
        const result = await this.bot.handleTurn({ conversationId, user, text: words, files: [] });
        await this.answerInteraction(interaction, result, conversationId, target.ownerId, undefined, parseScope(conversation.externalId)?.channelId);
      });
    } catch (error) {
      return this.refuse(interaction, `⚠️ ${this.explain(error)}`);
    }
  }

  /**
   * Retry = the same words again on the same input: the request that produced the result is the user turn
   * before the bot turn that holds it, and its input is the result's parent.
   */
  private async retryOf(conversationId: string, mediaId: string): Promise<{ from: string; words: string } | undefined> {
    const { turns } = await this.bot.history(conversationId);
    const at = turns.findIndex((t) => t.role === 'bot' && t.media.some((m) => m.id === mediaId));
    const parentId = turns[at]?.media.find((m) => m.id === mediaId)?.parentId;
    const request = turns.slice(0, Math.max(at, 0)).reverse().find((t) => t.role === 'user');
    return at >= 0 && parentId && request?.text ? { from: parentId, words: request.text } : undefined;
  }

  private async sendOriginal(interaction: ButtonInteraction | StringSelectMenuInteraction, mediaId: string): Promise<void> {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const { view, path: file } = await this.bot.media(mediaId);
    const limit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
    if (view.bytes <= limit) {
      await interaction.editReply({ files: [new AttachmentBuilder(file, { name: fileName(view) })] });
      return;
    }
    const link = this.settings.PUBLIC_URL ? new URL(view.url, this.settings.PUBLIC_URL).href : undefined;
    await interaction.editReply({
      content: link ? `The original (${formatBytes(view.bytes)}) is over Discord's upload limit: ${link}` : `The original is ${formatBytes(view.bytes)}, over Discord's ${formatBytes(limit)} upload limit.`,
    });
  }

  // ---------------------------------------------------------------- messages

  private async onMessage(message: Message): Promise<void> {
    if (message.author.bot || message.system) return;
    const botId = this.client.user?.id;
    if (!botId) return;
    const channel = message.channel;
    const inDm = !message.inGuild();
    const ownThread = channel.isThread() && channel.ownerId === botId;
    const mentioned = message.mentions.users.has(botId);
    const replied = message.reference?.messageId ? await message.fetchReference().catch(() => undefined) : undefined;
    const replyToBot = replied?.author.id === botId ? replied : undefined;
    if (!inDm && !ownThread && !mentioned && !replyToBot) return;

    const denied = refusal(this.settings, this.originOf(message));
    if (denied) {
      await this.replyTo(message, denied);
      return;
    }
    const user = this.userRef(message.author);
    const busy = this.admit(user.externalId, message.guildId);
    if (busy) {
      await this.replyTo(message, busy);
      return;
    }
    const text = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), '').trim();

    // A reply to a result continues from that exact result, in that result's conversation.
    const continued = replyToBot ? resultTarget(replyToBot) : undefined;
    let conversationId: string;
    if (continued) conversationId = continued.subject;
    else {
      const scope: DiscordScope = inDm
        ? { kind: 'dm', channelId: message.channelId }
        : ownThread
          ? { kind: 'thread', channelId: message.channelId }
          : { kind: 'chain', channelId: message.channelId, rootMessageId: replyToBot?.reference?.messageId ?? replyToBot?.id ?? message.id };
      const conversation = await this.bot.startConversation({ user, platform: 'discord', externalId: scopeKey(scope), title: clip(text || 'Discord conversation', 80) });
      conversationId = conversation.id;
    }

    let files: IncomingFile[];
    try {
      files = await Promise.all([...message.attachments.values()].map((a) => fetchAttachment({ url: a.url, name: a.name, size: a.size, contentType: a.contentType }, this.intake)));
    } catch (error) {
      await this.replyTo(message, `⚠️ ${this.explain(error)}`);
      return;
    }
    await this.duringTurn(conversationId, async () => {
      if (continued && continued.mediaId !== '-') await this.bot.act({ conversationId, user, action: 'use', mediaId: continued.mediaId });
      const result = await this.bot.handleTurn({ conversationId, user, text, files, eventKey: `discord:message:${message.id}` });
      // The gateway replays events after a resume; a message handled before says nothing again.
      if (result.duplicate) return;
      if (result.job) {
        const status = await message.reply({ content: progressText(result.job), components: isDone(result.job) ? [] : [cancelRow(result.job.id, user.externalId)], allowedMentions: { repliedUser: false } });
        const delivery: Delivery = { jobId: result.job.id, ownerId: user.externalId, uploadLimit: DEFAULT_UPLOAD_LIMIT, target: { kind: 'message', message: status }, chain: Promise.resolve(), lastEditAt: 0, finished: false };
        this.track(result.job.id, user.externalId, delivery);
        await this.pending.set(result.job.id, { ownerId: user.externalId, channelId: message.channelId, replyToId: status.id, uploadLimit: DEFAULT_UPLOAD_LIMIT });
        return;
      }
      if (result.botTurn) {
        const rendered = await renderTurn(this.bot, result.botTurn, { conversationId, ownerId: user.externalId, uploadLimit: DEFAULT_UPLOAD_LIMIT, publicUrl: this.settings.PUBLIC_URL, video: this.video });
        await message.reply({ ...rendered, allowedMentions: { repliedUser: false } });
      }
    });
  }

  private async replyTo(message: Message, text: string): Promise<void> {
    await message.reply({ content: clip(text), allowedMentions: { repliedUser: false } });
  }

  // ---------------------------------------------------------------- job events

  private track(jobId: string, ownerId: string, delivery: Delivery): void {
    this.deliveries.set(jobId, delivery);
    const jobs = this.running.get(ownerId) ?? new Set<string>();
    jobs.add(jobId);
    this.running.set(ownerId, jobs);
  }

  private untrack(jobId: string): void {
    this.deliveries.delete(jobId);
    for (const [owner, jobs] of this.running) {
      jobs.delete(jobId);
      if (jobs.size === 0) this.running.delete(owner);
    }
  }

  private async onBotEvent(event: BotEvent): Promise<void> {
    if (event.type === 'job.queued' || event.type === 'job.progress') {
      const delivery = this.deliveries.get(event.job.id);
      if (delivery) this.queueProgress(delivery, progressText(event.job));
      return;
    }
    if (event.type === 'job.finished') await this.deliverResult(event);
  }

  /**
   * Progress edits coalesce: at most one waits, holding the newest text, and edits are spaced by
   * progressIntervalMs so a chatty job stays inside Discord's per-message edit limit.
   */
  private queueProgress(delivery: Delivery, text: string): void {
    if (delivery.finished) return;
    const waiting = delivery.pendingProgress !== undefined;
    delivery.pendingProgress = text;
    if (waiting) return;
    delivery.chain = delivery.chain
      .then(async () => {
        const wait = delivery.lastEditAt + this.progressIntervalMs - Date.now();
        if (wait > 0) {
          delivery.wake = new AbortController();
          await sleep(wait, undefined, { signal: delivery.wake.signal }).catch(() => undefined);
          delivery.wake = undefined;
        }
        const next = delivery.pendingProgress;
        delivery.pendingProgress = undefined;
        if (delivery.finished || next === undefined) return;
        const message = { content: next, components: [cancelRow(delivery.jobId, delivery.ownerId)] };
        if (delivery.target.kind === 'message') await delivery.target.message.edit(message);
        else if (this.tokenAlive(delivery)) await delivery.target.interaction.editReply(message);
        delivery.lastEditAt = Date.now();
      })
      .catch((error: unknown) => this.logger.warn({ err: error, job: delivery.jobId }, 'progress edit failed'));
  }

  private tokenAlive(delivery: Delivery): boolean {
    return delivery.target.kind === 'interaction' && this.now() - delivery.target.createdAt < this.tokenLifetimeMs;
  }

  /**
   * A fast job can finish before handleTurn has returned its id to us; its job.finished waits here until
   * the turn's reply is registered, so the result edits that reply instead of going out unattributed.
   */
  private async duringTurn(conversationId: string, work: () => Promise<void>): Promise<void> {
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
        for (const event of held) this.inFlight(this.deliverResult(event).catch((error: unknown) => this.logger.error({ err: error }, 'delivery failed')));
      }
    }
  }

  private async deliverResult(event: Extract<BotEvent, { type: 'job.finished' }>): Promise<void> {
    if (!this.deliveries.has(event.job.id) && !this.pending.get(event.job.id) && this.starting.has(event.conversationId)) {
      this.early.set(event.conversationId, [...(this.early.get(event.conversationId) ?? []), event]);
      return;
    }
    const conversation = await this.bot.getConversation(event.conversationId);
    if (conversation.platform !== 'discord') return;
    const delivery = this.deliveries.get(event.job.id);
    const saved = this.pending.get(event.job.id);
    this.untrack(event.job.id);
    if (delivery) {
      delivery.finished = true;
      delivery.wake?.abort();
      await delivery.chain;
    }
    const ownerId = delivery?.ownerId ?? saved?.ownerId;
    const uploadLimit = delivery?.uploadLimit ?? saved?.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;
    const context = { conversationId: conversation.id, ownerId: ownerId ?? '0', uploadLimit, publicUrl: this.settings.PUBLIC_URL, video: this.video };
    let rendered: RenderedMessage;
    try {
      rendered = await renderTurn(this.bot, event.turn, context);
    } catch (error) {
      rendered = { content: `⚠️ The job finished but its result could not be read: ${this.explain(error)}`, files: [], components: [] };
    }
    try {
      if (delivery?.target.kind === 'interaction' && this.tokenAlive(delivery)) {
        await this.withUploadFallback(rendered, (m) => delivery.target.kind === 'interaction' ? delivery.target.interaction.editReply(m) : Promise.resolve());
      } else if (delivery?.target.kind === 'message') {
        const status = delivery.target.message;
        await this.withUploadFallback(rendered, (m) => status.edit({ ...m, attachments: [] }));
      } else {
        await this.postToChannel(conversation, rendered, ownerId, saved?.replyToId, saved?.channelId);
      }
    } finally {
      await this.pending.delete(event.job.id);
    }
  }

  /** discord.js already retried the upload; if it still fails the user gets the text and the reason. */
  private async withUploadFallback(rendered: RenderedMessage, send: (message: RenderedMessage) => Promise<unknown>): Promise<void> {
    try {
      await send(rendered);
    } catch (error) {
      if (rendered.files.length === 0) throw error;
      this.logger.warn({ err: error }, 'upload failed; sending the text alone');
      const reason = error instanceof Error ? error.message : String(error);
      await send({ ...rendered, files: [], components: [], content: clip(`${rendered.content}\n⚠️ The result could not be uploaded to Discord (${reason}).`) });
    }
  }

  /** A result nobody waits on any more (token expired, or the bot restarted): a new message in the conversation's channel. */
  private async postToChannel(conversation: ConversationView, rendered: RenderedMessage, ownerId: string | undefined, replyToId: string | undefined, savedChannelId: string | undefined): Promise<void> {
    const channelId = parseScope(conversation.externalId)?.channelId ?? savedChannelId;
    if (!channelId) {
      this.logger.warn({ conversation: conversation.id }, 'result without a Discord channel');
      return;
    }
    const channel = await this.client.channels.fetch(channelId);
    if (!channel?.isSendable()) return;
    const mention = ownerId ? `<@${ownerId}> ` : '';
    const reply = replyToId && savedChannelId === channelId ? { reply: { messageReference: replyToId, failIfNotExists: false } } : {};
    await this.withUploadFallback({ ...rendered, content: clip(`${mention}${rendered.content}`) }, (m) => channel.send({ ...m, ...reply }));
  }

  // ---------------------------------------------------------------- sub-commands

  private async findConversation(interaction: ChatInputCommandInteraction, user: UserRef): Promise<ConversationView | undefined> {
    const channel = interaction.channel;
    const here = new Set([interaction.channelId]);
    const all = (await this.bot.listConversations(user)).filter((c) => c.platform === 'discord');
    const found = all
      .filter((c) => {
        const scope = parseScope(c.externalId);
        return scope && here.has(scope.channelId);
      })
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    if (found[0]) return found[0];
    // In a channel, the newest conversation started from it lives in one of its threads.
    if (channel && !channel.isThread() && interaction.inGuild()) {
      // Newest few only: each check may fetch a channel, and the interaction must be answered within 3 s.
      for (const c of all.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, 10)) {
        const scope = parseScope(c.externalId);
        if (scope?.kind !== 'thread') continue;
        const thread = await this.client.channels.fetch(scope.channelId).catch(() => null);
        if (thread?.isThread() && thread.parentId === interaction.channelId) return c;
      }
    }
    return undefined;
  }

  private async historyText(conversationId: string): Promise<string> {
    const history = await this.bot.history(conversationId);
    const lines = history.turns.slice(-12).map((t) => {
      const media = t.media.length ? ` [${t.media.map((m) => `${m.kind}${m.ordinal ? ` #${m.ordinal}` : ''}`).join(', ')}]` : '';
      return `${t.role === 'user' ? '🧑' : '🤖'} ${clip(t.text.replace(/\s+/g, ' '), 150)}${media}`;
    });
    return [`**${history.conversation.title}**`, ...lines, history.canUndo ? '(`/vitron undo` goes back one step)' : ''].filter((l) => l !== '').join('\n');
  }

  private async cancelAll(user: UserRef): Promise<string> {
    const jobs = [...(this.running.get(user.externalId) ?? [])];
    if (jobs.length === 0) return 'You have no running jobs.';
    const results = await Promise.allSettled(jobs.map((id) => this.bot.cancelJob(id, user)));
    const cancelled = results.filter((r) => r.status === 'fulfilled' && r.value.state === 'cancelled').length;
    return `Cancelled ${cancelled} of ${jobs.length} job${jobs.length === 1 ? '' : 's'}.`;
  }

  private settingsText(uploadLimit: number | undefined): string {
    const s = this.settings;
    const list = (ids: string[] | undefined, fmt: (id: string) => string) => (ids ? ids.map(fmt).join(', ') : 'any');
    return [
      '**vitron settings** (set by the bot operator)',
      `Servers: ${list(s.DISCORD_ALLOWED_GUILDS, (id) => id)}`,
      `Channels: ${list(s.DISCORD_ALLOWED_CHANNELS, (id) => `<#${id}>`)}`,
      `Role required: ${s.DISCORD_ALLOWED_ROLE ? `<@&${s.DISCORD_ALLOWED_ROLE}>` : 'none'}`,
      `Requests per minute per user: ${s.USER_RATE_LIMIT_PER_MINUTE || 'unlimited'}`,
      `Jobs at once per user: ${this.maxJobsPerUser}`,
      `Largest upload accepted: ${formatBytes(s.MAX_UPLOAD_BYTES)}; results are fitted to ${formatBytes(uploadLimit ?? DEFAULT_UPLOAD_LIMIT)}`,
    ].join('\n');
  }
}

function isDone(job: JobView): boolean {
  return job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled';
}

/** The conversation and exact media a bot result message's buttons point at. */
function resultTarget(message: Message): ComponentTarget | undefined {
  for (const row of message.components) {
    if (!('components' in row)) continue;
    for (const component of row.components) {
      const customId = 'customId' in component ? component.customId : null;
      const target = customId ? decodeCustomId(customId) : undefined;
      if (target && target.action !== 'cancel' && target.mediaId !== '-') return target;
    }
  }
  return undefined;
}
