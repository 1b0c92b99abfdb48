import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BadInputError, LimitReachedError, NotFoundError, RateLimitedError, StoreUnavailableError, VitronError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import { formatBytes } from '../../src/media/limits.ts';

/** The one error body the API ever sends, so a script can branch on `error.code`. */
export interface HttpErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export interface HttpError {
  status: number;
  body: HttpErrorBody;
  /** Seconds a refused client should wait, sent as Retry-After. */
  retryAfterSeconds?: number;
}

/** Raised by this adapter for problems it finds itself (bad JSON shape, over-limit upload). */
export class HttpInputError extends BadInputError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

// Codes first: errors that crossed the worker boundary come back as plain VitronError/BadInputError
// with the right code but not the right class.
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  MEDIA_NOT_FOUND: 404,
  LIMIT_REACHED: 429,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
  MEDIA_TOO_LARGE: 413,
  // Safety: media the playground may not show (flagged as NSFW); the body says why.
  CONTENT_BLOCKED: 403,
};

function statusOfVitronError(error: VitronError): number {
  if (error instanceof HttpInputError) return error.status;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof LimitReachedError || error instanceof RateLimitedError) return 429;
  if (error instanceof StoreUnavailableError) return 503;
  const byCode = STATUS_BY_CODE[error.code];
  if (byCode !== undefined) return byCode;
  if (error instanceof BadInputError) return 400;
  // A transient fault (crashed worker, restarting store): the client may retry.
  return error.retryable ? 503 : 500;
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as Partial<FastifyError>).code === 'string';
}

/**
 * Maps anything thrown by a route (core errors, framework errors) to a status and the one error body.
 * Internal messages of 500s are logged, not sent: the client gets the request id to quote instead.
 */
export function toHttpError(error: unknown, context: { requestId: string; maxUploadBytes: number }): HttpError {
  if (error instanceof VitronError) {
    const status = statusOfVitronError(error);
    if (status >= 500 && status !== 503) {
      return internal(context.requestId);
    }
    const details = Object.keys(error.details).length > 0 ? error.details : undefined;
    const retryAfter = error instanceof RateLimitedError ? error.details.retryAfterSeconds : undefined;
    return {
      status,
      body: { error: { code: error.code, message: error.message, ...(details ? { details } : {}) } },
      ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
    };
  }
  if (isFastifyError(error)) {
    switch (error.code) {
      case 'FST_REQ_FILE_TOO_LARGE':
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return uploadTooLarge(context.maxUploadBytes);
      case 'FST_FILES_LIMIT':
      case 'FST_PARTS_LIMIT':
      case 'FST_FIELDS_LIMIT':
        return { status: 413, body: { error: { code: 'MEDIA_LIMIT', message: `Too many parts in one message (${error.message}).` } } };
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return {
          status: 415,
          body: { error: { code: 'INVALID_ARGUMENT', message: 'Send application/json or multipart/form-data.' } },
        };
      case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
        return { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: 'The request is not multipart/form-data.' } } };
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return { status, body: { error: { code: status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message: error.message } } };
    }
  }
  return internal(context.requestId);
}

export function uploadTooLarge(maxUploadBytes: number): HttpError {
  const limit = formatBytes(maxUploadBytes);
  return {
    status: 413,
    body: {
      error: {
        code: 'MEDIA_TOO_LARGE',
        message: `The upload is too large: each file may be at most ${limit} (MAX_UPLOAD_BYTES=${maxUploadBytes}).`,
        details: { limit, limitBytes: maxUploadBytes },
      },
    },
  };
}

function internal(requestId: string): HttpError {
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: `Something went wrong on the server (request ${requestId}); the log has the details.` } },
  };
}

export function sendHttpError(request: FastifyRequest, reply: FastifyReply, error: unknown, maxUploadBytes: number): FastifyReply {
  const mapped = toHttpError(error, { requestId: request.id, maxUploadBytes });
  if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: mapped.body.error.code, status: mapped.status }, 'request refused');
  if (mapped.retryAfterSeconds !== undefined) reply.header('retry-after', String(mapped.retryAfterSeconds));
  return reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
}
