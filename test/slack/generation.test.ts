/**
 * Generated pictures in Slack, as Midjourney users expect them: a batch comes as its grid alone with
 * U1..Un / V1..Vn / Pick buttons that name the exact picture, Retry repeats the exact media with its
 * seed, a picture says its seed, and previews come throttled into the thread and are gone once the
 * result is there. The real adapter against the fake Slack; the core is a fake the test drives.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_DELETED } from '../fakes/slack/web-api-methods.ts';
import type { GenerationStack } from './generation-stack.ts';
import { startGenerationStack } from './generation-stack.ts';
import { buttonClick } from './payloads.ts';
import { blocksOf, buttonsOf, isResultMessage } from './slack-rig.ts';

const PREVIEW_INTERVAL_MS = 400;

let s: GenerationStack;
beforeAll(async () => {
  s = await startGenerationStack({ previewIntervalMs: PREVIEW_INTERVAL_MS });
});
afterAll(async () => {
  await s?.close();
});

/** A thread of its own for each test, with its conversation in the fake core. */
async function newThread(stack = s) {
  const channel = `C${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}`;
  const ts = stack.fake.nextTs();
  const conversationId = await stack.bot.threadConversation(channel, ts, stack.fake.teamId);
  return { channel, ts, conversationId };
}

/** What the bot shared in the thread: each file's name and bytes, oldest first. */
function sharedFiles(stack: GenerationStack, channel: string, ts: string): { name: string; text: string }[] {
  return stack.fake
    .thread(channel, ts)
    .flatMap((m) => m.files ?? [])
    .map((f) => ({ name: f.name, text: stack.fake.files.get(f.id)?.bytes.toString() ?? '(deleted)' }));
}

/** Uploads the adapter completed into the thread, with the name it gave each file (deleted ones too). */
function uploadsInThread(stack: GenerationStack, ts: string): { name: string; text: string }[] {
  return stack.fake
    .callsOf('files.completeUploadExternal')
    .filter((c) => c.args.thread_ts === ts)
    .flatMap((c) => JSON.parse(String(c.args.files)) as { id: string }[])
    .map(({ id }) => {
      const upload = stack.fake.uploads.get(id)!;
      return { name: upload.filename, text: upload.bytes?.toString() ?? '' };
    });
}

function calls(method: string, stack = s) {
  return stack.bot.calls.filter((c) => c.method === method).map((c) => c.args[0] as Record<string, unknown>);
}

/** Clicks a button of a message in the thread as user U1. */
async function click(thread: { channel: string; ts: string }, button: { action_id: string; value: string }, stack = s): Promise<void> {
  const messageTs = stack.fake.thread(thread.channel, thread.ts).at(-1)!.ts;
  await stack.fake.sendEnvelope('interactive', buttonClick(stack.fake, button, { channel: thread.channel, messageTs, threadTs: thread.ts }));
}

async function batchInThread(n = 4) {
  const thread = await newThread();
  const job = s.bot.startJob(thread.conversationId);
  const { pictures, grid } = s.bot.batch(n, { parentId: 'm-before' });
  s.bot.finish(job.id, `Here are ${n} variations.`, [...pictures, grid]);
  const message = await s.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === thread.ts && isResultMessage(a));
  return { ...thread, job, pictures, grid, buttons: buttonsOf(message.args), message };
}

