/**
 * The playground's HTTP side of generated pictures: Retry (POST /repeat, the same seed), live previews
 * (GET /api/previews/<sha256>, content-addressed), and a batch turn (n pictures and their grid) as it reaches
 * the browser. Fake bot, real HTTP.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import type { MediaView, TurnResult } from '../../src/app/bot-api.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { FakeBot } from './fake-bot.ts';

let bot: FakeBot;
let server: WebServer;
let cookie: string;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(server.url + path, { ...init, headers });
  const set = response.headers.get('set-cookie');
  if (set) cookie = set.split(';')[0]!;
  return response;
}

function postJson(path: string, body: unknown): Promise<Response> {
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function newConversation(): Promise<string> {
  return ((await (await postJson('/api/conversations', {})).json()) as { id: string }).id;
}

beforeEach(async () => {
  bot = new FakeBot();
  cookie = '';
  server = await startWebServer({ bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 * 1024 } });
});

afterEach(async () => {
  await server.close();
  bot.close();
});

describe('POST /api/conversations/:id/repeat (the Retry button)', () => {
  it('asks the core to repeat exactly that media for this cookie user, and answers its TurnResult', async () => {
    const id = await newConversation();
    const response = await postJson(`/api/conversations/${id}/repeat`, { mediaId: 'm42' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as TurnResult).botTurn?.text).toBe('Repeating m42.');
    const call = bot.calls.find((c) => c.method === 'repeat')!;
    expect(call.args[0]).toEqual({ conversationId: id, user: { platform: 'web', externalId: cookie.split('=')[1] }, mediaId: 'm42' });
  });

  it('answers 202 with the job when the repeat starts one', async () => {
    const id = await newConversation();
    const job = { id: 'j9', state: 'queued' as const, tasks: ['generate_image'], createdAt: new Date().toISOString() };
    const userTurn = { id: 't9', role: 'user' as const, text: 'again', media: [], createdAt: job.createdAt };
    vi.spyOn(bot, 'repeat').mockResolvedValueOnce({ userTurn, job });
    const response = await postJson(`/api/conversations/${id}/repeat`, { mediaId: 'm1' });
    expect(response.status).toBe(202);
    expect(((await response.json()) as TurnResult).job?.id).toBe('j9');
  });

  it('refuses a body without mediaId, or with anything else in it, naming the field', async () => {
    const id = await newConversation();
    const missing = await postJson(`/api/conversations/${id}/repeat`, {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('mediaId') } });
    expect((await postJson(`/api/conversations/${id}/repeat`, { mediaId: 'm1', seed: 5 })).status).toBe(400);
    expect(bot.calls.some((c) => c.method === 'repeat')).toBe(false);
  });

  it('is a 404 for an unknown conversation', async () => {
    const response = await postJson('/api/conversations/nope/repeat', { mediaId: 'm1' });
    expect(response.status).toBe(404);
  });

  it('goes through the safety screen: a flagged picture in its answer is replaced by the sentence', async () => {
    const id = await newConversation();
    const flagged = bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', { safety: { nsfw: 0.9, flagged: true } });
    const now = new Date().toISOString();
    vi.spyOn(bot, 'repeat').mockResolvedValueOnce({
      userTurn: { id: 't1', role: 'user', text: 'again', media: [], createdAt: now },
      botTurn: { id: 't2', role: 'bot', text: 'Here it is again.', media: [flagged], createdAt: now },
    });
    const result = (await (await postJson(`/api/conversations/${id}/repeat`, { mediaId: flagged.id })).json()) as TurnResult;
    const shown = result.botTurn!.media[0] as MediaView & { withheld?: string };
    expect(shown.url).toBe('');
    expect(shown.withheld).toMatch(/flagged as NSFW/);
  });
});

describe('GET /api/previews/:sha256 (live previews while a picture is made)', () => {
  it('serves a stored preview with its type, cached for good because its name is its content', async () => {
    const bytes = await solidImage(16, 16, '#336699');
    const { sha256 } = bot.addPreview(bytes, 'image/png');
    const response = await api(`/api/previews/${sha256}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toMatch(/immutable/);
    expect(response.headers.get('cache-control')).toMatch(/max-age=31536000/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('is a 404 for a content address that is not a stored preview', async () => {
    const response = await api(`/api/previews/${'ab'.repeat(32)}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('refuses anything that is not a sha256 before asking the core', async () => {
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'AB'.repeat(32), 'ab'.repeat(31)]) {
      expect((await api(`/api/previews/${bad}`)).status).toBe(400);
    }
    expect(bot.calls.some((c) => c.method === 'preview')).toBe(false);
  });

  it('is named by the job.progress events of the conversation stream', async () => {
    const id = await newConversation();
    bot.textJobs = /^draw/;
    const { job } = (await (await postJson(`/api/conversations/${id}/turns`, { text: 'draw a red fox' })).json()) as TurnResult;
    const controller = new AbortController();
    const events = await api(`/api/conversations/${id}/events`, { signal: controller.signal });
    const reader = events.body!.getReader();
    await bot.listenersReach(id, 1);
    const preview = bot.addPreview(await solidImage(16, 16, '#884422'));
    bot.progress(job!.id, 0.5, 'drawing', preview);
    let text = '';
    while (!text.includes('event: job.progress')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain(`"preview":{"sha256":"${preview.sha256}","mime":"image/png"}`);
  });
});

describe('a batch turn as the browser gets it', () => {
  it('lists each picture as a result with its seed, and the grid once', async () => {
    const id = await newConversation();
    bot.textJobs = /variations/;
    const { job } = (await (await postJson(`/api/conversations/${id}/turns`, { text: 'give me some variations' })).json()) as TurnResult;
    const colors = ['#aa0000', '#00aa00', '#0000aa', '#aaaa00'];
    const pictures = await Promise.all(colors.map((c) => solidImage(8, 8, c)));
    bot.finish(job!.id, 'Here are 4 variations.', bot.addBatch(pictures, await solidImage(16, 16)));
    const history = (await (await api(`/api/conversations/${id}`)).json()) as { turns: { media: MediaView[] }[] };
    const media = history.turns.at(-1)!.media;
    expect(media.map((m) => m.role)).toEqual(['result', 'result', 'result', 'result', 'grid']);
    expect(media.filter((m) => m.role === 'result').map((m) => [m.label, m.generation?.seed])).toEqual([
      ['variation 1 of 4', 1000],
      ['variation 2 of 4', 1001],
      ['variation 3 of 4', 1002],
      ['variation 4 of 4', 1003],
    ]);
  });
});
