/**
 * The Discord bot: start and stop (client, login, command registration) and where each gateway event goes.
 * Slash commands and the context menu are in interactions.ts, buttons in components.ts, messages in
 * messages.ts, job events back into Discord in delivery.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { Client, Events, GatewayIntentBits, Partials, type Interaction } from 'discord.js';
import { locateFfmpeg, type FfmpegTools } from '../../src/media/ffmpeg.ts';
import type { ChatAdapter, ChatAdapterContext } from '../chat-adapter.ts';
import { COMMAND_NAME, CONTEXT_MENU_NAME, commandRecordPath, registerCommands } from './commands.ts';
import { onComponent } from './components.ts';
import type { DiscordContext } from './context.ts';
import { decodeCustomId } from './custom-id.ts';
import { Deliveries } from './delivery.ts';
import { interactionFailed, MODAL_PREFIX, onContextMenu, onModal, onSlash } from './interactions.ts';
import type { VideoShrinker } from './media.ts';
import { MenuTargets } from './menu-targets.ts';
import { onMessage } from './messages.ts';
import { MIN_PREVIEW_INTERVAL_MS } from './preview.ts';
import { PendingStore } from './pending-store.ts';

export interface DiscordAdapterOptions {
  /** The clock that decides whether an interaction token is still usable (tests move it forward). */
  now?: () => number;
  /** Least time between two progress edits of one message; Discord allows about 5 edits per 5 s. */
  progressIntervalMs?: number;
  /** Least time between two preview pictures on one status message; default the larger of 4 s and progressIntervalMs. */
  previewIntervalMs?: number;
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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

class DiscordBridge implements DiscordAdapter {
  readonly platform = 'discord';
  readonly client: Client;
  private readonly context: DiscordContext;
  private readonly pending: PendingStore;
  private unsubscribe?: () => void;
  /** Gateway events seen lately, oldest first; a Map keeps insertion order, so trimming drops the oldest. */
  private readonly delivered = new Map<string, true>();
  /** Handlers still running; close() lets them finish so a job's owner is saved before the process stops. */
  private readonly handlers = new Set<Promise<void>>();

  constructor({ bot, settings, logger: parent }: ChatAdapterContext, options: DiscordAdapterOptions) {
    const logger = parent.child({ platform: 'discord' });
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
      // DM channels are not in the cache until fetched; without this the first DM is dropped.
      partials: [Partials.Channel, Partials.Message],
      // Every message create carries a nonce with enforce_nonce, so a POST retried after a 5xx or timeout is created once.
      enforceNonce: true,
      rest: settings.DISCORD_API_URL ? { api: settings.DISCORD_API_URL } : {},
    });
    this.pending = new PendingStore(path.join(settings.DATA_DIR, 'discord', 'pending-jobs.json'));
    let ffmpeg: Promise<FfmpegTools | undefined> | undefined;
    // ffmpeg is looked up on the first too-large video only; without it such a video is linked or explained.
    const video: VideoShrinker = {
      tools: () =>
        (ffmpeg ??= locateFfmpeg(settings).catch((error: unknown) => {
          logger.warn({ err: error }, 'no ffmpeg: too-large videos cannot be re-encoded for Discord');
          return undefined;
        })),
      tmpDir: os.tmpdir(),
    };
    const apiHost = settings.DISCORD_API_URL ? new URL(settings.DISCORD_API_URL) : undefined;
    this.context = {
      bot,
      settings,
      logger,
      client: this.client,
      intake: {
        maxBytes: settings.MAX_UPLOAD_BYTES,
        // Only a plain-http API on this machine (the tests' local fake) may serve attachments over http.
        insecureHosts: apiHost?.protocol === 'http:' && LOOPBACK.has(apiHost.hostname) ? [apiHost.hostname] : [],
      },
      video,
      menuTargets: new MenuTargets(),
      deliveries: new Deliveries({
        bot,
        settings,
        logger,
        client: this.client,
        pending: this.pending,
        video,
        now: options.now ?? Date.now,
        progressIntervalMs: options.progressIntervalMs ?? 1500,
        previewIntervalMs: options.previewIntervalMs ?? Math.max(MIN_PREVIEW_INTERVAL_MS, options.progressIntervalMs ?? 1500),
        tokenLifetimeMs: options.tokenLifetimeMs ?? 14 * 60_000,
        inFlight: (work) => this.inFlight(work),
      }),
    };
  }

  async start(): Promise<void> {
    const { bot, settings, logger, deliveries } = this.context;
    await this.pending.load();
    this.client.on(Events.InteractionCreate, (interaction) => {
      if (!this.firstDelivery(`interaction:${interaction.id}`)) return;
      this.inFlight(this.onInteraction(interaction).catch((error: unknown) => interactionFailed(this.context, interaction, error)));
    });
    this.client.on(Events.MessageCreate, (message) => {
      if (!this.firstDelivery(`message:${message.id}`)) return;
      this.inFlight(onMessage(this.context, message).catch((error: unknown) => logger.error({ err: error }, 'message failed')));
    });
    this.client.on(Events.ShardResume, (shard) => logger.info({ shard }, 'gateway resumed'));
    this.client.on(Events.ShardDisconnect, (event, shard) => logger.warn({ shard, code: event.code }, 'gateway disconnected'));
    this.client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
    this.unsubscribe = bot.subscribeAll((event) =>
      this.inFlight(deliveries.onBotEvent(event).catch((error: unknown) => logger.error({ err: error, event: event.type }, 'delivery failed'))),
    );
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    try {
      await this.client.login(settings.DISCORD_TOKEN);
      await ready;
    } catch (error) {
      // A wrong token stops start-up (main.ts prints why); nothing of this adapter may stay behind.
      this.unsubscribe?.();
      await this.client.destroy();
      throw error;
    }
    if (settings.DISCORD_REGISTER_COMMANDS) {
      const applicationId = settings.DISCORD_APPLICATION_ID ?? this.client.application?.id;
      if (applicationId) {
        try {
          const { cleared } = await registerCommands(this.client.rest, applicationId, settings.DISCORD_GUILD_ID, commandRecordPath(settings.DATA_DIR));
          if (cleared.length > 0) logger.info({ guilds: cleared }, 'removed the guild copy of the commands left by an earlier DISCORD_GUILD_ID');
        } catch (error) {
          // The bot still answers mentions and DMs; the log says what to fix.
          logger.error({ err: error }, 'could not register slash commands (run npm run discord:register)');
        }
      }
    }
    logger.info({ user: this.client.user?.tag }, 'discord bot logged in');
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await Promise.allSettled([...this.handlers]);
    // A delivery's last edit, and its bookkeeping write, may still be on their way.
    await this.context.deliveries.settled();
    await this.client.destroy();
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    if (interaction.isChatInputCommand() && interaction.commandName === COMMAND_NAME) return onSlash(this.context, interaction);
    if (interaction.isMessageContextMenuCommand() && interaction.commandName === CONTEXT_MENU_NAME) return onContextMenu(this.context, interaction);
    if (interaction.isModalSubmit() && interaction.customId.startsWith(MODAL_PREFIX)) return onModal(this.context, interaction);
    if (interaction.isButton() || interaction.isStringSelectMenu()) {
      const target = decodeCustomId(interaction.customId);
      if (target) return onComponent(this.context, interaction, target);
    }
  }

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

  private inFlight(work: Promise<void>): void {
    this.handlers.add(work);
    void work.finally(() => this.handlers.delete(work));
  }
}
