import { afterEach, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import type { MediaView } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { FakeBot } from './fake-bot.ts';

const FLAGGED = { safety: { nsfw: 0.91, flagged: true } } satisfies Partial<MediaView>;
const ONLY_NSFW = 'This picture was flagged as NSFW by the safety filter, so I only post it in channels marked NSFW.';
const NEVER = 'This picture was flagged as NSFW by the safety filter, so it is not posted.';

let bot: FakeBot;
let server: WebServer;
let cookie = '';

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(server.url + path, { ...init, headers });
  const set = response.headers.get('set-cookie');
  if (set) cookie = set.split(';')[0]!;
  return response;
}

async function start(safety: Partial<Pick<Settings, 'SAFETY' | 'PLAYGROUND_NSFW'>>): Promise<void> {
  bot = new FakeBot();
  cookie = '';
  server = await startWebServer({ bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 * 1024, ...safety } });
}

/** A conversation whose job ends with `result`; returns the conversation id and the result as the history shows it. */
async function conversationWith(result: Partial<MediaView>): Promise<{ id: string; shown: MediaView & { withheld?: string }; mediaId: string }> {
  const created = await api('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) });
  const { id } = (await created.json()) as { id: string };
  const form = new FormData();
  form.set('text', 'make it winter');
  form.append('file', new Blob([new Uint8Array(await solidImage(8, 8))]), 'a.png');
  const { job } = (await (await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form })).json()) as { job: { id: string } };
  const media = bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', result);
  bot.finish(job.id, 'Here it is.', [media]);
  const history = (await (await api(`/api/conversations/${id}`)).json()) as { turns: { media: (MediaView & { withheld?: string })[] }[] };
  const shown = history.turns.flatMap((t) => t.media).find((m) => m.id === media.id)!;
  return { id, shown, mediaId: media.id };
}

afterEach(async () => {
  await server?.close();
  bot?.close();
});

describe('playground: flagged media and PLAYGROUND_NSFW (fake bot, real HTTP)', () => {
  it('withholds a flagged result by default: the history carries the sentence and no URL, and the bytes are refused', async () => {
    await start({});
    const { shown, mediaId } = await conversationWith(FLAGGED);
    expect(shown.withheld).toBe(ONLY_NSFW);
    expect(shown.url).toBe('');
    const bytes = await api(`/api/media/${mediaId}`);
    expect(bytes.status).toBe(403);
    expect(await bytes.json()).toMatchObject({ error: { code: 'CONTENT_BLOCKED', message: ONLY_NSFW } });
  });

  it('shows the same flagged result with PLAYGROUND_NSFW=true', async () => {
    await start({ PLAYGROUND_NSFW: true });
    const { shown, mediaId } = await conversationWith(FLAGGED);
    expect(shown.withheld).toBeUndefined();
    expect(shown.url).toBe(`/api/media/${mediaId}`);
    expect((await api(`/api/media/${mediaId}`)).status).toBe(200);
  });

  it('SAFETY=block withholds it even with PLAYGROUND_NSFW=true; an unflagged result is shown', async () => {
    await start({ SAFETY: 'block', PLAYGROUND_NSFW: true });
    const flagged = await conversationWith(FLAGGED);
    expect(flagged.shown.withheld).toBe(NEVER);
    expect((await api(`/api/media/${flagged.mediaId}`)).status).toBe(403);
    const clean = await conversationWith({ safety: { nsfw: 0.02, flagged: false } });
    expect(clean.shown.withheld).toBeUndefined();
    expect((await api(`/api/media/${clean.mediaId}`)).status).toBe(200);
  });

  it('SAFETY=off shows flagged media', async () => {
    await start({ SAFETY: 'off' });
    const { shown, mediaId } = await conversationWith(FLAGGED);
    expect(shown.withheld).toBeUndefined();
    expect((await api(`/api/media/${mediaId}`)).status).toBe(200);
  });

  it("shows the user's own flagged upload back: it came from this browser", async () => {
    await start({});
    const upload = bot.addMedia(await solidImage(8, 8, '#0000ff'), 'image/png', 'upload', FLAGGED);
    expect((await api(`/api/media/${upload.id}`)).status).toBe(200);
  });
});
