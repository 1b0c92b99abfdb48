import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import type { BotEvent } from '../../src/app/bot-api.ts';
import { mediaLinkSigner } from '../../src/app/media-links.ts';
import { startTestBot } from '../helpers/bot-harness.ts';

/**
 * Each user's conversations are their own: a second browser (another vitron_user cookie) that knows the ids of
 * the first one's conversation, job and media gets the same 404 as for ids that do not exist, on every route, and
 * changes nothing. Media posted to chats travels as a signed, expiring link that works without any cookie.
 */

let harness: Awaited<ReturnType<typeof startTestBot>>;
let web: WebServer;
const events: BotEvent[] = [];

const ALICE = 'vitron_user=alice-0123456789abcdef';
const MALLORY = 'vitron_user=mallory-0123456789abcd';

function call(cookie: string | undefined, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${web.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

let conversationId: string;
let jobId: string;
let mediaId: string;

beforeAll(async () => {
  harness = await startTestBot({ SAFETY: 'off', MEDIA_LINK_SECRET: 's'.repeat(40), MEDIA_LINK_TTL_HOURS: '2' });
  harness.running.bot.subscribeAll((event) => events.push(event));
  web = await startWebServer({ bot: harness.running.bot, settings: { ...harness.settings, HOST: '127.0.0.1', PORT: 0 } });
  conversationId = ((await (await call(ALICE, 'POST', '/api/conversations', { title: 'mine' })).json()) as { id: string }).id;
  const square = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('text', 'rotate it 90 degrees');
  form.append('file', new Blob([square], { type: 'image/png' }), 'square.png');
  const turn = (await (
    await fetch(`${web.url}/api/conversations/${conversationId}/turns`, { method: 'POST', headers: { cookie: ALICE }, body: form })
  ).json()) as {
    job: { id: string };
  };
  jobId = turn.job.id;
  const finished = await new Promise<Extract<BotEvent, { type: 'job.finished' }>>((resolve) => {
    const check = () => {
      const done = events.find((e): e is Extract<BotEvent, { type: 'job.finished' }> => e.type === 'job.finished' && e.job.id === jobId);
      if (done) resolve(done);
      else setTimeout(check, 20);
    };
    check();
  });
  mediaId = finished.turn.media[0]!.id;
});

afterAll(async () => {
  await web?.close();
  await harness?.cleanup();
});

/** The 404 body an id that does not exist gets; another user's id must get the same, word for word. */
async function unknownAnswer(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await call(MALLORY, method, path, body);
  expect(response.status).toBe(404);
  const json = (await response.json()) as { error: { code: string; message: string } };
  return { code: json.error.code, shape: json.error.message.replace(/\S+ was not found\.$/, 'X was not found.') };
}

describe('two users of one playground', () => {
  it('the owner reads, follows and uses the conversation, its job and its media', async () => {
    expect((await call(ALICE, 'GET', `/api/conversations/${conversationId}`)).status).toBe(200);
    expect((await call(ALICE, 'GET', `/api/jobs/${jobId}`)).status).toBe(200);
    expect((await call(ALICE, 'GET', `/api/media/${mediaId}`)).status).toBe(200);
    const stream = await fetch(`${web.url}/api/conversations/${conversationId}/events`, { headers: { cookie: ALICE }, signal: AbortSignal.timeout(5000) });
    expect(stream.status).toBe(200);
    await stream.body?.cancel();
  });

  it.each([
    ['reads the history', 'GET', (c: string) => `/api/conversations/${c}`, undefined],
    ['follows the events', 'GET', (c: string) => `/api/conversations/${c}/events`, undefined],
    ['posts a turn', 'POST', (c: string) => `/api/conversations/${c}/turns`, { text: 'make it black and white' }],
    ['presses undo', 'POST', (c: string) => `/api/conversations/${c}/actions`, { action: 'undo' }],
    ['asks for a repeat', 'POST', (c: string) => `/api/conversations/${c}/repeat`, { mediaId: 'placeholder' }],
  ] as const)('another user who %s of the conversation gets the 404 of an unknown id, and nothing changes', async (_what, method, path, body) => {
    const before = ((await (await call(ALICE, 'GET', `/api/conversations/${conversationId}`)).json()) as { turns: unknown[] }).turns.length;
    const theirs = await unknownAnswer(method, path(conversationId), body);
    expect(theirs).toEqual(await unknownAnswer(method, path('cm0doesnotexist00000000000'), body));
    const after = ((await (await call(ALICE, 'GET', `/api/conversations/${conversationId}`)).json()) as { turns: unknown[] }).turns.length;
    expect(after).toBe(before);
  });

  it('another user can neither read nor cancel the job, nor fetch the media, by their ids', async () => {
    expect(await unknownAnswer('GET', `/api/jobs/${jobId}`)).toEqual(await unknownAnswer('GET', '/api/jobs/cm0doesnotexist00000000000'));
    expect(await unknownAnswer('POST', `/api/jobs/${jobId}/cancel`)).toEqual(await unknownAnswer('POST', '/api/jobs/cm0doesnotexist00000000000/cancel'));
    expect(await unknownAnswer('GET', `/api/media/${mediaId}`)).toEqual(await unknownAnswer('GET', '/api/media/cm0doesnotexist00000000000'));
    expect((await call(undefined, 'GET', `/api/media/${mediaId}`)).status).toBe(404);
    const list = (await (await call(MALLORY, 'GET', '/api/conversations')).json()) as { id: string }[];
    expect(list.map((c) => c.id)).not.toContain(conversationId);
  });

  it('a signed media link works without a cookie until it expires; a forged or expired one is a 404', async () => {
    const link = harness.running.bot.mediaLink(mediaId);
    expect(link).toMatch(new RegExp(`^/api/media/${mediaId}\\?expires=\\d+&sig=[0-9a-f]{64}$`));
    const opened = await call(undefined, 'GET', link);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('cache-control')).toMatch(/^private/);
    expect((await sharp(Buffer.from(await opened.arrayBuffer())).metadata()).width).toBe(10);
    expect(
      (
        await call(
          undefined,
          'GET',
          link.replace(/sig=[0-9a-f]/, (m) => (m.endsWith('0') ? 'sig=1' : 'sig=0')),
        )
      ).status,
    ).toBe(404);
    // Another media's signature does not open this one.
    expect((await call(undefined, 'GET', link.replace(mediaId, 'cm0doesnotexist00000000000'))).status).toBe(404);
    const signer = mediaLinkSigner('s'.repeat(40), 2);
    const expired = signer.link(mediaId, new Date(Date.now() - 3 * 3600_000));
    expect((await call(undefined, 'GET', expired)).status).toBe(404);
    expect((await call(undefined, 'GET', signer.link(mediaId))).status).toBe(200);
  });
});
