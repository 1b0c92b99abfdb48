/**
 * Fault: PostgreSQL restarts under a running bot. Requests during the outage get a clear "try again in a
 * moment" (503 over HTTP), nothing is half-written, and the same bot process serves again once the
 * server is back. Runs on a private PostgreSQL (test/helpers/postgres-instance.ts): the shared test server
 * serves other test files at the same time and must not be stopped.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { UserRef } from '../../src/app/bot-api.ts';
import { createBot, type RunningBot } from '../../src/app/create-bot.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import type { Planner } from '../../src/core/types.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import { BaselinePlanner } from '../../src/planner/baseline-planner.ts';
import { createBlobStore } from '../../src/media/blob-store-from-settings.ts';
import { sha256Hex } from '../../src/media/blob-store.ts';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import { EventRecorder } from '../helpers/bot-harness.ts';
import { scriptFault } from '../helpers/fault-scripts.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { startPostgresInstance, type PostgresInstance } from '../helpers/postgres-instance.ts';
import { requires } from '../helpers/prerequisites.ts';

const FAULT_THREAD = new URL('../helpers/fault-thread.ts', import.meta.url).href;
/** Starting and stopping a real server and running real jobs on a shared machine: room to be slow. */
const TIMEOUT = 180_000;

let server: PostgresInstance;
let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];

/** The bot's log, kept so a test can wait for what the bot did with an event nobody else sees. */
class LogRecorder {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: { match: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  readonly logger = pino({ level: 'info' }, { write: (text: string) => this.add(JSON.parse(text) as Record<string, unknown>) });

  private add(line: Record<string, unknown>): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(line)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  next(match: (line: Record<string, unknown>) => boolean): Promise<void> {
    if (this.lines.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

async function startBot(log: LogRecorder, options: { planner?: Planner } = {}): Promise<{ running: RunningBot; settings: Settings }> {
  const settings = loadSettings({ DATA_DIR: dir, DATABASE_URL: server.url, LOG_LEVEL: 'info', JOB_RETRY_BACKOFF_MS: '10' });
  const running = await createBot(settings, { logger: log.logger, threadEntry: FAULT_THREAD, ...(options.planner ? { planner: options.planner } : {}) });
  return { running, settings };
}

/** One query on a connection of its own (not the bot's); counts come back as numbers. */
async function sql(text: string, params: unknown[] = []): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(text, params);
    return Object.fromEntries(Object.entries(rows[0]!).map(([column, value]) => [column, Number(value)]));
  } finally {
    await client.end();
  }
}

const rowCounts = () =>
  sql(`SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM conversations) AS conversations,
              (SELECT count(*) FROM turns) AS turns, (SELECT count(*) FROM media) AS media, (SELECT count(*) FROM jobs) AS jobs`);

/** Jobs the bot's queue has seen succeed (its metrics count them as the queue reports them, stored or not). */
async function succeededJobs(running: RunningBot): Promise<number> {
  const outcomes = await running.metrics.registry.getSingleMetric('vitron_job_outcomes_total')!.get();
  return outcomes.values.filter((v) => v.labels.outcome === 'succeeded').reduce((sum, v) => sum + v.value, 0);
}

/** Waits for a condition that has no event of its own to wait for; the test's timeout bounds it. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** The playground API as a browser uses it: one cookie, multipart turns. */
function webClient(web: WebServer) {
  let cookie = '';
  const request = async (route: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(web.url + route, { ...init, headers });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0]!;
    return response;
  };
  return {
    request,
    get user(): UserRef {
      return { platform: 'web', externalId: cookie.split('=')[1]! };
    },
    async startConversation(): Promise<string> {
      const response = await request('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"outage"}' });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    },
    sendTurn(conversationId: string, text: string, image: Buffer) {
      const form = new FormData();
      form.append('text', text);
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'photo.png');
      return request(`/api/conversations/${conversationId}/turns`, { method: 'POST', body: form });
    },
  };
}

const outageMessage = () => new StoreUnavailableError(undefined).message;

