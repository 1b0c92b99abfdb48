import type { FastifyInstance } from 'fastify';
import { WEB_PLATFORM } from '../user-cookie.ts';
import { idParams, newConversationBody, parseInput } from '../validation.ts';
import type { RouteContext } from './context.ts';

export function conversationRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  app.get('/api/conversations', async (request) => bot.listConversations(request.user));

  app.post('/api/conversations', async (request, reply) => {
    const body = parseInput(newConversationBody, request.body, 'conversation');
    const conversation = await bot.startConversation({
      user: request.user,
      platform: WEB_PLATFORM,
      ...(body.title !== undefined ? { title: body.title } : {}),
    });
    request.log.info({ conversationId: conversation.id }, 'conversation started');
    return reply.code(201).send(conversation);
  });

  app.get('/api/conversations/:id', async (request) => {
    const { id } = parseInput(idParams, request.params, 'conversation id');
    await bot.authorize(request.user, { conversationId: id });
    return bot.history(id);
  });
}
