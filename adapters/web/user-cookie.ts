import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserRef } from '../../src/app/bot-api.ts';

/**
 * The playground has one local user per browser: a random id kept in the `vitron_user` cookie, issued on
 * the first request that lacks a valid one. It identifies, it does not authenticate: the playground is
 * meant for localhost.
 */
export const USER_COOKIE = 'vitron_user';
export const WEB_PLATFORM = 'web';
const VALID_ID = /^[A-Za-z0-9_-]{16,64}$/;
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

declare module 'fastify' {
  interface FastifyRequest {
    user: UserRef;
  }
}

export function newUserId(): string {
  return randomBytes(16).toString('base64url');
}

export function registerUserCookie(app: FastifyInstance): void {
  app.decorateRequest('user', null as unknown as UserRef);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const given = request.cookies[USER_COOKIE];
    let id = given !== undefined && VALID_ID.test(given) ? given : undefined;
    if (id === undefined) {
      id = newUserId();
      // Lax keeps a cross-site form post from acting as this user; HttpOnly because the page never reads it.
      reply.setCookie(USER_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: ONE_YEAR_SECONDS });
    }
    request.user = { platform: WEB_PLATFORM, externalId: id };
  });
}
