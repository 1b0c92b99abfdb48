import type { FastifyInstance } from 'fastify';
import { idParams, parseInput } from '../validation.ts';
import type { RouteContext } from './context.ts';

export function jobRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  app.get('/api/jobs/:id', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'job id');
    await bot.authorize(request.user, { jobId: id });
    // Pollers must see fresh state, never a cached one.
    return reply.header('cache-control', 'no-store').send(await bot.job(id));
  });

  app.post('/api/jobs/:id/cancel', async (request) => {
    const { id } = parseInput(idParams, request.params, 'job id');
    await bot.authorize(request.user, { jobId: id });
    const job = await bot.cancelJob(id, request.user);
    request.log.info({ jobId: id, state: job.state }, 'job cancel requested');
    return job;
  });
}
