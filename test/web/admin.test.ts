import os from 'node:os';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { BullmqQueueAdmin } from '../../src/admin/bullmq-overview.ts';
import { InProcessQueueAdmin, OwnerTrackingQueue } from '../../src/admin/in-process-overview.ts';
import type { QueueAdmin, QueueOverview } from '../../src/admin/queue-overview.ts';
import { BullmqJobQueue } from '../../src/queue/bullmq-queue.ts';
import { InProcessQueue } from '../../src/queue/in-process-queue.ts';
import { queueNameOf } from '../../src/queue/lanes.ts';
import { LaneWorkers } from '../../src/worker/bullmq-worker.ts';
import { buildWebApp } from '../../adapters/web/server.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { TEST_REDIS_URL, describeWithRedis, dropPrefix, uniquePrefix } from '../queue/bullmq-redis.ts';
import { FakeBot } from './fake-bot.ts';

const TOKEN = 'admin-token-for-tests-0123456789';
const SETTINGS = { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 64 * 1024 };
const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A QueueAdmin with a fixed answer, so the route tests can spot any leak of it in a refusal. */
function stubAdmin(): QueueAdmin & { calls: number } {
  const overview: QueueOverview = {
    kind: 'in-process',
    at: new Date(0).toISOString(),
    lanes: [{ lane: 'in-process', paused: false, counts: { waiting: 2, prioritized: null, delayed: 0, active: 1, completed: 5, failed: 0 } }],
    users: [{ userId: 'secret-user-id', waiting: 2, running: 1 }],
    running: [],
    workers: [],
    truncated: false,
    notes: [],
  };
  return {
    kind: 'in-process',
    bullQueues: [],
    calls: 0,
    async overview() {
      this.calls++;
      return overview;
    },
    async close() {},
  };
}

async function webApp(admin?: { token: string; queues: QueueAdmin }): Promise<FastifyInstance> {
  const bot = new FakeBot();
  const { app } = await buildWebApp({ bot, settings: SETTINGS, ...(admin ? { admin } : {}) });
  cleanups.push(
    () => bot.close(),
    () => app.close(),
  );
  return app;
}

describe('admin routes without ADMIN_TOKEN', () => {
  it('do not exist', async () => {
    const app = await webApp();
    for (const url of ['/admin', '/admin/', '/admin/api/overview', '/admin/queues', `/admin?token=${TOKEN}`]) {
      const response = await app.inject({ url, headers: bearer() });
      expect(response.statusCode, url).toBe(404);
    }
  });
});

