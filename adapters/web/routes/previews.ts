import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseInput, previewParams } from '../validation.ts';
import type { RouteContext } from './context.ts';

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * The live preview a job.progress event names (`job.progress.preview.sha256`). Previews are classified in
 * the worker before an event names them, so a flagged one never gets here by its event.
 */
export function previewRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  app.get('/api/previews/:sha256', async (request, reply) => {
    const { sha256 } = parseInput(previewParams, request.params, 'preview');
    // NotFoundError (a 404) for anything that is not a stored preview.
    const { path: filePath, mime } = await bot.preview(sha256);
    reply.header('content-type', mime);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('content-security-policy', "default-src 'none'; img-src 'self'; sandbox");
    // Content-addressed: the same name always means the same bytes.
    return reply.sendFile(path.basename(filePath), path.dirname(filePath), {
      contentType: false,
      cacheControl: true,
      immutable: true,
      maxAge: ONE_YEAR_MS,
      dotfiles: 'allow',
    });
  });
}