describe('Slack: a batch as one grid with Midjourney buttons', () => {
  it('uploads the grid alone, with U1..U4 and V1..V4 naming each exact picture, Pick 1..4, Undo and Retry', async () => {
    const { channel, ts, pictures, grid, buttons, message, conversationId, job } = await batchInThread(4);

    expect(uploadsInThread(s, ts)).toHaveLength(1);
    expect(sharedFiles(s, channel, ts)).toEqual([{ name: expect.stringMatching(/^vitron-grid-/), text: 'grid of 4' }]);

    const ids = buttons.map((b) => b.action_id);
    expect(ids).toEqual([
      ...[1, 2, 3, 4].map((n) => `vitron:upscale:${n}`),
      ...[1, 2, 3, 4].map((n) => `vitron:vary:${n}`),
      ...[1, 2, 3, 4].map((n) => `vitron:pick:${n}`),
      'vitron:undo',
      'vitron:retry',
    ]);
    const labels = blocksOf(message.args)
      .filter((b) => b.type === 'actions')
      .map((b) => (b.elements ?? []).map((e) => (e.text as { text: string }).text));
    expect(labels).toEqual([
      ['U1', 'U2', 'U3', 'U4'],
      ['V1', 'V2', 'V3', 'V4'],
      ['Pick 1', 'Pick 2', 'Pick 3', 'Pick 4', 'Undo', '🔄 Retry'],
    ]);
    for (const [i, picture] of pictures.entries()) {
      for (const action of ['upscale', 'vary', 'pick']) {
        const value = JSON.parse(buttons.find((b) => b.action_id === `vitron:${action}:${i + 1}`)!.value);
        expect(value).toEqual({ c: conversationId, m: picture.id, j: job.id, n: i + 1, p: 'm-before' });
      }
    }
    // Retry and Undo act on the batch as a whole: its grid, and what it was made from.
    expect(JSON.parse(buttons.find((b) => b.action_id === 'vitron:retry')!.value)).toMatchObject({ m: grid.id, p: 'm-before' });

    // Every id and value within Slack's limits; the seeds of the batch under it.
    for (const block of blocksOf(message.args)) expect(((block as { block_id?: string }).block_id ?? '').length).toBeLessThanOrEqual(255);
    for (const b of buttons) expect(b.value.length).toBeLessThanOrEqual(2000);
    const context = blocksOf(message.args).find((b) => b.type === 'context')!;
    expect(context.elements![0]!.text).toBe('seeds 1000, 1001, 1002, 1003 · comfyui');
  });

  it('U2 upscales picture 2, V3 varies picture 3, Pick 4 continues from picture 4', async () => {
    const batch = await batchInThread(4);
    const press = async (actionId: string) => {
      const before = s.bot.calls.length;
      await click(batch, batch.buttons.find((b) => b.action_id === actionId)!);
      await s.bot.nextCall('act', before);
      if (!actionId.startsWith('vitron:pick')) await s.bot.nextCall('handleTurn', before);
      return s.bot.calls
        .slice(before)
        .filter((c) => c.method === 'act' || c.method === 'handleTurn')
        .map((c) => {
          const args = c.args[0] as { action?: string; mediaId?: string; text?: string };
          return c.method === 'act' ? `use ${args.mediaId}` : `say "${args.text}"`;
        });
    };
    const [, second, third, fourth] = batch.pictures;
    expect(await press('vitron:upscale:2')).toEqual([`use ${second!.id}`, 'say "upscale it"']);
    expect(await press('vitron:vary:3')).toEqual([`use ${third!.id}`, 'say "give me some variations"']);
    expect(await press('vitron:pick:4')).toEqual([`use ${fourth!.id}`]);
  });

  it('Retry on a grid repeats that exact batch (its grid), not the latest words', async () => {
    const batch = await batchInThread(2);
    const before = calls('repeat').length;
    const since = s.bot.calls.length;
    await click(batch, batch.buttons.find((b) => b.action_id === 'vitron:retry')!);
    await s.bot.nextCall('repeat', since);
    expect(calls('repeat')).toHaveLength(before + 1);
    expect(calls('repeat').at(-1)).toEqual({
      conversationId: batch.conversationId,
      user: { platform: 'slack', externalId: `${s.fake.teamId}:U1` },
      mediaId: batch.grid.id,
    });
  });
});

describe('Slack: a single generated picture', () => {
  it('says its seed and engine under it, and its Retry repeats that exact picture (same seed) instead of replaying the words', async () => {
    const thread = await newThread();
    const job = s.bot.startJob(thread.conversationId);
    const fox = s.bot.picture('a red fox', 123456);
    s.bot.finish(job.id, 'Here is a red fox in the snow.', [fox]);
    const message = await s.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === thread.ts && isResultMessage(a));

    const context = blocksOf(message.args).find((b) => b.type === 'context')!;
    expect(context.elements![0]!.text).toBe('seed 123456 · comfyui');
    const buttons = buttonsOf(message.args);
    expect(buttons.map((b) => b.action_id)).toContain('vitron:vary');

    const turnsBefore = calls('handleTurn').length;
    const since = s.bot.calls.length;
    await click(thread, buttons.find((b) => b.action_id === 'vitron:retry')!);
    await s.bot.nextCall('repeat', since);
    expect(calls('repeat').find((a) => a.mediaId === fox.id)).toMatchObject({ conversationId: thread.conversationId, mediaId: fox.id });
    expect(calls('handleTurn')).toHaveLength(turnsBefore);
  });
});

