/**
 * `npm run -s mcp`: the vision tools for a desktop MCP client (Claude Desktop, Cursor, VS Code) that spawns this
 * process and speaks MCP over its stdin and stdout. It runs its own bot on the same settings as `npm start`
 * (`.env`, DATA_DIR, models); with embedded PGlite it keeps its conversations in DATA_DIR/db-mcp, so it can run
 * next to a playground that holds DATA_DIR/db. Everything but the protocol goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import dotenv from 'dotenv';
import { createBot } from '../../src/app/create-bot.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { SettingsError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { createMcpServer } from './mcp-server.ts';
import { McpSession } from './session.ts';

// Desktop clients start us from anywhere; .env, DATA_DIR and MODELS_DIR mean what they mean for `npm start`.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** stdout carries only protocol messages: the transport gets the real stdout, everything else writes to stderr. */
function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return new Writable({
    write(chunk, encoding, done) {
      write(chunk, encoding, done);
    },
  });
}

async function main(): Promise<void> {
  const protocolOut = claimStdout();
  process.chdir(REPO_ROOT);
  dotenv.config({ quiet: true });
  const env = { ...process.env };
  if (!env.PGLITE_DIR && !env.DATABASE_URL) env.PGLITE_DIR = path.join(env.DATA_DIR ?? './data', 'db-mcp');
  const settings = loadSettings(env);
  const logger = createLogger(settings, { toStderr: true });
  const running = await createBot(settings, { logger });
  const session = new McpSession({
    bot: running.bot,
    settings,
    logger,
    user: { platform: 'mcp', externalId: 'stdio', name: 'MCP client (stdio)' },
    key: `stdio-${randomUUID()}`,
  });
  const server = createMcpServer(session);
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'mcp stdio: stopping');
    await server.close().catch(() => undefined);
    await running.close().catch((error) => logger.error({ err: error }, 'mcp stdio: stopped with errors'));
    process.exit(0);
  };
  const transport = new StdioServerTransport(process.stdin, protocolOut);
  transport.onclose = () => void stop('transport closed');
  // The client closing our stdin is how it says goodbye.
  process.stdin.on('end', () => void stop('stdin closed'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await server.connect(transport);
  logger.info({ tools: 'task table', conversation: 'one per process' }, 'mcp stdio: ready');
}

main().catch((error: unknown) => {
  const message = error instanceof SettingsError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`vitron-chat MCP server failed to start: ${message}\n`);
  process.exit(1);
});
