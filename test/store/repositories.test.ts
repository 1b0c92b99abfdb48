import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.ts';
import type { Database } from '../../src/store/database.ts';
import { createRepositories, type Repositories } from '../../src/store/repositories.ts';
import { availableBackends, uniqueName } from './backends.ts';
import { facts, invocation } from './fixtures.ts';

const backends = await availableBackends();

describe.each(backends)('repositories on $name', (backend) => {
  let db: Database;
  let repos: Repositories;

  beforeAll(async () => {
    db = await backend.open();
    repos = createRepositories(db.prisma);
  });
  afterAll(async () => {
    await db?.close();
    await backend.cleanup();
  });

  async function newConversation() {
    const user = await repos.users.getOrCreate({ platform: 'web', externalId: uniqueName('user') });
    const { conversation } = await repos.conversations.create({ platform: 'web', ownerId: user.id });
    return { user, conversation };
  }

  describe('users', () => {
    it('finds the same user again by platform and external id, and keeps the display name current', async () => {
      const externalId = uniqueName('u');
      const first = await repos.users.getOrCreate({ platform: 'discord', externalId, displayName: 'Ann' });
      const again = await repos.users.getOrCreate({ platform: 'discord', externalId, displayName: 'Annie' });
      const unchanged = await repos.users.getOrCreate({ platform: 'discord', externalId });
      const elsewhere = await repos.users.getOrCreate({ platform: 'slack', externalId });
      expect(again.id).toBe(first.id);
      expect(again.displayName).toBe('Annie');
      expect(unchanged.displayName).toBe('Annie');
      expect(elsewhere.id).not.toBe(first.id);
    });

    it('creates one user when the first messages arrive together', async () => {
      const externalId = uniqueName('u');
      const users = await Promise.all(Array.from({ length: 5 }, () => repos.users.getOrCreate({ platform: 'web', externalId })));
      expect(new Set(users.map((u) => u.id)).size).toBe(1);
    });

    it('reports an unknown user as not found', async () => {
      await expect(repos.users.get('nope')).rejects.toBeInstanceOf(NotFoundError);
      expect(await repos.users.find('nope')).toBeNull();
    });
  });

  describe('conversations', () => {
    it('is unique per platform external id, and any number may have none', async () => {
      const thread = uniqueName('thread');
      const a = await repos.conversations.create({ platform: 'discord', externalId: thread, title: 'cats' });
      const b = await repos.conversations.create({ platform: 'discord', externalId: thread });
      const other = await repos.conversations.create({ platform: 'slack', externalId: thread });
      const loose1 = await repos.conversations.create({ platform: 'discord' });
      const loose2 = await repos.conversations.create({ platform: 'discord' });
      expect(a.created).toBe(true);
      expect(b).toEqual({ conversation: a.conversation, created: false });
      expect(other.conversation.id).not.toBe(a.conversation.id);
      expect(loose1.conversation.id).not.toBe(loose2.conversation.id);
      expect(await repos.conversations.findByExternalId('discord', thread)).toEqual(a.conversation);
      expect(await repos.conversations.findByExternalId('discord', uniqueName('none'))).toBeNull();
      expect(a.conversation).toMatchObject({ platform: 'discord', title: 'cats', currentMediaId: null, redoStack: [] });
    });

    it('creates one conversation when two messages of a new thread race', async () => {
      const thread = uniqueName('thread');
      const results = await Promise.all([1, 2, 3].map(() => repos.conversations.create({ platform: 'slack', externalId: thread })));
      expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
    });

    it('lists an owner’s conversations, most recently active first', async () => {
      const { user, conversation: older } = await newConversation();
      const { conversation: newer } = await repos.conversations.create({ platform: 'web', ownerId: user.id });
      await repos.conversations.setTitle(older.id, 'touched last');
      const listed = await repos.conversations.listForOwner(user.id);
      expect(listed.map((c) => c.id)).toEqual([older.id, newer.id]);
    });

    it('reports an unknown conversation as not found', async () => {
      await expect(repos.conversations.get(uniqueName('c'))).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('turns', () => {
    it('numbers turns 1, 2, 3 … per conversation, also when they arrive together', async () => {
      const { user, conversation } = await newConversation();
      const { conversation: other } = await newConversation();
      const first = await repos.turns.add({ conversationId: conversation.id, author: 'user', userId: user.id, text: 'hi' });
      await repos.turns.add({ conversationId: other.id, author: 'bot', text: 'elsewhere' });
      const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => repos.turns.add({ conversationId: conversation.id, author: 'bot', text: `r${i}` })));
      expect(first).toMatchObject({ seq: 1, author: 'user', userId: user.id, text: 'hi' });
      expect(burst.map((t) => t.seq).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      const listed = await repos.turns.list(conversation.id);
      expect(listed.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await repos.turns.list(conversation.id, 2)).map((t) => t.seq)).toEqual([8, 9]);
      expect((await repos.turns.list(other.id)).map((t) => t.seq)).toEqual([1]);
    });
  });

  describe('media', () => {
    it('numbers user-facing media per kind and leaves masks unnumbered', async () => {
      const { conversation } = await newConversation();
      const add = (kind: 'image' | 'video', role: 'upload' | 'result' | 'mask' | 'frame') =>
        repos.media.add({ ...facts(kind), conversationId: conversation.id, role });
      const image1 = await add('image', 'upload');
      const video1 = await add('video', 'upload');
      const mask = await add('image', 'mask');
      const image2 = await add('image', 'result');
      const frame = await add('image', 'frame');
      expect([image1.ordinal, video1.ordinal, mask.ordinal, image2.ordinal, frame.ordinal]).toEqual([1, 1, null, 2, 3]);
      expect((await repos.media.listForConversation(conversation.id)).map((m) => m.id)).toEqual([image1.id, video1.id, mask.id, image2.id, frame.id]);
    });

    it('gives media added at the same moment distinct ordinals', async () => {
      const { conversation } = await newConversation();
      const added = await Promise.all(Array.from({ length: 6 }, () => repos.media.add({ ...facts('image'), conversationId: conversation.id, role: 'upload' })));
      expect(added.map((m) => m.ordinal).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('keeps every fact and the lineage as given, and leaves unknown facts out', async () => {
      const { conversation } = await newConversation();
      const job = await repos.jobs.create({ conversationId: conversation.id, steps: [] });
      const upload = await repos.media.add({ ...facts('video', { bytes: 5_000_000_000 }), conversationId: conversation.id, role: 'upload', label: 'clip.mp4' });
      const result = await repos.media.add({
        ...facts('image'),
        conversationId: conversation.id,
        role: 'result',
        parentId: upload.id,
        jobId: job.id,
        invocation: invocation('extract_frame', { at: 1.5 }),
      });
      expect(await repos.media.get(upload.id)).toMatchObject({
        kind: 'video',
        bytes: 5_000_000_000,
        durationSec: 2.5,
        fps: 24,
        frameCount: 60,
        hasAudio: false,
        label: 'clip.mp4',
        parentId: null,
        jobId: null,
        invocation: null,
      });
      const stored = await repos.media.get(result.id);
      expect(stored).toMatchObject({ parentId: upload.id, jobId: job.id, invocation: { task: 'extract_frame', targets: ['current'], args: { at: 1.5 } } });
      expect('durationSec' in stored || 'fps' in stored || 'hasAudio' in stored).toBe(false);
      expect((await repos.media.listForJob(job.id)).map((m) => m.id)).toEqual([result.id]);
      await expect(repos.media.get('missing')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('jobs', () => {
    async function newJob() {
      const { user, conversation } = await newConversation();
      const job = await repos.jobs.create({ conversationId: conversation.id, userId: user.id, steps: [{ invocation: invocation(), targetIds: ['m1'] }] });
      return { user, conversation, job };
    }

    it('runs queued → running → succeeded, counting attempts and keeping progress and result', async () => {
      const { job } = await newJob();
      expect(job).toMatchObject({ state: 'queued', attempts: 0, progress: { fraction: 0, note: null }, error: null, result: null, startedAt: null });
      expect(job.steps).toEqual([{ invocation: invocation(), targetIds: ['m1'] }]);
      const running = await repos.jobs.markRunning(job.id);
      expect(running).toMatchObject({ state: 'running', attempts: 1 });
      expect(running!.startedAt).toBeInstanceOf(Date);
      expect(await repos.jobs.markRunning(job.id)).toBeNull();
      expect(await repos.jobs.progress(job.id, 1.7, 'segmenting')).toBe(true);
      expect((await repos.jobs.get(job.id)).progress).toEqual({ fraction: 1, note: 'segmenting' });
      const done = await repos.jobs.succeed(job.id, { text: 'a dog', boxes: [[1, 2, 3, 4]] });
      expect(done).toMatchObject({ state: 'succeeded', result: { text: 'a dog', boxes: [[1, 2, 3, 4]] }, progress: { fraction: 1 } });
      expect(done!.finishedAt).toBeInstanceOf(Date);
      expect(await repos.jobs.progress(job.id, 0.5)).toBe(false);
      expect(await repos.jobs.fail(job.id, { code: 'INTERNAL', message: 'late' })).toBeNull();
      expect((await repos.jobs.get(job.id)).state).toBe('succeeded');
    });

    it('lets exactly one of two workers claim a job', async () => {
      const { job } = await newJob();
      const claims = await Promise.all([repos.jobs.markRunning(job.id), repos.jobs.markRunning(job.id)]);
      expect(claims.filter((c) => c !== null)).toHaveLength(1);
      expect((await repos.jobs.get(job.id)).attempts).toBe(1);
    });

    it('records failures and cancellations, which are final', async () => {
      const { conversation } = await newJob();
      const a = await repos.jobs.create({ conversationId: conversation.id, steps: [] });
      const b = await repos.jobs.create({ conversationId: conversation.id, steps: [] });
      expect(await repos.jobs.fail(a.id, { code: 'MEDIA_CORRUPT', message: 'broken file' })).toMatchObject({
        state: 'failed',
        error: { code: 'MEDIA_CORRUPT', message: 'broken file' },
      });
      expect(await repos.jobs.cancel(b.id)).toMatchObject({ state: 'cancelled', error: { code: 'JOB_CANCELLED' } });
      expect(await repos.jobs.markRunning(b.id)).toBeNull();
      expect(await repos.jobs.cancel(a.id)).toBeNull();
      await expect(repos.jobs.cancel('missing')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('finds unfinished jobs for recovery, interrupts running ones and re-queues them', async () => {
      const { job: running, conversation } = await newJob();
      const queued = await repos.jobs.create({ conversationId: conversation.id, steps: [] });
      const finished = await repos.jobs.create({ conversationId: conversation.id, steps: [] });
      await repos.jobs.markRunning(running.id);
      await repos.jobs.cancel(finished.id);
      const mine = (jobs: { id: string }[]) => jobs.map((j) => j.id).filter((id) => [running.id, queued.id, finished.id].includes(id));
      expect(mine(await repos.jobs.findUnfinished()).sort()).toEqual([running.id, queued.id].sort());
      const interrupted = await repos.jobs.interruptRunning();
      expect(interrupted.find((j) => j.id === running.id)).toMatchObject({ state: 'interrupted', error: { code: 'JOB_INTERRUPTED' } });
      expect(mine(await repos.jobs.findUnfinished())).toEqual([queued.id]);
      expect(mine(await repos.jobs.listInterrupted())).toEqual([running.id]);
      expect(await repos.jobs.requeue(running.id)).toMatchObject({ state: 'queued', finishedAt: null });
      expect(await repos.jobs.markRunning(running.id)).toMatchObject({ state: 'running', attempts: 2 });
      expect(mine(await repos.jobs.listInterrupted())).toEqual([]);
      expect(await repos.jobs.requeue(queued.id)).toBeNull();
    });

    it('lists a conversation’s jobs newest first, finds the last success and counts a user’s unfinished jobs', async () => {
      const { conversation, user, job: first } = await newJob();
      const second = await repos.jobs.create({ conversationId: conversation.id, userId: user.id, steps: [] });
      const third = await repos.jobs.create({ conversationId: conversation.id, userId: user.id, steps: [] });
      expect(await repos.jobs.lastSucceeded(conversation.id)).toBeNull();
      await repos.jobs.markRunning(first.id);
      await repos.jobs.succeed(first.id, null);
      await repos.jobs.markRunning(second.id);
      expect((await repos.jobs.listForConversation(conversation.id)).map((j) => j.id)).toEqual([third.id, second.id, first.id]);
      expect((await repos.jobs.lastSucceeded(conversation.id))?.id).toBe(first.id);
      expect(await repos.jobs.countUnfinishedForUser(user.id)).toEqual({ queued: 1, running: 1 });
    });
  });
});
