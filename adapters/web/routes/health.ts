import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.ts';

export function healthRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  app.get('/healthz', async (_request, reply) => {
    const report = await bot.health();
    // Load balancers read the status; people read the body.
    return reply
      .code(report.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });

  app.get('/api/help', async () => ({ text: bot.helpText() }));
}
