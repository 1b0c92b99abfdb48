import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationService } from '../../src/conversation/conversation-service.ts';
import { InvalidArgumentError, NotFoundError, NothingToRedoError, NothingToUndoError, UnresolvedReferenceError } from '../../src/errors.ts';
import type { StepOutput } from '../../src/conversation/references.ts';
import type { Database } from '../../src/store/database.ts';
import { availableBackends, uniqueName } from '../store/backends.ts';
import { facts, invocation } from '../store/fixtures.ts';

const backends = await availableBackends();

describe.each(backends)('ConversationService on $name', (backend) => {
  let db: Database;
  let service: ConversationService;

  beforeAll(async () => {
    db = await backend.open();
    service = new ConversationService(db.prisma);
  });
  afterAll(async () => {
    await db?.close();
    await backend.cleanup();
  });

  async function start() {
    const user = await service.identifyUser('discord', uniqueName('u'), 'Ann');
    const conversation = await service.startConversation({ platform: 'discord', externalId: uniqueName('thread'), userId: user.id });
    return { conversationId: conversation.id, user };
  }

  /** A user turn with an upload, as an adapter records it. */
  async function upload(conversationId: string, userId: string, kind: 'image' | 'video' = 'image') {
    const turn = await service.recordUserTurn(conversationId, userId, 'here you go');
    const media = await service.addUpload(conversationId, turn.id, { ...facts(kind), label: 'photo' });
    return { turn, media };
  }

  /** A finished edit job of `parentId`, as the worker records it. */
  async function edit(conversationId: string, userId: string, parentId: string, prompt = 'the dog') {
    const turn = await service.recordUserTurn(conversationId, userId, `remove ${prompt}`);
    const inv = invocation('remove', { phrase: prompt });
    const jobs = service.repositories.jobs;
    const job = await jobs.create({ conversationId, turnId: turn.id, userId, steps: [{ invocation: inv, targetIds: [parentId] }] });
    await jobs.markRunning(job.id);
    const mask = await service.addResult(conversationId, { ...facts('image'), jobId: job.id, parentId, invocation: inv, role: 'mask' });
    const result = await service.addResult(conversationId, { ...facts('image'), jobId: job.id, parentId, invocation: inv, role: 'result' });
    await jobs.succeed(job.id, { media: [result.id, mask.id] });
    return { turn, job, mask, result };
  }

  it('starts a conversation once per platform thread and finds it again', async () => {
    const thread = uniqueName('thread');
    const owner = uniqueName('u');
    const first = await service.startConversation({ platform: 'slack', externalId: thread, user: { externalId: owner, displayName: 'Bo' }, title: 'cats' });
    const again = await service.startConversation({ platform: 'slack', externalId: thread, user: { externalId: uniqueName('u') } });
    const user = await service.identifyUser('slack', owner);
    expect(user.displayName).toBe('Bo');
    expect(first).toMatchObject({ platform: 'slack', externalId: thread, ownerId: user.id, title: 'cats' });
    expect(again).toEqual(first);
    expect((await service.findByExternalId('slack', thread))?.id).toBe(first.id);
    expect(await service.findByExternalId('discord', thread)).toBeNull();
    expect((await service.listForOwner(user.id)).map((c) => c.id)).toEqual([first.id]);
  });

  it('makes an upload current, numbered, and known to the planner', async () => {
    const { conversationId, user } = await start();
    // Planned before it is stored: the attachment already counts, and will be "it".
    expect(await service.planContext(conversationId, ['image'])).toEqual({ attachments: ['image'], hasImage: true, hasVideo: false, currentKind: 'image' });
    const { media } = await upload(conversationId, user.id);
    expect(media).toMatchObject({ role: 'upload', ordinal: 1, label: 'photo', parentId: null });
    expect((await service.current(conversationId))?.id).toBe(media.id);
    expect(await service.planContext(conversationId, [])).toEqual({ attachments: [], hasImage: true, hasVideo: false, currentKind: 'image' });
  });

  it('makes a result current with its lineage, while masks stay beside it', async () => {
    const { conversationId, user } = await start();
    const { media: original } = await upload(conversationId, user.id);
    const { result, mask, job } = await edit(conversationId, user.id, original.id);
    expect(result).toMatchObject({
      role: 'result',
      ordinal: 2,
      parentId: original.id,
      jobId: job.id,
      invocation: { task: 'remove', args: { phrase: 'the dog' } },
    });
    expect(mask).toMatchObject({ role: 'mask', ordinal: null, parentId: original.id });
    expect((await service.current(conversationId))?.id).toBe(result.id);
  });

  it('undoes, redoes and reverts along the lineage, persisting the cursor', async () => {
    const { conversationId, user } = await start();
    const { media: a } = await upload(conversationId, user.id);
    const { result: b } = await edit(conversationId, user.id, a.id);
    const { result: c } = await edit(conversationId, user.id, b.id, 'the cat');

    const undone = await service.undo(conversationId);
    expect(undone).toMatchObject({ current: { id: b.id }, message: 'Back to the previous version (image #2).' });
    expect(await service.get(conversationId)).toMatchObject({ currentMediaId: b.id, redoStack: [c.id] });
    expect((await service.redo(conversationId)).current.id).toBe(c.id);
    await expect(service.redo(conversationId)).rejects.toBeInstanceOf(NothingToRedoError);

    const reverted = await service.revert(conversationId);
    expect(reverted).toMatchObject({ current: { id: a.id }, message: 'Back to the original (image #1).' });
    await expect(service.undo(conversationId)).rejects.toThrow(new NothingToUndoError('There is nothing to undo: this is the original image.'));
    expect((await service.redo(conversationId)).current.id).toBe(c.id);
  });

  it('branches when an edit follows an undo, and forgets the redo', async () => {
    const { conversationId, user } = await start();
    const { media: a } = await upload(conversationId, user.id);
    const { result: b } = await edit(conversationId, user.id, a.id);
    await service.undo(conversationId);
    const { result: sibling } = await edit(conversationId, user.id, a.id, 'the tree');
    expect(await service.get(conversationId)).toMatchObject({ currentMediaId: sibling.id, redoStack: [] });
    await expect(service.redo(conversationId)).rejects.toBeInstanceOf(NothingToRedoError);
    const children = (await service.listMedia(conversationId)).filter((m) => m.parentId === a.id && m.role === 'result');
    expect(children.map((m) => m.id)).toEqual([b.id, sibling.id]);
    expect((await service.undo(conversationId)).current.id).toBe(a.id);
  });

  it('continues from a chosen older version, and redo comes back', async () => {
    const { conversationId, user } = await start();
    const { media: a } = await upload(conversationId, user.id);
    const { result: b, mask } = await edit(conversationId, user.id, a.id);
    const { result: c } = await edit(conversationId, user.id, b.id);
    expect(await service.use(conversationId, a.id)).toMatchObject({
      current: { id: a.id },
      message: 'Continuing from image #1.',
      conversation: { redoStack: [c.id] },
    });
    expect((await service.redo(conversationId)).current.id).toBe(c.id);
    await expect(service.use(conversationId, mask.id)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(service.use(conversationId, 'missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('clears the redo stack on a new upload', async () => {
    const { conversationId, user } = await start();
    const { media: a } = await upload(conversationId, user.id);
    await edit(conversationId, user.id, a.id);
    await service.undo(conversationId);
    const { media: second } = await upload(conversationId, user.id);
    expect(await service.get(conversationId)).toMatchObject({ currentMediaId: second.id, redoStack: [] });
  });

  it('serialises undos that arrive together, each moving one step', async () => {
    const { conversationId, user } = await start();
    const chain = [(await upload(conversationId, user.id)).media];
    for (let i = 0; i < 4; i++) chain.push((await edit(conversationId, user.id, chain.at(-1)!.id)).result);
    const ids = chain.map((m) => m.id);
    const moves = await Promise.all(Array.from({ length: 4 }, () => service.undo(conversationId)));
    expect(moves.map((m) => m.current.id).sort()).toEqual(ids.slice(0, 4).sort());
    expect(await service.get(conversationId)).toMatchObject({ currentMediaId: ids[0], redoStack: ids.slice(1).reverse() });
  });

  it('resolves targets against the conversation, this turn and earlier steps', async () => {
    const { conversationId, user } = await start();
    const { media: a, turn: firstTurn } = await upload(conversationId, user.id);
    const { result: b } = await edit(conversationId, user.id, a.id);
    const { media: video, turn: videoTurn } = await upload(conversationId, user.id, 'video');
    const ids = async (refs: string[], steps: StepOutput[] = [], options: { turnId?: string } = {}) =>
      (await service.resolveTargets(conversationId, refs, steps, options)).map((m) => m.id);
    expect(await ids(['current', 'image:1', 'image:2', 'video:1', 'original'])).toEqual([video.id, a.id, b.id, video.id, video.id]);
    expect(await ids(['upload'], [], { turnId: firstTurn.id })).toEqual([a.id]);
    expect(await ids(['upload'])).toEqual([video.id]);
    expect(await ids(['step:0'], [b])).toEqual([b.id]);
    const wrongVideo = service.resolveTargets(conversationId, ['video:2']);
    await expect(wrongVideo).rejects.toBeInstanceOf(UnresolvedReferenceError);
    await expect(wrongVideo).rejects.toThrow('I only have 1 video in this conversation — which one do you mean?');
    await expect(
      service.resolveTargets(conversationId, ['upload'], [], { turnId: (await service.recordUserTurn(conversationId, user.id, 'no file')).id }),
    ).rejects.toBeInstanceOf(UnresolvedReferenceError);
    expect(videoTurn.seq).toBeGreaterThan(firstTurn.seq);
  });

  it('tells the planner that there is no video yet', async () => {
    const { conversationId, user } = await start();
    await upload(conversationId, user.id);
    await expect(service.resolveTargets(conversationId, ['video:last'])).rejects.toThrow('There is no video in this conversation yet — upload one?');
  });

  it('shows the history: turns in order with the media they brought or asked for', async () => {
    const { conversationId, user } = await start();
    const { turn: t1, media: a } = await upload(conversationId, user.id);
    const { turn: t2, result, mask } = await edit(conversationId, user.id, a.id);
    const placeholder = await service.recordBotTurn(conversationId, 'Working on it…');
    const reply = await service.repositories.turns.setText(placeholder.id, 'Done.');
    expect(reply).toMatchObject({ id: placeholder.id, seq: placeholder.seq, text: 'Done.' });
    const history = await service.history(conversationId);
    expect(history.map((h) => [h.turn.id, h.turn.author, h.media.map((m) => m.id)])).toEqual([
      [t1.id, 'user', [a.id]],
      [t2.id, 'user', [mask.id, result.id]],
      [reply.id, 'bot', []],
    ]);
    expect(history.map((h) => h.turn.text)).toEqual(['here you go', 'remove the dog', 'Done.']);
  });

  it('tells the planner about the last batch while only its pictures are worked on, and resolves batch:N', async () => {
    const { conversationId, user } = await start();
    const turn = await service.recordUserTurn(conversationId, user.id, 'draw three foxes');
    const draw = { task: 'generate_image' as const, targets: [], args: { prompt: 'foxes', count: 3, seed: 1 } };
    const jobs = service.repositories.jobs;
    const job = await jobs.create({ conversationId, turnId: turn.id, userId: user.id, steps: [{ invocation: draw, targetIds: [] }] });
    await jobs.markRunning(job.id);
    const pictures = [];
    for (const k of [0, 1, 2]) {
      pictures.push(
        await service.addResult(conversationId, { ...facts('image'), jobId: job.id, parentId: null, invocation: draw, role: 'result', current: k === 0 }),
      );
    }
    await service.addResult(conversationId, { ...facts('image'), jobId: job.id, parentId: null, invocation: draw, role: 'grid' });
    await jobs.succeed(job.id, { media: pictures.map((p) => p.id) });
    expect((await service.planContext(conversationId, [])).lastBatch).toBe(3);
    // An attachment is new media: "the second one" is no longer about the grid.
    expect((await service.planContext(conversationId, ['image'])).lastBatch).toBeUndefined();
    const [second] = await service.resolveTargets(conversationId, ['batch:2']);
    expect(second!.id).toBe(pictures[1]!.id);
    // "U2": an upscale of picture 2 keeps the grid live; an edit of something else ends it.
    const { result: upscaled } = await edit(conversationId, user.id, pictures[1]!.id);
    expect((await service.planContext(conversationId, [])).lastBatch).toBe(3);
    await edit(conversationId, user.id, upscaled.id);
    expect((await service.planContext(conversationId, [])).lastBatch).toBeUndefined();
  });

  it('remembers the invocations of the last successful job, for "do the same to the video"', async () => {
    const { conversationId, user } = await start();
    expect(await service.lastInvocations(conversationId)).toBeUndefined();
    const { media: a } = await upload(conversationId, user.id);
    await edit(conversationId, user.id, a.id, 'the first thing');
    const { result } = await edit(conversationId, user.id, a.id, 'the second thing');
    const failing = await service.repositories.jobs.create({
      conversationId,
      steps: [{ invocation: invocation('style', { prompt: 'x' }), targetIds: [result.id] }],
    });
    await service.repositories.jobs.fail(failing.id, { code: 'INTERNAL', message: 'boom' });
    const expected = [invocation('remove', { phrase: 'the second thing' })];
    expect(await service.lastInvocations(conversationId)).toEqual(expected);
    expect((await service.planContext(conversationId, ['video'])).lastInvocations).toEqual(expected);
  });

  it('refuses media and jobs of another conversation, and unknown conversations', async () => {
    const mine = await start();
    const theirs = await start();
    const { media: theirMedia } = await upload(theirs.conversationId, theirs.user.id);
    const theirJob = await service.repositories.jobs.create({ conversationId: theirs.conversationId, steps: [] });
    const { media: myMedia } = await upload(mine.conversationId, mine.user.id);
    const base = { ...facts('image'), invocation: invocation(), role: 'result' as const };
    await expect(service.addResult(mine.conversationId, { ...base, jobId: theirJob.id, parentId: myMedia.id })).rejects.toBeInstanceOf(NotFoundError);
    const myJob = await service.repositories.jobs.create({ conversationId: mine.conversationId, steps: [] });
    await expect(service.addResult(mine.conversationId, { ...base, jobId: myJob.id, parentId: theirMedia.id })).rejects.toBeInstanceOf(NotFoundError);
    expect((await service.current(mine.conversationId))?.id).toBe(myMedia.id);
    await expect(service.undo(uniqueName('nope'))).rejects.toBeInstanceOf(NotFoundError);
  });
});
