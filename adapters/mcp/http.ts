import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { BotApi } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { McpSession } from './session.ts';

export const MCP_PATH = '/mcp';

export interface McpHttpOptions {
  bot: BotApi;
  settings: Pick<Settings, 'MCP_TOKEN' | 'SAFETY' | 'MCP_NSFW' | 'MCP_MEDIA_HOSTS' | 'MAX_UPLOAD_BYTES'>;
  logger: Pick<Logger, 'warn' | 'info' | 'error'>;
  /** Sessions idle this long are closed (their conversation stays in the history). */
  idleMs?: number;
  /** New sessions past this many open ones are refused with 503 until some close. */
  maxSessions?: number;
  /** Plain-http media hosts (the tests' local servers). */
  insecureHosts?: readonly string[];
}

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastUsed: number;
}

/**
 * The MCP SDK and our server on it, loaded by the first request that passes the token check: a bot without
 * MCP_TOKEN answers 403 and never holds them (≈25 MiB idle RSS).
 */
let sdk:
  | Promise<{
      StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
      isInitializeRequest: typeof import('@modelcontextprotocol/sdk/types.js')['isInitializeRequest'];
      createMcpServer: typeof import('./mcp-server.ts')['createMcpServer'];
    }>
  | undefined;
function loadSdk(): NonNullable<typeof sdk> {
  sdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('./mcp-server.ts'),
  ]).then(([transport, types, server]) => ({
    StreamableHTTPServerTransport: transport.StreamableHTTPServerTransport,
    isInitializeRequest: types.isInitializeRequest,
    createMcpServer: server.createMcpServer,
  }));
  return sdk;
}

/**
 * Streamable HTTP at /mcp on the playground's server. Every request needs `Authorization: Bearer <MCP_TOKEN>`;
 * without MCP_TOKEN the route refuses everyone, so a playground exposed through PUBLIC_URL offers no tools to
 * strangers. Each MCP session (the transport's session id) is one conversation of the token's user.
 */
export function mcpHttpRoutes(options: McpHttpOptions): (app: FastifyInstance) => Promise<void> {
  const idleMs = options.idleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 100;
  const sessions = new Map<string, OpenSession>();
  const user = { platform: 'mcp', externalId: 'http-token', name: 'MCP client (HTTP)' };

  const closeSession = async (id: string) => {
    const open = sessions.get(id);
    sessions.delete(id);
    await open?.server.close().catch(() => undefined);
  };

  const startSession = async (): Promise<OpenSession> => {
    const { StreamableHTTPServerTransport, createMcpServer } = await loadSdk();
    const id = randomUUID();
    const session = new McpSession({
      bot: options.bot,
      settings: options.settings,
      logger: options.logger,
      user,
      key: id,
      ...(options.insecureHosts ? { insecureHosts: options.insecureHosts } : {}),
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        sessions.set(id, open);
        options.logger.info({ mcpSession: id }, 'mcp: session opened');
      },
      onsessionclosed: () => void closeSession(id),
    });
    const server = createMcpServer(session);
    const open: OpenSession = { transport, server, lastUsed: Date.now() };
    transport.onclose = () => sessions.delete(id);
    await server.connect(transport);
    return open;
  };

  return async (app) => {
    const sweep = setInterval(
      () => {
        const now = Date.now();
        for (const [id, open] of sessions) if (now - open.lastUsed > idleMs) void closeSession(id);
      },
      Math.min(idleMs, 60_000),
    );
    sweep.unref();
    app.addHook('preClose', async () => {
      clearInterval(sweep);
      await Promise.allSettled([...sessions.keys()].map(closeSession));
    });

    app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: MCP_PATH,
      // base64 media travels in the JSON body: a file of MAX_UPLOAD_BYTES is 4/3 of that as text.
      bodyLimit: Math.ceil((options.settings.MAX_UPLOAD_BYTES * 4) / 3) + 1024 * 1024,
      handler: async (request, reply) => {
        const refused = refusal(request, options.settings.MCP_TOKEN);
        if (refused) return reply.code(refused.status).header('www-authenticate', 'Bearer realm="vitron-chat"').send(jsonRpcError(-32001, refused.message));
        const { isInitializeRequest } = await loadSdk();
        const header = request.headers['mcp-session-id'];
        let open: OpenSession | undefined;
        if (typeof header === 'string') {
          open = sessions.get(header);
          // An unknown session (expired, or from before a restart): the client starts a new one (MCP says 404).
          if (!open) return reply.code(404).send(jsonRpcError(-32001, 'Session not found; initialize a new session.'));
        } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
          if (sessions.size >= maxSessions) return reply.code(503).send(jsonRpcError(-32000, 'Too many open MCP sessions; try again later.'));
          open = await startSession();
        } else {
          return reply.code(400).send(jsonRpcError(-32000, 'No MCP session: send an initialize request first (without mcp-session-id).'));
        }
        open.lastUsed = Date.now();
        await handOver(open, request, reply);
      },
    });
  };
}

/** The transport writes the response itself (JSON or an SSE stream); Fastify steps aside. */
async function handOver(open: OpenSession, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.hijack();
  await open.transport.handleRequest(request.raw, reply.raw, request.body);
}

function refusal(request: FastifyRequest, token: string | undefined): { status: number; message: string } | undefined {
  if (token === undefined) return { status: 403, message: 'MCP over HTTP is off on this server: the operator has not set MCP_TOKEN.' };
  const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
  if (given === undefined) return { status: 401, message: 'Send Authorization: Bearer <MCP_TOKEN>.' };
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: 401, message: 'That MCP token is not valid.' };
  return undefined;
}

function jsonRpcError(code: number, message: string): { jsonrpc: '2.0'; error: { code: number; message: string }; id: null } {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
