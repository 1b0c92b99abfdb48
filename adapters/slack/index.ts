import type { ChatAdapter, ChatAdapterContext } from '../chat-adapter.ts';
import { createSlackAdapter, type SlackAdapterOptions } from './slack-adapter.ts';

export { SlackAdapter, createSlackAdapter } from './slack-adapter.ts';

/** Starts the Slack app when SLACK_BOT_TOKEN is set (Socket Mode with SLACK_APP_TOKEN, else HTTP). */
export async function startSlackAdapter(context: ChatAdapterContext, options: SlackAdapterOptions = {}): Promise<ChatAdapter | undefined> {
  if (!context.settings.SLACK_BOT_TOKEN) return undefined;
  const adapter = createSlackAdapter(context.bot, context.settings, context.logger, options);
  await adapter.start();
  context.logger.info({ mode: adapter.mode, ...(adapter.httpPort === undefined ? {} : { port: adapter.httpPort }) }, 'slack app connected');
  return adapter;
}
