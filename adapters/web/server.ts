import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BotApi } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { HttpInputError, sendHttpError } from './errors-to-http.ts';
import { ADMIN_PATH } from './routes/admin-auth.ts';
import { adminPlugin, type AdminOptions } from './routes/admin.ts';
import type { RouteContext } from './routes/context.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { mediaRoutes } from './routes/media.ts';
import { previewRoutes } from './routes/previews.ts';
import { turnRoutes } from './routes/turns.ts';
import { screenedBot } from './safety-screen.ts';
import { SseRegistry } from './sse.ts';
import { registerUserCookie } from './user-cookie.ts';

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

export interface WebServerOptions {
  bot: BotApi;
  /** SAFETY and PLAYGROUND_NSFW default to the settings' defaults (flag; NSFW not shown) when not given. */
  settings: Pick<Settings, 'HOST' | 'PORT' | 'MAX_UPLOAD_BYTES'> & Partial<Pick<Settings, 'SAFETY' | 'PLAYGROUND_NSFW'>>;
  logger?: Logger;
  /** Interval of SSE heartbeat comments; tests shorten it instead of waiting 15 s. */
  heartbeatMs?: number;
  maxFilesPerTurn?: number;
  /** Prometheus exposition of the bot process, served at GET /metrics when given. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The admin pages under /admin (ADMIN_TOKEN and the queue overview); without it they do not exist. */
  admin?: AdminOptions;
  /** More routes on the same server, registered by the composition root (the MCP endpoint at /mcp). */
  routes?: readonly ((app: FastifyInstance) => Promise<void>)[];
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Builds the app without listening, so the server and its tests share every route and hook. */
export async function buildWebApp(options: WebServerOptions): Promise<{ app: FastifyInstance; streams: SseRegistry }> {
  const maxUploadBytes = options.settings.MAX_UPLOAD_BYTES;
  const streams = new SseRegistry();
  const maxFilesPerTurn = options.maxFilesPerTurn ?? 10;
  // Safety: every route sees the core through the playground's NSFW policy (safety-screen.ts).
  const safety = { SAFETY: options.settings.SAFETY ?? 'flag', PLAYGROUND_NSFW: options.settings.PLAYGROUND_NSFW ?? false };
  const bot = screenedBot(options.bot, safety, options.logger ?? { warn: () => undefined });
  const context: RouteContext = { bot, heartbeatMs: options.heartbeatMs ?? 15_000, streams };

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as unknown as FastifyBaseLogger } : { logger: false }),
    // A caller's request id (from a proxy or a script) is kept so its logs and ours line up.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Health probes every few seconds would drown the log.
      disableRequestLogging: (request) => request.url === '/healthz',
    }),
    // Open SSE streams are ended in preClose; this only catches keep-alive sockets left over.
    forceCloseConnections: true,
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Every log line of a conversation's request carries its id, so one conversation can be followed.
  app.addHook('preHandler', async (request, reply) => {
    const params = request.params as { id?: unknown } | undefined;
    const url = request.routeOptions.url ?? '';
    if (typeof params?.id === 'string' && url.startsWith('/api/conversations/:id')) {
      request.log = request.log.child({ conversationId: params.id });
      reply.log = request.log;
    }
  });

  await app.register(fastifyCookie);
  await app.register(fastifyMultipart, {
    limits: {
      fileSize: maxUploadBytes,
      files: maxFilesPerTurn,
      fields: 10,
      fieldSize: 64 * 1024,
      parts: maxFilesPerTurn + 10,
    },
  });
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: 'index.html',
    // The page changes with the code; make browsers revalidate it rather than run a stale app.js.
    cacheControl: true,
    maxAge: 0,
  });
  registerUserCookie(app);

  app.setErrorHandler((error, request, reply) => sendHttpError(request, reply, error, maxUploadBytes));
  app.setNotFoundHandler((request, reply) =>
    sendHttpError(request, reply, new HttpInputError(404, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`), maxUploadBytes),
  );

  healthRoutes(app, context);
  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics();
      return reply.type(contentType).header('cache-control', 'no-store').send(body);
    });
  }
  conversationRoutes(app, context);
  turnRoutes(app, context);
  eventRoutes(app, context);
  jobRoutes(app, context);
  mediaRoutes(app, context);
  previewRoutes(app, context);
  if (options.admin) await app.register(adminPlugin(options.admin), { prefix: ADMIN_PATH });
  for (const routes of options.routes ?? []) await routes(app);

  app.addHook('preClose', async () => streams.closeAll());
  return { app, streams };
}

/** Starts the playground and its JSON API on HOST:PORT (PORT 0 picks a free port; the real URL is returned). */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { app } = await buildWebApp(options);
  await app.listen({ host: options.settings.HOST, port: options.settings.PORT });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected server address ${String(address)}`);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`;
  options.logger?.info({ url }, 'web playground listening');
  return {
    url,
    close: async () => {
      await app.close();
    },
  };
}
