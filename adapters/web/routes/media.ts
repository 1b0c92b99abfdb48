import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { downloadFileName } from '../media-filename.ts';
import { idParams, parseInput } from '../validation.ts';
import type { RouteContext } from './context.ts';

const mediaQuery = z.object({ download: z.enum(['0', '1', 'true', 'false']).optional() });
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

export function mediaRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  // GET also answers HEAD; @fastify/send gives ranges, ETag and 304s, which <video> seeking needs.
  app.get('/api/media/:id', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'media id');
    const query = parseInput(mediaQuery, request.query, 'query');
    const { view, path: filePath } = await bot.media(id);
    reply.header('content-type', view.mime);
    reply.header('x-content-type-options', 'nosniff');
    // Uploaded bytes must never run as a page of this origin, whatever their type turns out to be.
    reply.header('content-security-policy', "default-src 'none'; media-src 'self'; img-src 'self'; sandbox");
    if (query.download === '1' || query.download === 'true') {
      reply.header('content-disposition', `attachment; filename="${downloadFileName(view)}"`);
    }
    // Media ids name content that never changes, so caches may keep it for good.
    return reply.sendFile(path.basename(filePath), path.dirname(filePath), {
      contentType: false,
      cacheControl: true,
      immutable: true,
      maxAge: ONE_YEAR_MS,
      dotfiles: 'allow',
    });
  });
}
