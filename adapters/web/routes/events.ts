import type { FastifyInstance } from 'fastify';
import { SseStream } from '../sse.ts';
import { idParams, parseInput } from '../validation.ts';
import type { RouteContext } from './context.ts';

export function eventRoutes(app: FastifyInstance, { bot, heartbeatMs, streams }: RouteContext): void {
  app.get('/api/conversations/:id/events', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'conversation id');
    // Unknown (and other users') conversations get a normal 404 before the stream starts, not an empty stream forever.
    await bot.authorize(request.user, { conversationId: id });

    reply.hijack();
    const stream = new SseStream(reply.raw, heartbeatMs);
    streams.add(stream);
    const unsubscribe = bot.subscribe(id, (event) => stream.send(event));
    request.log.debug('event stream opened');
    stream.whenClosed(() => {
      unsubscribe();
      request.log.debug('event stream closed');
    });
  });
}
