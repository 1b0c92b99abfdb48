import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { startWebServer } from '../../adapters/web/server.ts';
import type { WebServer } from '../../adapters/web/server.ts';
import { FakeBot } from './fake-bot.ts';

let server: WebServer | undefined;
const bot = new FakeBot();

afterEach(async () => {
  await server?.close();
  bot.close();
});

it('logs each request with its request id, and the conversation id on conversation routes', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  server = await startWebServer({ bot, logger, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 } });
  // The conversation's owner asks: another cookie would get a 404.
  const conversation = await bot.startConversation({ user: { platform: 'web', externalId: 'someone-0123456789' } });

  const response = await fetch(`${server.url}/api/conversations/${conversation.id}/turns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42', cookie: 'vitron_user=someone-0123456789' },
    body: JSON.stringify({ text: 'hello' }),
  });
  expect(response.status).toBe(200);
  await fetch(`${server.url}/healthz`);

  const ours = lines.filter((l) => l.requestId === 'trace-42');
  expect(ours.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'turn received', 'request completed']));
  expect(ours.find((l) => l.msg === 'turn received')).toMatchObject({ conversationId: conversation.id });
  expect(ours.find((l) => l.msg === 'request completed')).toMatchObject({ conversationId: conversation.id });
  expect(lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/healthz')).toBe(false);
});
