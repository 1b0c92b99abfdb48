import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingFile, TurnResult } from '../../../src/app/bot-api.ts';
import { HttpInputError } from '../errors-to-http.ts';
import { actionBody, idParams, jsonTurnBody, MAX_TEXT_CHARS, parseInput, repeatBody } from '../validation.ts';
import type { RouteContext } from './context.ts';

interface TurnInput {
  text: string;
  files: IncomingFile[];
}

/**
 * Reads a multipart turn. Each file is buffered through the multipart size limit, so an over-limit file
 * fails while it streams (a 413) instead of after it has all been held in memory.
 */
async function readMultipartTurn(request: FastifyRequest): Promise<TurnInput> {
  let text = '';
  const files: IncomingFile[] = [];
  const unknownFields: string[] = [];
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      // A form submitted with no file chosen still sends an empty, nameless file part.
      if (bytes.length === 0 && part.filename === '') continue;
      files.push({ ...(part.filename ? { name: part.filename } : {}), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
    } else if (part.fieldname === 'text') {
      text = String(part.value);
    } else {
      unknownFields.push(part.fieldname);
    }
  }
  if (unknownFields.length > 0) {
    throw new HttpInputError(400, 'INVALID_ARGUMENT', `Unknown form field(s): ${unknownFields.join(', ')}. Send "text" and "file" parts.`);
  }
  if (text.length > MAX_TEXT_CHARS) {
    throw new HttpInputError(400, 'INVALID_ARGUMENT', `Invalid turn: text: the message is longer than ${MAX_TEXT_CHARS} characters`);
  }
  return { text, files };
}

function sendTurnResult(request: FastifyRequest, reply: FastifyReply, result: TurnResult): FastifyReply {
  if (result.job) request.log.info({ jobId: result.job.id, tasks: result.job.tasks }, 'job started');
  // 202: the turn is recorded but its outcome arrives later, as events.
  return reply.code(result.job ? 202 : 200).send(result);
}

export function turnRoutes(app: FastifyInstance, { bot }: RouteContext): void {
  app.post('/api/conversations/:id/turns', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'conversation id');
    // Before the body is read: a stranger's upload is refused without being buffered.
    await bot.authorize(request.user, { conversationId: id });
    const input = request.isMultipart() ? await readMultipartTurn(request) : { ...parseInput(jsonTurnBody, request.body, 'turn'), files: [] };
    if (input.text.trim() === '' && input.files.length === 0) {
      throw new HttpInputError(400, 'INVALID_ARGUMENT', 'Invalid turn: send some text, a file, or both.');
    }
    request.log.info({ files: input.files.length, fileBytes: input.files.map((f) => f.bytes.length) }, 'turn received');
    // A client that retries a POST (a flaky network) sends the same Idempotency-Key: one turn, one job.
    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key))) {
      throw new HttpInputError(400, 'INVALID_ARGUMENT', 'Invalid Idempotency-Key: 1 to 200 visible ASCII characters.');
    }
    // The same limits as every chat platform, per cookie user; a refusal is a 429 (errors-to-http.ts).
    await bot.admit({ user: request.user });
    const result = await bot.handleTurn({
      conversationId: id,
      user: request.user,
      text: input.text,
      files: input.files,
      ...(key ? { eventKey: `web:${key}` } : {}),
    });
    return sendTurnResult(request, reply, result);
  });

  app.post('/api/conversations/:id/actions', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'conversation id');
    const body = parseInput(actionBody, request.body, 'action');
    await bot.authorize(request.user, { conversationId: id });
    request.log.info({ action: body.action, mediaId: body.mediaId }, 'action');
    const result = await bot.act({
      conversationId: id,
      user: request.user,
      action: body.action,
      ...(body.mediaId !== undefined ? { mediaId: body.mediaId } : {}),
    });
    return sendTurnResult(request, reply, result);
  });

  // Retry: the request that made this picture, again with the same seed. It starts work, so it is admitted
  // like a turn.
  app.post('/api/conversations/:id/repeat', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'conversation id');
    const { mediaId, longer } = parseInput(repeatBody, request.body, 'repeat');
    await bot.authorize(request.user, { conversationId: id });
    await bot.admit({ user: request.user });
    request.log.info({ mediaId, longer }, 'repeat');
    return sendTurnResult(request, reply, await bot.repeat({ conversationId: id, user: request.user, mediaId, ...(longer ? { longer } : {}) }));
  });
}
