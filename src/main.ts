/**
 * `npm start`: the playground with the embedded defaults (PGlite, in-process queue, local media store,
 * CPU models). Discord and Slack join when their tokens are set (adapters/chat-adapters.ts).
 */
import 'dotenv/config';
import { loadSettings, type Settings } from './config/settings.ts';
import { SettingsError } from './errors.ts';
import { createBot } from './app/create-bot.ts';
import { startWebServer } from '../adapters/web/server.ts';
import { metricsRoute } from './metrics/metrics-route.ts';
import { startChatAdapters } from '../adapters/chat-adapters.ts';
import { mcpHttpRoutes } from '../adapters/mcp/http.ts';

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // Recovery runs once the chats listen, so a resumed job's result reaches its channel or thread.
  const running = await createBot(settings, { recover: false });
  const admin = settings.ADMIN_TOKEN && running.admin ? { token: settings.ADMIN_TOKEN, queues: running.admin } : undefined;
  // MCP clients share the bot, not the playground's view of it: /mcp applies its own NSFW rule (MCP_NSFW).
  const mcp = mcpHttpRoutes({ bot: running.bot, settings, logger: running.logger });
  const web = await startWebServer({
    bot: running.bot,
    settings,
    logger: running.logger,
    metrics: metricsRoute(running.metrics),
    routes: [mcp],
    ...(admin ? { admin } : {}),
  });
  running.logger.info({ url: web.url }, 'playground ready');
  process.stdout.write(`\nvitron-chat playground: ${web.url}\n\n`);
  const chats = await startChatAdapters({ bot: running.bot, settings, logger: running.logger });
  await running.bot.recoverUnfinishedJobs();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'stopping');
    try {
      // Chats first: no new turn arrives while the rest stops.
      await Promise.allSettled(chats.map((chat) => chat.close()));
      await web.close();
      await running.close();
      process.exit(0);
    } catch (error) {
      running.logger.error({ err: error }, 'stopped with errors');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`vitron-chat failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
