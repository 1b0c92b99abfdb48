import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

/**
 * Bull Board on the lane queues, inside the admin scope so its page, static files and API all pass the
 * admin check. Retries and cleaning stay allowed: acting on stuck or failed jobs is what an admin is for.
 */
export async function registerBullBoard(
  admin: FastifyInstance,
  queues: readonly Queue[],
  options: { prefix: string; basePath: string; overviewUrl: string },
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false, allowRetries: true })),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Vitron queues',
        miscLinks: [{ text: 'Overview', url: options.overviewUrl }],
        hideDocsLink: true,
      },
    },
  });
  await admin.register(serverAdapter.registerPlugin(), { prefix: options.prefix });
}
