import type { ChatAdapter, ChatAdapterContext, ChatAdapterStarter } from './chat-adapter.ts';

/**
 * Every chat platform, listed here (the composition root for chat platforms) so src/ never imports a
 * platform SDK. The adapters import only chat-adapter.ts, so nothing imports this list back.
 */
const STARTERS: ChatAdapterStarter[] = [
  // A platform's SDK is imported only when its token is set: Bolt and discord.js hold ≈90 MiB between them.
  async (context) => (context.settings.SLACK_BOT_TOKEN ? (await import('./slack/index.ts')).startSlackAdapter(context) : undefined),
  async (context) => (context.settings.DISCORD_TOKEN ? (await import('./discord/adapter.ts')).startDiscordAdapter(context) : undefined),
];

/** Starts the adapter of each platform whose credentials are in the settings; none by default. */
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
