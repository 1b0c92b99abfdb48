import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const ADMIN_COOKIE = 'vitron_admin';
export const ADMIN_PATH = '/admin';
const COOKIE_MAX_AGE_SECONDS = 12 * 3600;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Hashing first gives timingSafeEqual the equal lengths it needs, without leaking the token's length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The one admin secret (ADMIN_TOKEN), accepted as a bearer token or, for the browser, as a cookie set by
 * /admin?token=…. The cookie holds a value derived from the token rather than the token, so a changed
 * token ends every browser session and the cookie jar never holds the secret itself.
 */
export class AdminAuth {
  private readonly token: Buffer;
  private readonly session: string;
  private readonly sessionDigest: Buffer;

  constructor(token: string) {
    this.token = digest(token);
    this.session = createHmac('sha256', token).update('vitron admin browser session v1').digest('base64url');
    this.sessionDigest = digest(this.session);
  }

  tokenMatches(given: string): boolean {
    return timingSafeEqual(digest(given), this.token);
  }

  allows(request: FastifyRequest): boolean {
    const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.tokenMatches(bearer)) return true;
    const cookie = request.cookies[ADMIN_COOKIE];
    return cookie !== undefined && timingSafeEqual(digest(cookie), this.sessionDigest);
  }

  /** Strict, so no other site can make the browser send it; scoped to /admin, the only place it opens. */
  setSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
    reply.setCookie(ADMIN_COOKIE, this.session, {
      path: ADMIN_PATH,
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      maxAge: COOKIE_MAX_AGE_SECONDS,
    });
  }
}

export function refuse(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.info({ status: 401 }, 'admin request refused');
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="vitron admin"')
    .type('text/plain; charset=utf-8')
    .send('Admin token required: send "Authorization: Bearer <ADMIN_TOKEN>", or open /admin?token=<ADMIN_TOKEN> in a browser.\n');
}
