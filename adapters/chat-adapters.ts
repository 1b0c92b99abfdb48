import type { Logger } from 'pino';
import type { BotApi } from '../src/app/bot-api.ts';
import type { Settings } from '../src/config/settings.ts';
import { startDiscordAdapter } from './discord/adapter.ts';
import { startSlackAdapter } from './slack/index.ts';

/** A chat platform connection started next to the playground (Discord, Slack). */
export interface ChatAdapter {
  readonly platform: string;
  close(): Promise<void>;
}

export interface ChatAdapterContext {
  bot: BotApi;
  settings: Settings;
  logger: Logger;
}

/** Starts the adapter of each platform whose credentials are in the settings; none by default. */
type AdapterStarter = (context: ChatAdapterContext) => Promise<ChatAdapter | undefined>;

/**
 * Each platform module exports a starter that returns undefined when its tokens are not set. Listed here
 * (the composition root for chat platforms) so src/ never imports a platform SDK.
 */
const STARTERS: AdapterStarter[] = [(context) => startSlackAdapter(context), startDiscordAdapter];

export async function startChatAdapters(context: ChatAdapterContext): Promise<ChatAdapter[]> {
  const started: ChatAdapter[] = [];
  try {
    for (const start of STARTERS) {
      const adapter = await start(context);
      if (adapter) {
        started.push(adapter);
        context.logger.info({ platform: adapter.platform }, 'chat adapter started');
      }
    }
  } catch (error) {
    await Promise.allSettled(started.map((a) => a.close()));
    throw error;
  }
  return started;
}
