import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { QueueAdmin } from '../../../src/admin/queue-overview.ts';
import { ADMIN_PATH, AdminAuth, refuse } from './admin-auth.ts';

export interface AdminOptions {
  /** ADMIN_TOKEN. */
  token: string;
  queues: QueueAdmin;
}

const PAGE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'admin', 'admin.html');
const BOARD_PATH = `${ADMIN_PATH}/queues`;

/**
 * GET /admin (the page), GET /admin/api/overview (its JSON) and, in BullMQ mode, Bull Board at
 * /admin/queues. Mount with `{ prefix: ADMIN_PATH }`; everything inside answers 401 without the token.
 */
export function adminPlugin(options: AdminOptions): FastifyPluginAsync {
  return async (admin: FastifyInstance) => {
    const auth = new AdminAuth(options.token);
    const page = await readFile(PAGE_FILE, 'utf8');

    admin.addHook('onRequest', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const url = request.routeOptions.url;
      const token = (request.query as { token?: unknown } | undefined)?.token;
      // The browser's way in: trade the token in the address for a cookie, then drop it from the address
      // (and so from history and later Referer headers).
      if (request.method === 'GET' && (url === ADMIN_PATH || url === `${ADMIN_PATH}/`) && typeof token === 'string') {
        if (!auth.tokenMatches(token)) return refuse(request, reply);
        auth.setSessionCookie(request, reply);
        return reply.redirect(ADMIN_PATH, 303);
      }
      if (!auth.allows(request)) return refuse(request, reply);
    });

    admin.get('/', async (_request, reply) => {
      const withBoard = options.queues.bullQueues.length > 0;
      return reply.type('text/html; charset=utf-8').send(page.replace('data-board="off"', `data-board="${withBoard ? 'on' : 'off'}"`));
    });

    admin.get('/api/overview', async () => options.queues.overview());

    if (options.queues.bullQueues.length > 0) {
      // Loaded only with BullMQ queues to show: a bot on the in-process queue never holds bull-board (≈20 MiB).
      const { registerBullBoard } = await import('./admin-board.ts');
      await registerBullBoard(admin, options.queues.bullQueues, { prefix: '/queues', basePath: BOARD_PATH, overviewUrl: ADMIN_PATH });
    }
  };
}