describe('Slack: previews while a picture is made', () => {
  const isPreview = (f: { name: string }) => f.name.startsWith('preview.');
  /** Waits for the adapter's `count`th preview upload into the thread: the Slack API call itself, not a clock. */
  const previewUploads = (ts: string, count: number) =>
    s.fake.waitForCalls(
      'files.completeUploadExternal',
      count,
      (args) =>
        args.thread_ts === ts && (JSON.parse(String(args.files)) as { id: string }[]).some(({ id }) => isPreview({ name: s.fake.uploads.get(id)!.filename })),
    );
  /** The bytes (as text) of every preview uploaded into the thread, deleted ones included. */
  const previewsUploaded = (ts: string) =>
    uploadsInThread(s, ts)
      .filter(isPreview)
      .map((u) => u.text);
  const previewTitles = (ts: string) =>
    s.fake
      .callsOf('files.completeUploadExternal')
      .filter((c) => c.args.thread_ts === ts)
      .flatMap((c) => JSON.parse(String(c.args.files)) as { title?: string }[])
      .map((f) => f.title)
      .filter((title) => title?.startsWith('Preview'));

  it('shows the first preview at once, then at most one per interval (the newest), and leaves none behind the result', async () => {
    const thread = await newThread();
    const job = s.bot.startJob(thread.conversationId);
    const first = await s.bot.storePreview(Buffer.from('preview step 1'));
    s.bot.step(job.id, 1, first);
    await previewUploads(thread.ts, 1);
    expect(uploadsInThread(s, thread.ts).filter(isPreview)).toHaveLength(1);

    // Three more inside one interval: only the newest is shown, once the interval is over.
    const burst = [await s.bot.storePreview(Buffer.from('preview step 2')), await s.bot.storePreview(Buffer.from('preview step 3'))];
    const newest = await s.bot.storePreview(Buffer.from('preview step 4'));
    s.bot.step(job.id, 2, burst[0]!);
    s.bot.step(job.id, 3, burst[1]!);
    const deletesBefore = s.fake.callsOf('files.delete').filter((c) => c.status === 200).length;
    s.bot.step(job.id, 4, newest);
    await previewUploads(thread.ts, 2);
    expect(uploadsInThread(s, thread.ts).filter(isPreview)).toHaveLength(2);
    // The newer one replaced the older: one preview in the thread at a time, message and file (the file goes last).
    await s.fake.waitForCalls('files.delete', deletesBefore + 1);
    expect(sharedFiles(s, thread.channel, thread.ts)).toEqual([{ name: 'preview.jpg', text: 'preview step 4' }]);
    await new Promise((resolve) => setTimeout(resolve, PREVIEW_INTERVAL_MS * 2));
    expect(previewsUploaded(thread.ts)).toEqual(['preview step 1', 'preview step 4']);
    expect(previewTitles(thread.ts)).toEqual(['Preview · step 1/10', 'Preview · step 4/10']);

    const fox = s.bot.picture('a red fox', 77);
    s.bot.finish(job.id, 'Here is a red fox in the snow.', [fox]);
    await s.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === thread.ts && isResultMessage(a));
    expect(sharedFiles(s, thread.channel, thread.ts)).toEqual([{ name: expect.stringMatching(/^vitron-result-/), text: 'picture a red fox 77' }]);
    expect(s.fake.thread(thread.channel, thread.ts).some((m) => m.text === FILE_DELETED)).toBe(false);
    expect([...s.fake.files.values()].some(isPreview)).toBe(false);
  });

  it('shows nothing more once the job has ended, also a preview that was waiting for its interval', async () => {
    const thread = await newThread();
    const job = s.bot.startJob(thread.conversationId);
    s.bot.step(job.id, 1, await s.bot.storePreview(Buffer.from('early')));
    await previewUploads(thread.ts, 1);
    expect(uploadsInThread(s, thread.ts).filter(isPreview)).toHaveLength(1);
    s.bot.step(job.id, 2, await s.bot.storePreview(Buffer.from('waiting')));
    s.bot.finish(job.id, 'Stopped.', []);
    await new Promise((resolve) => setTimeout(resolve, PREVIEW_INTERVAL_MS * 2));
    expect(previewsUploaded(thread.ts)).toEqual(['early']);
    expect(sharedFiles(s, thread.channel, thread.ts).filter(isPreview)).toEqual([]);
    expect(s.fake.thread(thread.channel, thread.ts).some((m) => m.text === FILE_DELETED)).toBe(false);
  });
});

describe('Slack: the safety gate decides per item of a batch', () => {
  let flagged: GenerationStack;
  beforeAll(async () => {
    flagged = await startGenerationStack({ env: { SAFETY: 'flag' } });
  });
  afterAll(async () => {
    await flagged?.close();
  });
  const NSFW = { nsfw: 0.97, flagged: true };

  it('a withheld grid: nothing uploaded, no buttons, the reason in the thread', async () => {
    const thread = await newThread(flagged);
    const job = flagged.bot.startJob(thread.conversationId);
    const { pictures, grid } = flagged.bot.batch(4, { gridSafety: NSFW });
    flagged.bot.finish(job.id, 'Here are 4 variations.', [...pictures, grid]);
    const reason = await flagged.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === thread.ts && String(a.text).includes('flagged as NSFW'));
    expect(String(reason.args.text).split('\n')[0]).toBe('Here are 4 variations.');
    expect(buttonsOf(reason.args)).toEqual([]);
    expect(uploadsInThread(flagged, thread.ts)).toEqual([]);
    expect(
      flagged.fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === thread.ts && buttonsOf(c.args).length > 0 && isResultMessage(c.args)),
    ).toEqual([]);
  });

  it('a withheld picture of a posted grid loses its buttons, and the others keep their grid numbers', async () => {
    const thread = await newThread(flagged);
    const job = flagged.bot.startJob(thread.conversationId);
    const { pictures, grid } = flagged.bot.batch(3);
    pictures[1]!.safety = NSFW;
    flagged.bot.finish(job.id, 'Here are 3 variations.', [...pictures, grid]);
    const message = await flagged.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === thread.ts && isResultMessage(a));
    const ids = buttonsOf(message.args).map((b) => b.action_id);
    expect(ids.filter((id) => /upscale|vary/.test(id))).toEqual(['vitron:upscale:1', 'vitron:upscale:3', 'vitron:vary:1', 'vitron:vary:3']);
    expect(String(message.args.text)).toContain('flagged as NSFW');
    expect(uploadsInThread(flagged, thread.ts).map((u) => u.text)).toEqual(['grid of 3']);
  });
});
