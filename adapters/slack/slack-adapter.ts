/**
 * The Slack app: start and stop. Slack events in are in listeners.ts (turns.ts, buttons.ts), core events
 * back into their threads in delivery.ts.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { BotApi } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { ChatAdapter } from '../chat-adapter.ts';
import { BackgroundWork } from './background-work.ts';
import { createBoltApp, type BoltApp, type BoltAppOptions } from './bolt-app.ts';
import type { SlackContext } from './context.ts';
import { DeliveryDedupe } from './delivery-dedupe.ts';
import { ThreadDelivery } from './delivery.ts';
import { FileIntake } from './file-intake.ts';
import { registerListeners } from './listeners.ts';
import { SlackFileSchema } from './payloads.ts';
import { SlackThreads } from './threads.ts';

export { SHORTCUT_CALLBACK_ID, SLASH_COMMAND, SUGGESTED_PROMPTS } from './listeners.ts';
export { WORKING_STATUS } from './turns.ts';

export interface SlackAdapterOptions extends BoltAppOptions {
  /** Attempts per result upload before the failure is reported in the thread. */
  uploadAttempts?: number;
  uploadRetryDelayMs?: number;
  /** Slack requests worked on at once after their ack (default 2); the rest wait their turn. */
  maxConcurrentRequests?: number;
  /** At least this long between two generation previews of one job (default 5 s: Slack's pace, a readable thread). */
  previewIntervalMs?: number;
}

export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack';
  private readonly context: SlackContext;
  private readonly unsubscribe: () => void;
  private port: number | undefined;

  constructor(
    bot: BotApi,
    settings: Settings,
    logger: Logger,
    private readonly bolt: BoltApp,
    options: SlackAdapterOptions = {},
  ) {
    const client = bolt.app.client;
    const threads = new SlackThreads(bot);
    const delivery = new ThreadDelivery(bot, client, threads, logger, {
      uploadAttempts: options.uploadAttempts ?? 3,
      uploadRetryDelayMs: options.uploadRetryDelayMs ?? 2000,
      safety: settings,
      previewIntervalMs: options.previewIntervalMs ?? 5000,
    });
    const apiHost = settings.SLACK_API_URL ? new URL(settings.SLACK_API_URL).hostname : undefined;
    this.context = {
      bot,
      settings,
      logger,
      client,
      threads,
      delivery,
      intake: new FileIntake({
        botToken: settings.SLACK_BOT_TOKEN!,
        maxBytes: settings.MAX_UPLOAD_BYTES,
        ...(apiHost ? { extraHost: apiHost } : {}),
        fileInfo: async (file) => SlackFileSchema.parse((await client.files.info({ file })).file),
      }),
      dedupe: new DeliveryDedupe({ journalPath: path.join(settings.DATA_DIR, 'slack', 'deliveries.log') }),
      work: new BackgroundWork(options.maxConcurrentRequests ?? 2, logger),
      stats: { duplicatesDropped: 0 },
    };
    registerListeners(bolt.app, this.context);
    this.unsubscribe = bot.subscribeAll((event) => delivery.onBotEvent(event));
  }

  /** Deliveries dropped as already handled (Slack retries, app_mention + message of one message). */
  get duplicatesDropped(): number {
    return this.context.stats.duplicatesDropped;
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
    await this.context.dedupe.load();
    this.port = (await this.bolt.start()).port;
  }

  async close(): Promise<void> {
    const { context } = this;
    this.unsubscribe();
    await this.bolt.app.stop();
    await context.work.settled();
    await context.delivery.settled();
    await context.dedupe.flush().catch((error: unknown) => context.logger.warn({ err: error }, 'slack delivery journal not written'));
  }
}

export function createSlackAdapter(bot: BotApi, settings: Settings, logger: Logger, options: SlackAdapterOptions = {}): SlackAdapter {
  return new SlackAdapter(bot, settings, logger, createBoltApp(settings, logger, options), options);
}
