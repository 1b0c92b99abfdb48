import type { Logger } from 'pino';
import type { BotApi } from '../src/app/bot-api.ts';
import type { Settings } from '../src/config/settings.ts';

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

/** Each platform module exports one: it returns undefined when the platform's tokens are not set. */
export type ChatAdapterStarter = (context: ChatAdapterContext) => Promise<ChatAdapter | undefined>;
