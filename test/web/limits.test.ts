/** The playground under the core's limits: each cookie user gets the same allowance as a chat user. */
import { afterEach, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { createAdmission } from '../../src/limits/admission.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { FakeBot } from './fake-bot.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A browser: its own cookie jar of one cookie. */
function browser(server: WebServer) {
  let cookie = '';
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(server.url + path, { ...init, headers });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
  return {
    call,
    async newConversation(): Promise<string> {
      const response = await call('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return ((await response.json()) as { id: string }).id;
    },
    say(conversationId: string, text: string): Promise<Response> {
      return call(`/api/conversations/${conversationId}/turns`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
    },
    send(conversationId: string, text: string, file: Uint8Array<ArrayBuffer>): Promise<Response> {
      const form = new FormData();
      form.set('text', text);
      form.set('file', new Blob([file], { type: 'image/png' }), 'a.png');
      return call(`/api/conversations/${conversationId}/turns`, { method: 'POST', body: form });
    },
  };
}

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

describe('playground limits', () => {
  it('answers a cookie user over USER_RATE_LIMIT_PER_MINUTE with 429 and Retry-After, records nothing, and lets other users on', {
    timeout: 120_000,
  }, async () => {
    const test = await startTestBot({ USER_RATE_LIMIT_PER_MINUTE: '2' }, { recover: false });
    cleanups.push(() => test.cleanup());
    const server = await startWebServer({ bot: test.running.bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 * 1024 } });
    cleanups.push(() => server.close());

    const alice = browser(server);
    const conversation = await alice.newConversation();
    expect((await alice.say(conversation, 'help')).status).toBe(200);
    expect((await alice.say(conversation, 'help')).status).toBe(200);
    const refused = await alice.say(conversation, 'help');
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toMatch(/^You are sending requests faster than this bot allows; try again in \d+ s\.$/);
    expect(Number(refused.headers.get('retry-after'))).toBe(body.error.details?.retryAfterSeconds);
    const history = (await (await alice.call(`/api/conversations/${conversation}`)).json()) as { turns: { role: string }[] };
    expect(history.turns.filter((t) => t.role === 'user')).toHaveLength(2);

    const bob = browser(server);
    expect((await bob.say(await bob.newConversation(), 'help')).status).toBe(200);
  });

  it('answers a cookie user with USER_MAX_QUEUED_JOBS jobs under way with 429 until one finishes', async () => {
    const bot = new FakeBot(await createAdmission(loadSettings({ USER_MAX_QUEUED_JOBS: '1' })));
    cleanups.push(async () => bot.close());
    const server = await startWebServer({ bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 * 1024 } });
    cleanups.push(() => server.close());

    const alice = browser(server);
    const conversation = await alice.newConversation();
    expect((await alice.send(conversation, 'cut it out', new Uint8Array([1, 2, 3]))).status).toBe(202);
    const refused = await alice.send(conversation, 'and this one', new Uint8Array([4, 5]));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({
      code: 'LIMIT_REACHED',
      message: 'You already have 1 job waiting or running (the limit is 1). Wait for it to finish, or cancel it.',
    });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(1);

    const bob = browser(server);
    expect((await bob.send(await bob.newConversation(), 'mine too', new Uint8Array([6]))).status).toBe(202);

    bot.finish([...bot.jobs.keys()][0]!);
    expect((await alice.send(conversation, 'and this one', new Uint8Array([4, 5]))).status).toBe(202);
  });
});
