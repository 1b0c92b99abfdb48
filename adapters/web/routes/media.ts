import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { downloadFileName } from '../media-filename.ts';
import { idParams, parseInput } from '../validation.ts';
import type { MediaView } from '../../../src/app/bot-api.ts';
import type { RouteContext } from './context.ts';

const mediaQuery = z.object({
  download: z.enum(['0', '1', 'true', 'false']).optional(),
  // A signed link (BotApi.mediaLink) posted to a chat: it works without the cookie until it expires.
  expires: z.string().max(20).optional(),
  sig: z.string().max(128).optional(),
});
const ONE_YEAR_S = 365 * 24 * 3600;

export function mediaRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  // GET also answers HEAD; @fastify/send gives ranges, ETag and 304s, which <video> seeking needs.
  app.get('/api/media/:id', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'media id');
    const query = parseInput(mediaQuery, request.query, 'query');
    let found: { view: MediaView; path: string };
    if (query.expires !== undefined || query.sig !== undefined) {
      found = await bot.openMediaLink(id, { expires: query.expires ?? '', sig: query.sig ?? '' });
    } else {
      await bot.authorize(request.user, { mediaId: id });
      found = await bot.media(id);
    }
    const { view, path: filePath } = found;
    reply.header('content-type', view.mime);
    reply.header('x-content-type-options', 'nosniff');
    // Uploaded bytes must never run as a page of this origin, whatever their type turns out to be.
    reply.header('content-security-policy', "default-src 'none'; media-src 'self'; img-src 'self'; sandbox");
    if (query.download === '1' || query.download === 'true') {
      reply.header('content-disposition', `attachment; filename="${downloadFileName(view)}"`);
    }
    // Media ids name content that never changes, so the browser may keep it for good; only the browser: the bytes
    // are one user's (or a signed link's), never for a shared cache.
    reply.header('cache-control', `private, max-age=${ONE_YEAR_S}, immutable`);
    return reply.sendFile(path.basename(filePath), path.dirname(filePath), { contentType: false, cacheControl: false, dotfiles: 'allow' });
  });
}