describe('admin routes with ADMIN_TOKEN', () => {
  it('refuse a missing or wrong token with 401 and no admin data', async () => {
    const queues = stubAdmin();
    const app = await webApp({ token: TOKEN, queues });
    const attempts = [
      {},
      bearer('wrong-token-of-some-length'),
      bearer(TOKEN.slice(0, -1)),
      bearer(`${TOKEN}x`),
      { authorization: TOKEN },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { cookie: 'vitron_admin=forged-session-value' },
      { cookie: `vitron_admin=${TOKEN}` },
    ];
    for (const headers of attempts) {
      for (const url of ['/admin', '/admin/api/overview']) {
        const response = await app.inject({ url, headers });
        expect(response.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(response.body).toContain('Admin token required');
        expect(response.body).not.toContain('secret-user-id');
      }
    }
    expect(queues.calls).toBe(0);
  });

  it('answers the overview JSON and the page to the bearer token', async () => {
    const app = await webApp({ token: TOKEN, queues: stubAdmin() });
    const overview = await app.inject({ url: '/admin/api/overview', headers: bearer() });
    expect(overview.statusCode).toBe(200);
    expect(overview.headers['cache-control']).toBe('no-store');
    expect(overview.json<QueueOverview>().users).toEqual([{ userId: 'secret-user-id', waiting: 2, running: 1 }]);

    const page = await app.inject({ url: '/admin', headers: bearer() });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('data-testid="admin-lanes"');
    expect(page.body).toContain('/admin/api/overview');
    expect(page.body).toContain('data-board="off"');
    // No Bull Board in-process.
    expect((await app.inject({ url: '/admin/queues', headers: bearer() })).statusCode).toBe(404);
  });

  it('trades ?token= on /admin for an HttpOnly SameSite=Strict cookie and strips it from the address', async () => {
    const app = await webApp({ token: TOKEN, queues: stubAdmin() });
    const wrong = await app.inject({ url: '/admin?token=wrong-token-of-some-length' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie'] ?? '').not.toContain('vitron_admin');
    // Only the page takes the token from the address.
    expect((await app.inject({ url: `/admin/api/overview?token=${TOKEN}` })).statusCode).toBe(401);

    const login = await app.inject({ url: `/admin?token=${encodeURIComponent(TOKEN)}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/admin');
    const setCookies = [login.headers['set-cookie'] ?? []].flat();
    const adminCookie = setCookies.find((c) => c.startsWith('vitron_admin='));
    expect(adminCookie).toBeDefined();
    expect(adminCookie).toMatch(/HttpOnly/);
    expect(adminCookie).toMatch(/SameSite=Strict/);
    expect(adminCookie).toMatch(/Path=\/admin/);
    expect(adminCookie).not.toContain(TOKEN);
    const cookie = adminCookie!.split(';')[0]!;

    expect((await app.inject({ url: '/admin', headers: { cookie } })).statusCode).toBe(200);
    const overview = await app.inject({ url: '/admin/api/overview', headers: { cookie } });
    expect(overview.statusCode).toBe(200);
    expect(overview.json<QueueOverview>().kind).toBe('in-process');

    // Another token makes the old browser session worthless.
    const other = await webApp({ token: `${TOKEN}-rotated`, queues: stubAdmin() });
    expect((await other.inject({ url: '/admin/api/overview', headers: { cookie } })).statusCode).toBe(401);
  });
});

describe('in-process overview', () => {
  it('counts jobs per state and per user from what the bot enqueued', async () => {
    type Payload = { steps: { invocation: { task: string } }[] };
    const gates = new Map<string, () => void>();
    const onStart = new Map<string, () => void>();
    /** Resolves when the queue starts running job `id` (its processor is called). */
    const started = (id: string) => new Promise<void>((resolve) => (gates.has(id) ? resolve() : onStart.set(id, resolve)));
    const processor = (job: { id: string }) =>
      new Promise<string>((resolve) => {
        gates.set(job.id, () => resolve(`done ${job.id}`));
        onStart.get(job.id)?.();
      });
    const inner = new InProcessQueue<Payload, string>(processor, {
      concurrency: 1,
      maxRunningPerUser: 1,
      maxActivePerUser: 10,
      maxAttempts: 1,
      backoffMs: 10,
      timeoutMs: 60_000,
    });
    const queue = new OwnerTrackingQueue(inner);
    cleanups.push(() => queue.close());
    const admin = new InProcessQueueAdmin(queue, { concurrency: 1 });
    const payload = (task: string): Payload => ({ steps: [{ invocation: { task } }] });

    await queue.enqueue({ id: 'a1', userId: 'alice', conversationId: 'c1', payload: payload('cutout') });
    await queue.enqueue({ id: 'a2', userId: 'alice', conversationId: 'c1', payload: payload('upscale') });
    await queue.enqueue({ id: 'b1', userId: 'bob', conversationId: 'c2', payload: payload('cutout') });

    let overview = await admin.overview();
    expect(overview.kind).toBe('in-process');
    expect(overview.lanes).toEqual([
      { lane: 'in-process', paused: false, counts: { waiting: 2, prioritized: null, delayed: 0, active: 1, completed: 0, failed: 0 } },
    ]);
    expect(overview.users).toEqual([
      { userId: 'alice', waiting: 1, running: 1 },
      { userId: 'bob', waiting: 1, running: 0 },
    ]);
    expect(overview.running).toMatchObject([{ id: 'a1', userId: 'alice', name: 'cutout', attempt: 1 }]);
    expect(overview.workers).toEqual([{ id: 'in-process', lane: 'in-process', name: 'inference pool', concurrency: 1, runningJobIds: ['a1'] }]);
    expect(inner.stats()).toEqual({ queued: 2, running: 1 });

    gates.get('a1')!();
    await started('b1');
    overview = await admin.overview();
    expect(overview.lanes[0]!.counts).toMatchObject({ waiting: 1, active: 1, completed: 1 });
    expect(overview.users).toEqual([
      { userId: 'alice', waiting: 1, running: 0 },
      { userId: 'bob', waiting: 0, running: 1 },
    ]);
    expect(await queue.cancel('a2')).toBe(true);
    expect((await admin.overview()).users).toEqual([{ userId: 'bob', waiting: 0, running: 1 }]);
    gates.get('b1')!();
  });

  it('is served by a real bot started with ADMIN_TOKEN', async () => {
    const test = await startTestBot({ ADMIN_TOKEN: TOKEN });
    cleanups.push(() => test.cleanup());
    const admin = test.running.admin;
    expect(admin?.kind).toBe('in-process');
    const { app } = await buildWebApp({ bot: test.running.bot, settings: SETTINGS, admin: { token: TOKEN, queues: admin! } });
    cleanups.push(() => app.close());

    expect((await app.inject({ url: '/admin/api/overview' })).statusCode).toBe(401);
    const response = await app.inject({ url: '/admin/api/overview', headers: bearer() });
    expect(response.statusCode).toBe(200);
    const overview = response.json<QueueOverview>();
    expect(overview).toMatchObject({ kind: 'in-process', users: [], running: [], truncated: false });
    expect(overview.lanes.map((l) => l.lane)).toEqual(['in-process']);
    expect(overview.workers[0]?.concurrency).toBeGreaterThan(0);
  });
});

describeWithRedis('BullMQ overview and Bull Board (real Redis)', () => {
  const LANES = ['image', 'video'] as const;
  type Payload = { lane: string; steps: { invocation: { task: string } }[] };
  const payload = (lane: string, ...tasks: string[]): Payload => ({ lane, steps: tasks.map((task) => ({ invocation: { task } })) });

  async function setup() {
    const prefix = uniquePrefix();
    cleanups.push(() => dropPrefix(prefix, LANES));
    const queue = new BullmqJobQueue<Payload, string>({
      redisUrl: TEST_REDIS_URL,
      prefix,
      lanes: LANES,
      laneOf: (p) => p.lane,
      jobName: (p) => p.steps.map((s) => s.invocation.task).join('+'),
      maxActivePerUser: 10,
      maxAttempts: 2,
      backoffMs: 10,
      timeoutMs: 60_000,
    });
    cleanups.push(() => queue.close());
    await queue.ready();
    const admin = new BullmqQueueAdmin({ redisUrl: TEST_REDIS_URL, prefix, lanes: LANES });
    cleanups.push(() => admin.close());
    await admin.ready();
    return { prefix, queue, admin };
  }

  it('counts jobs per lane, state and user, with no worker running', async () => {
    const { queue, admin } = await setup();
    await queue.enqueue({ id: 'a1', userId: 'alice', conversationId: 'c1', payload: payload('image', 'cutout') });
    await queue.enqueue({ id: 'a2', userId: 'alice', conversationId: 'c1', payload: payload('image', 'upscale', 'cutout') });
    await queue.enqueue({ id: 'a3', userId: 'alice', conversationId: 'c1', payload: payload('video', 'trim') });
    await queue.enqueue({ id: 'b1', userId: 'bob', conversationId: 'c2', payload: payload('image', 'cutout') });
    // A job backing off after a failure sits in "delayed".
    await admin.bullQueues[0]!.add(
      'cutout',
      { userId: 'bob', conversationId: 'c2', payload: payload('image', 'cutout'), timeoutMs: 1000, attemptOffset: 0 },
      { jobId: 'b2', delay: 60_000 },
    );

    const overview = await admin.overview();
    expect(overview.kind).toBe('bullmq');
    const image = overview.lanes.find((l) => l.lane === 'image')!;
    const video = overview.lanes.find((l) => l.lane === 'video')!;
    // Every job carries a priority (per-user fairness), so BullMQ files them as "prioritized".
    expect(image).toMatchObject({ queue: 'jobs-image', paused: false, counts: { waiting: 0, prioritized: 3, delayed: 1, active: 0, completed: 0, failed: 0 } });
    expect(video.counts).toMatchObject({ prioritized: 1, active: 0 });
    expect(overview.users).toEqual([
      { userId: 'alice', waiting: 3, running: 0 },
      { userId: 'bob', waiting: 2, running: 0 },
    ]);
    expect(overview.running).toEqual([]);
    expect(overview.workers).toEqual([]);
    expect(overview.truncated).toBe(false);

    // The sample bound is honoured and said.
    const small = new BullmqQueueAdmin({ redisUrl: TEST_REDIS_URL, prefix: admin.bullQueues[0]!.opts.prefix!, lanes: LANES, sampleLimit: 1 });
    cleanups.push(() => small.close());
    const sampled = await small.overview();
    expect(sampled.truncated).toBe(true);
    expect(sampled.notes.join(' ')).toMatch(/first 1 jobs/);
    expect(sampled.lanes.find((l) => l.lane === 'image')!.counts.prioritized).toBe(3);

    await admin.bullQueues[0]!.pause();
    expect((await admin.overview()).lanes.find((l) => l.lane === 'image')!.paused).toBe(true);
  });

  it('lists connected workers and the jobs they run', async () => {
    const { prefix, queue, admin } = await setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    let firstStarted!: () => void;
    const oneStarted = new Promise<void>((resolve) => (firstStarted = resolve));
    const workers = await LaneWorkers.start<Payload, string>({
      redisUrl: TEST_REDIS_URL,
      prefix,
      lanes: ['image'],
      concurrency: 1,
      processorFor: () => async (job) => {
        started.push(job.id);
        firstStarted();
        await held;
        return 'done';
      },
    });
    cleanups.push(() => workers.close());
    cleanups.push(() => release());

    await queue.enqueue({ id: 'a1', userId: 'alice', conversationId: 'c1', payload: payload('image', 'cutout') });
    await queue.enqueue({ id: 'b1', userId: 'bob', conversationId: 'c2', payload: payload('image', 'upscale') });
    await oneStarted;
    expect(started).toHaveLength(1);

    const overview = await admin.overview();
    const image = overview.lanes.find((l) => l.lane === 'image')!;
    expect(image.counts).toMatchObject({ active: 1, prioritized: 1 });
    expect(overview.running).toHaveLength(1);
    expect(overview.running[0]).toMatchObject({ id: started[0], lane: 'image', attempt: 1 });
    expect(overview.running[0]!.startedAt).toBeDefined();
    const runner = overview.running[0]!.userId;
    expect(overview.users.find((u) => u.userId === runner)).toMatchObject({ running: 1, waiting: 0 });
    expect(overview.users).toHaveLength(2);

    // Our LaneWorkers name themselves host:pid:lane, so the overview matches the worker to its job.
    const imageWorkers = overview.workers.filter((w) => w.lane === 'image');
    expect(imageWorkers).toHaveLength(1);
    expect(imageWorkers[0]).toMatchObject({ lane: 'image', name: `${os.hostname()}:${process.pid}:image`, runningJobIds: [started[0]] });
    expect(imageWorkers[0]!.addr).toMatch(/:\d+$/);
    expect(overview.workers.filter((w) => w.lane === 'video')).toEqual([]);
    expect(overview.running[0]).toMatchObject({ worker: `${os.hostname()}:${process.pid}:image` });

    // A worker with a name is matched to its jobs (BullMQ records it as the job's processedBy).
    const named = new Worker(
      queueNameOf('video'),
      async () => {
        await held;
        return 'done';
      },
      { connection: { url: TEST_REDIS_URL, maxRetriesPerRequest: null }, prefix, name: 'gpu-box-1' },
    );
    cleanups.push(() => named.close());
    // Closing a worker waits for its job: the hold must end first, even when the test fails early.
    cleanups.push(() => release());
    await named.waitUntilReady();
    // BullMQ records the job as active, processed by this worker, before the worker emits 'active' for it.
    const v1Active = new Promise<void>((resolve) => named.once('active', () => resolve()));
    await queue.enqueue({ id: 'v1', userId: 'carol', conversationId: 'c3', payload: payload('video', 'trim') });
    await v1Active;
    const withNamed = await admin.overview();
    expect(withNamed.workers.find((w) => w.lane === 'video')).toMatchObject({ name: 'gpu-box-1', runningJobIds: ['v1'] });
    expect(withNamed.running.find((j) => j.id === 'v1')).toMatchObject({ worker: 'gpu-box-1', userId: 'carol', name: 'trim' });

    release();
    // No event here says BullMQ has recorded both completions in Redis (our processor returns before it
    // does), so this polls the overview, with a timeout a loaded machine does not run out of.
    await expect.poll(async () => (await admin.overview()).lanes.find((l) => l.lane === 'image')!.counts.completed, { timeout: 60_000 }).toBe(2);
  });

  it('is opened by a bot started with REDIS_URL and ADMIN_TOKEN', async () => {
    const prefix = uniquePrefix();
    cleanups.push(() => dropPrefix(prefix, LANES));
    const test = await startTestBot({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, RUN_WORKER: 'false', ADMIN_TOKEN: TOKEN });
    cleanups.push(() => test.cleanup());
    const admin = test.running.admin!;
    expect(admin.kind).toBe('bullmq');
    expect(admin.bullQueues.map((q) => q.opts.prefix)).toEqual([prefix, prefix]);
    const { app } = await buildWebApp({ bot: test.running.bot, settings: SETTINGS, admin: { token: TOKEN, queues: admin } });
    cleanups.push(() => app.close());
    const overview = (await app.inject({ url: '/admin/api/overview', headers: bearer() })).json<QueueOverview>();
    expect(overview.lanes.map((l) => l.queue)).toEqual(['jobs-image', 'jobs-video']);
    expect(overview.workers).toEqual([]);
    expect((await app.inject({ url: '/admin/queues/api/queues', headers: bearer() })).statusCode).toBe(200);
  });

  it('mounts Bull Board at /admin/queues behind the token', async () => {
    const { admin, queue } = await setup();
    await queue.enqueue({ id: 'a1', userId: 'alice', conversationId: 'c1', payload: payload('image', 'cutout') });
    const app = await webApp({ token: TOKEN, queues: admin });

    for (const url of ['/admin/queues', '/admin/queues/api/queues']) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
      expect((await app.inject({ url, headers: bearer('wrong-token-of-some-length') })).statusCode, url).toBe(401);
    }

    const page = await app.inject({ url: '/admin', headers: bearer() });
    expect(page.body).toContain('data-board="on"');

    const board = await app.inject({ url: '/admin/queues', headers: bearer() });
    expect(board.statusCode).toBe(200);
    expect(board.headers['content-type']).toMatch(/^text\/html/);
    expect(board.body).toContain('id="root"');
    expect(board.body).toContain('<base href="/admin/queues/"');

    const api = await app.inject({ url: '/admin/queues/api/queues', headers: bearer() });
    expect(api.statusCode).toBe(200);
    const queues = api.json<{ queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean }[] }>().queues;
    expect(queues.map((q) => q.name).sort()).toEqual(['jobs-image', 'jobs-video']);
    expect(queues.find((q) => q.name === 'jobs-image')!.counts.prioritized).toBe(1);
    expect(queues.every((q) => !q.readOnlyMode)).toBe(true);

    // The browser's session cookie authorises the board's own page, scripts and API calls.
    const login = await app.inject({ url: `/admin?token=${TOKEN}` });
    const cookie = [login.headers['set-cookie'] ?? []]
      .flat()
      .find((c) => c.startsWith('vitron_admin='))!
      .split(';')[0]!;
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(board.body)?.[1];
    expect(script).toBeDefined();
    expect((await app.inject({ url: `/admin/queues/${script}` })).statusCode).toBe(401);
    expect((await app.inject({ url: `/admin/queues/${script}`, headers: { cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/admin/queues/api/queues', headers: { cookie } })).statusCode).toBe(200);
  });
});
