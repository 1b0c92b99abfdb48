import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebServer } from '../../adapters/web/server.ts';
import type { WebServer } from '../../adapters/web/server.ts';
import { LimitReachedError, StoreUnavailableError, VitronError } from '../../src/errors.ts';
import { FakeBot } from './fake-bot.ts';

const LIMIT = 64 * 1024;

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
  const response = await postJson('/api/conversations', { title: 'test' });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

beforeEach(async () => {
  bot = new FakeBot();
  cookie = '';
  server = await startWebServer({ bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: LIMIT }, heartbeatMs: 50 });
});

afterEach(async () => {
  await server.close();
  bot.close();
});

describe('health and help', () => {
  it('answers /healthz with 200 when healthy and 503 when not', async () => {
    const ok = await api('/healthz');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
    bot.healthy = false;
    expect((await api('/healthz')).status).toBe(503);
  });

  it('returns the help text', async () => {
    expect(await (await api('/api/help')).json()).toEqual({ text: bot.helpText() });
  });

  it('serves the page', async () => {
    const response = await api('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('data-testid="message-input"');
    const script = await api('/app.js');
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    await script.text();
  });
});

describe('the playground user', () => {
  it('issues a vitron_user cookie once and keeps conversations per user', async () => {
    const first = await api('/api/conversations');
    expect(first.headers.get('set-cookie')).toMatch(/^vitron_user=[A-Za-z0-9_-]{16,}; .*HttpOnly; SameSite=Lax/);
    const id = await newConversation();
    const again = await api('/api/conversations');
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(((await again.json()) as { id: string }[]).map((c) => c.id)).toEqual([id]);

    const user = (bot.calls.find((c) => c.method === 'startConversation')!.args[0] as { user: unknown }).user;
    expect(user).toEqual({ platform: 'web', externalId: cookie.split('=')[1] });

    cookie = '';
    expect(await (await api('/api/conversations')).json()).toEqual([]);
  });

  it('replaces a malformed cookie value', async () => {
    cookie = 'vitron_user=../../etc';
    const response = await api('/api/conversations');
    expect(response.headers.get('set-cookie')).toMatch(/^vitron_user=[A-Za-z0-9_-]{16,};/);
  });
});

describe('conversations and turns', () => {
  it('creates a conversation and returns its history', async () => {
    const id = await newConversation();
    const history = await (await api(`/api/conversations/${id}`)).json();
    expect(history).toMatchObject({ conversation: { id, title: 'test', platform: 'web' }, turns: [] });
  });

  it('takes a JSON turn and answers 200 with the bot turn', async () => {
    const id = await newConversation();
    const response = await postJson(`/api/conversations/${id}/turns`, { text: 'hello' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userTurn: { text: 'hello' }, botTurn: { text: 'You said: hello' } });
  });

  it("passes an Idempotency-Key on as the turn's event key, and refuses a malformed one", async () => {
    const id = await newConversation();
    const send = (key: string) =>
      api(`/api/conversations/${id}/turns`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ text: 'hello' }),
      });
    expect((await send('retry-7f3a')).status).toBe(200);
    expect(bot.calls.filter((c) => c.method === 'handleTurn').at(-1)?.args[0]).toMatchObject({ eventKey: 'web:retry-7f3a' });
    const bad = await send('x'.repeat(201));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('takes a multipart turn with files and answers 202 when a job starts', async () => {
    const id = await newConversation();
    const form = new FormData();
    form.set('text', 'cut out the subject');
    form.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'a.png');
    form.append('file', new Blob([new Uint8Array([4, 5])]), 'b.png');
    const response = await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    const result = (await response.json()) as { job: { id: string }; userTurn: { media: unknown[] } };
    expect(result.job.id).toBeTruthy();
    expect(result.userTurn.media).toHaveLength(2);
    const call = bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as { text: string; files: { name?: string; bytes: Uint8Array }[] };
    expect(call.text).toBe('cut out the subject');
    expect(call.files.map((f) => [f.name, [...f.bytes]])).toEqual([
      ['a.png', [1, 2, 3]],
      ['b.png', [4, 5]],
    ]);
  });

  it('refuses an over-limit upload with 413 naming the limit, and stays usable', async () => {
    const id = await newConversation();
    const form = new FormData();
    form.set('text', 'big');
    form.append('file', new Blob([new Uint8Array(LIMIT * 4)]), 'big.png');
    const response = await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('MEDIA_TOO_LARGE');
    expect(body.error.message).toContain('64.0 KiB');
    expect(body.error.message).toContain(`MAX_UPLOAD_BYTES=${LIMIT}`);
    expect(bot.calls.some((c) => c.method === 'handleTurn')).toBe(false);
    expect((await postJson(`/api/conversations/${id}/turns`, { text: 'still there?' })).status).toBe(200);
  });

  it.each([
    ['a missing text', { nope: 1 }, /text/],
    ['a wrong type', { text: 42 }, /text: .*expected string/],
    ['an empty message', { text: '   ' }, /send some text, a file, or both/],
  ])('answers 400 for %s', async (_what, body, message) => {
    const id = await newConversation();
    const response = await postJson(`/api/conversations/${id}/turns`, body);
    expect(response.status).toBe(400);
    const json = (await response.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('INVALID_ARGUMENT');
    expect(json.error.message).toMatch(message);
  });

  it('answers 400 for malformed JSON and 415 for an unsupported body type', async () => {
    const id = await newConversation();
    const bad = await api(`/api/conversations/${id}/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/JSON/);
    const xml = await api(`/api/conversations/${id}/turns`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
  });

  it('names unknown multipart fields', async () => {
    const id = await newConversation();
    const form = new FormData();
    form.set('txt', 'typo');
    const response = await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('txt');
  });

  it('validates actions and passes them on', async () => {
    const id = await newConversation();
    const undo = await postJson(`/api/conversations/${id}/actions`, { action: 'undo' });
    expect(undo.status).toBe(200);
    expect(await undo.json()).toMatchObject({ botTurn: { text: 'Went back (undo).' } });

    const use = await postJson(`/api/conversations/${id}/actions`, { action: 'use' });
    expect(use.status).toBe(400);
    expect(((await use.json()) as { error: { message: string } }).error.message).toContain('mediaId');

    const wrong = await postJson(`/api/conversations/${id}/actions`, { action: 'explode' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toMatch(/action: .*undo/);
  });
});

describe('error mapping', () => {
  it.each([
    ['NotFoundError', undefined, 404, 'NOT_FOUND'],
    ['LimitReachedError', new LimitReachedError('You already have 2 jobs running.'), 429, 'LIMIT_REACHED'],
    ['StoreUnavailableError', new StoreUnavailableError(new Error('down')), 503, 'STORE_UNAVAILABLE'],
    ['a deserialized NOT_FOUND', new VitronError('NOT_FOUND', 'Job x was not found.'), 404, 'NOT_FOUND'],
  ])('maps %s', async (_name, error, status, code) => {
    if (error) bot.failNext = error;
    const response = await api('/api/conversations/does-not-exist');
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('hides the message of an unexpected error behind the request id', async () => {
    bot.failNext = new Error('secret stack detail');
    const response = await api('/api/conversations', { headers: { 'x-request-id': 'req-123' } });
    expect(response.status).toBe(500);
    expect(response.headers.get('x-request-id')).toBe('req-123');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).toContain('req-123');
    expect(body.error.message).not.toContain('secret');
  });

  it('answers unknown routes with the JSON error body', async () => {
    const response = await api('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for GET /api/nothing-here.' } });
  });
});

describe('jobs', () => {
  it('reads and cancels a job', async () => {
    const id = await newConversation();
    const form = new FormData();
    form.set('text', 'go');
    form.append('file', new Blob([new Uint8Array([1])]), 'x.png');
    const { job } = (await (await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form })).json()) as { job: { id: string } };
    expect(await (await api(`/api/jobs/${job.id}`)).json()).toMatchObject({ id: job.id, state: 'queued' });
    const cancelled = await api(`/api/jobs/${job.id}/cancel`, { method: 'POST' });
    expect(await cancelled.json()).toMatchObject({ state: 'cancelled' });
    expect((await api('/api/jobs/nope')).status).toBe(404);
  });
});

describe('media', () => {
  it('serves bytes with their type, immutable caching, downloads and ranges', async () => {
    const bytes = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));
    const view = bot.addMedia(bytes, 'video/mp4', 'result', { ordinal: 2 });

    const response = await api(view.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('cache-control')).toMatch(/immutable/);
    expect(response.headers.get('content-disposition')).toBeNull();
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);

    const download = await api(`${view.url}?download=1`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="vitron-result-2-${view.id}.mp4"`);
    await download.arrayBuffer();

    const head = await api(view.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('100');

    const range = await api(view.url, { headers: { range: 'bytes=10-19' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe('bytes 10-19/100');
    expect([...new Uint8Array(await range.arrayBuffer())]).toEqual(Array.from({ length: 10 }, (_, i) => i + 10));
  });

  it('answers 404 for unknown media', async () => {
    const response = await api('/api/media/unknown');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

describe('server-sent events', () => {
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    while (!done(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  }

  it('streams BotEvents, heartbeats, and unsubscribes when the client goes away', async () => {
    const id = await newConversation();
    const abort = new AbortController();
    const response = await api(`/api/conversations/${id}/events`, { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    await readUntil(reader, (t) => t.includes(': connected'));
    expect(bot.listenerCount(id)).toBe(1);

    const form = new FormData();
    form.set('text', 'cut');
    form.append('file', new Blob([new Uint8Array([1])]), 'x.png');
    const { job } = (await (await api(`/api/conversations/${id}/turns`, { method: 'POST', body: form })).json()) as { job: { id: string } };
    bot.progress(job.id, 0.5, 'cutting');
    bot.finish(job.id, 'Here it is.');

    const text = await readUntil(reader, (t) => t.includes('event: job.finished') && t.includes(': heartbeat'));
    const events = text
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => {
        const type = /^event: (.+)$/m.exec(block)![1];
        const data = JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as { type: string; job: { progress?: { note: string } } };
        expect(data.type).toBe(type);
        return data;
      });
    expect(events.map((e) => e.type)).toEqual(['job.queued', 'job.progress', 'job.finished']);
    expect(events[1]!.job.progress!.note).toBe('cutting');

    abort.abort();
    await bot.listenersReach(id, 0);
  });

  it('answers 404 before streaming for an unknown conversation', async () => {
    const response = await api('/api/conversations/nope/events');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/json/);
  });

  it('ends open streams when the server closes', async () => {
    const id = await newConversation();
    const response = await api(`/api/conversations/${id}/events`);
    const reader = response.body!.getReader();
    await reader.read();
    await server.close();
    // Read to the stream's end: it comes when the server ends it, however long that takes here.
    while (!(await reader.read()).done) {}
    expect(bot.listenerCount(id)).toBe(0);
    server = { url: server.url, close: async () => {} };
  });
});