(await requires('postgres-server-binaries')).describe('PostgreSQL restarted under a running bot (a private server)', () => {
  beforeAll(async () => {
    server = await startPostgresInstance();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pg-fault-'));
  }, TIMEOUT);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    // A test that failed mid-outage must not leave the next one without its server.
    await server?.start();
  });

  afterAll(async () => {
    await server?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers "try again in a moment" while it is down, writes nothing half, and serves again when it is back', { timeout: TIMEOUT }, async () => {
    const log = new LogRecorder();
    const { running, settings } = await startBot(log);
    cleanups.push(() => running.close());
    const web = await startWebServer({ bot: running.bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 16 * 1024 * 1024 } });
    cleanups.push(() => web.close());
    const browser = webClient(web);
    const conversationId = await browser.startConversation();
    const events = new EventRecorder();
    running.bot.subscribe(conversationId, events.listener);

    const first = await browser.sendTurn(conversationId, 'make it brighter', await solidImage(64, 48, '#3366cc'));
    expect(first.status).toBe(202);
    const firstJob = ((await first.json()) as { job: { id: string } }).job.id;
    expect((await events.next('job.finished', 0, (e) => e.job.id === firstJob)).job.state).toBe('succeeded');
    const before = await rowCounts();

    await server.stop('fast');

    // The bot's own API: a turn and a history read fail with the store's error, not Prisma's.
    const lostImage = await solidImage(64, 48, '#cc3366');
    const turn = running.bot.handleTurn({ conversationId, user: browser.user, text: 'make it black and white', files: [{ bytes: lostImage }] });
    await expect(turn).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(turn).rejects.toThrow(/try again in a moment/);
    await expect(running.bot.history(conversationId)).rejects.toBeInstanceOf(StoreUnavailableError);

    // Over HTTP: 503 with the same sentence, for a turn and for a read.
    const refused = await browser.sendTurn(conversationId, 'make it black and white', lostImage);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: outageMessage() } });
    const read = await browser.request(`/api/conversations/${conversationId}`);
    expect(read.status).toBe(503);
    expect(((await read.json()) as { error: { message: string } }).error.message).toBe(outageMessage());
    const health = await browser.request('/healthz');
    expect(health.status).toBe(503);
    expect(((await health.json()) as { store: { ok: boolean } }).store.ok).toBe(false);

    await server.start();

    // Nothing of the refused turns was written: no row in any table, and not their upload's bytes either.
    expect(await rowCounts()).toEqual(before);
    expect(await createBlobStore(settings).has(sha256Hex(lostImage))).toBe(false);

    // The same bot process (its pool reconnects) takes the next turn and runs its job to a result.
    const after = await browser.sendTurn(conversationId, 'make it black and white', await solidImage(64, 48, '#33cc66'));
    expect(after.status).toBe(202);
    const afterJob = ((await after.json()) as { job: { id: string } }).job.id;
    const finished = await events.next('job.finished', 0, (e) => e.job.id === afterJob);
    expect(finished.job.state).toBe('succeeded');
    expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('image');
    const history = (await (await browser.request(`/api/conversations/${conversationId}`)).json()) as { turns: { role: string; text: string }[] };
    expect(history.turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['make it brighter', 'make it black and white']);
    expect(await rowCounts()).toMatchObject({ jobs: before.jobs! + 1 });
  });

  it('a job that finishes while the server is down: its result is recorded once the server is back, by the same bot', { timeout: TIMEOUT }, async () => {
    const log = new LogRecorder();
    const { running } = await startBot(log);
    cleanups.push(() => running.close());
    const user: UserRef = { platform: 'test', externalId: `outage-${Date.now()}` };
    const conversation = await running.bot.startConversation({ user, title: 'finished during the outage' });
    const events = new EventRecorder();
    running.bot.subscribe(conversation.id, events.listener);

    const image = await solidImage(80, 60, '#5577aa');
    const release = await scriptFault(image, 'hold-result');
    cleanups.push(release);
    const turn = await running.bot.handleTurn({ conversationId: conversation.id, user, text: 'make it brighter', files: [{ bytes: image }] });
    const jobId = turn.job!.id;
    await events.next('job.progress', 0, (e) => e.job.id === jobId && e.job.state === 'running');

    await server.stop('fast');
    const succeededBefore = await succeededJobs(running);
    await release();
    // The queue has the result now, while nothing can be stored: the bot keeps the event and tries again.
    await until(async () => (await succeededJobs(running)) > succeededBefore);
    await log.next((line) => line.jobId === jobId && line.msg === 'the database is unavailable; handling this job event again shortly');
    expect(events.events.some((e) => e.type === 'job.finished' && e.job.id === jobId)).toBe(false);

    await server.start();

    const finished = await events.next('job.finished', 0, (e) => e.job.id === jobId);
    expect(finished.job.state).toBe('succeeded');
    expect(finished.turn.media.find((m) => m.role === 'result')?.kind).toBe('image');
    expect(await sql(`SELECT count(*) AS results FROM media WHERE job_id = $1 AND role = 'result'`, [jobId])).toEqual({ results: 1 });
    expect(await sql(`SELECT count(*) AS turns FROM turns WHERE conversation_id = $1 AND author = 'bot'`, [conversation.id])).toEqual({ turns: 1 });
    expect(log.lines.some((line) => line.jobId === jobId && line.msg === 'handling a job event failed')).toBe(false);
  });

  /*
   * The server goes away in the middle of a turn, after the bot has started writing it: here, while the
   * planner reads the words (the user's turn and upload are stored by then, the job is not). The user is
   * told to try again, so whatever the turn wrote before the outage must go too, or trying again leaves
   * the first attempt behind as a message with an image and no answer and no job.
   */
  it('a turn cut off half way by the outage leaves nothing of itself behind', { timeout: TIMEOUT }, async () => {
    const log = new LogRecorder();
    const planner = new BaselinePlanner();
    let cutNextTurn = false;
    const cutting: Planner = {
      name: 'cuts the server off',
      async plan(text, context) {
        if (cutNextTurn) await server.stop('fast');
        return planner.plan(text, context);
      },
    };
    const { running } = await startBot(log, { planner: cutting });
    cleanups.push(() => running.close());
    const user: UserRef = { platform: 'test', externalId: `cut-${Date.now()}` };
    const conversation = await running.bot.startConversation({ user, title: 'cut off' });
    const before = await sql(
      `SELECT (SELECT count(*) FROM turns WHERE conversation_id = $1) AS turns, (SELECT count(*) FROM media WHERE conversation_id = $1) AS media,
              (SELECT count(*) FROM jobs WHERE conversation_id = $1) AS jobs`,
      [conversation.id],
    );

    cutNextTurn = true;
    const turn = running.bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: 'make it brighter',
      files: [{ bytes: await solidImage(64, 48, '#118844') }],
    });
    await expect(turn).rejects.toBeInstanceOf(StoreUnavailableError);
    cutNextTurn = false;
    await server.start();

    const history = await running.bot.history(conversation.id);
    expect(history.turns.map((t) => `${t.role}: ${t.text}`)).toEqual([]);
    expect(
      await sql(
        `SELECT (SELECT count(*) FROM turns WHERE conversation_id = $1) AS turns, (SELECT count(*) FROM media WHERE conversation_id = $1) AS media,
                (SELECT count(*) FROM jobs WHERE conversation_id = $1) AS jobs`,
        [conversation.id],
      ),
    ).toEqual(before);
  });
});
