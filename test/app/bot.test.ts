import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRef } from '../../src/app/bot-api.ts';
import type { Bot } from '../../src/app/bot.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { SYSTEM_FFMPEG, decompressionBombPng, makeClip } from '../helpers/media-fixtures.ts';

let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  harness = await startTestBot();
  bot = harness.running.bot;
});

afterAll(async () => {
  await harness?.cleanup();
});

async function conversation(title: string): Promise<{ id: string; user: UserRef; events: EventRecorder }> {
  const user = testUser();
  const view = await bot.startConversation({ user, title });
  const events = new EventRecorder();
  bot.subscribe(view.id, events.listener);
  return { id: view.id, user, events };
}

const bluePng = () =>
  sharp({ create: { width: 200, height: 120, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();

async function pixel(bytes: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + info.channels)];
}

async function mediaBytes(id: string): Promise<Buffer> {
  return fs.readFile((await bot.media(id)).path);
}

describe('a turn through the whole path', () => {
  it('runs a chain on an uploaded image, records lineage, and undoes step by step', async () => {
    const c = await conversation('chain');
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'crop it to a square and make it black and white',
      files: [{ name: 'blue.png', bytes: await bluePng() }],
    });
    expect(turn.userTurn.media).toHaveLength(1);
    expect(turn.userTurn.media[0]).toMatchObject({ kind: 'image', role: 'upload', ordinal: 1, width: 200, height: 120 });
    expect(turn.job?.tasks).toEqual(['transform', 'adjust']);

    const finished = await c.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    const result = finished.turn.media.find((m) => m.role === 'result')!;
    expect(result).toMatchObject({ width: 120, height: 120, ordinal: 3 });
    const [r, g, b] = await pixel(await mediaBytes(result.id), 60, 60);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expect(finished.turn.media.some((m) => m.role === 'comparison')).toBe(true);
    expect(c.events.events.some((e) => e.type === 'job.progress' && e.job.progress?.step === 2)).toBe(true);

    // Lineage: result ← cropped ← upload.
    const cropped = await bot.media(result.parentId!);
    expect(cropped.view).toMatchObject({ width: 120, height: 120, ordinal: 2 });
    expect(cropped.view.parentId).toBe(turn.userTurn.media[0]!.id);

    let history = await bot.history(c.id);
    expect(history.currentMediaId).toBe(result.id);
    expect(history.canUndo).toBe(true);

    expect((await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'undo', files: [] })).botTurn?.text).toMatch(/image #2/);
    expect((await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'undo that', files: [] })).botTurn?.text).toMatch(/image #1/);
    expect((await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'undo', files: [] })).botTurn?.text).toMatch(/nothing to undo/i);
    expect((await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'redo', files: [] })).botTurn?.text).toMatch(/image #2/);
    history = await bot.history(c.id);
    expect(history.currentMediaId).toBe(cropped.view.id);
    expect(history.canRedo).toBe(true);
  });

  it('keeps going on the current result in the next turn ("now rotate it")', async () => {
    const c = await conversation('follow-up');
    const first = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it brighter', files: [{ bytes: await bluePng() }] });
    const brighter = (await c.events.finished(first)).turn.media.find((m) => m.role === 'result')!;
    const second = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'now rotate it 90 degrees', files: [] });
    const rotated = (await c.events.finished(second)).turn.media.find((m) => m.role === 'result')!;
    expect(rotated).toMatchObject({ width: 120, height: 200, parentId: brighter.id });
  });

  it('tells a subscriber of every conversation about each one, and finds a conversation by id with its platform key', async () => {
    const user = testUser();
    const everything = new EventRecorder();
    const stop = bot.subscribeAll(everything.listener);
    try {
      const a = await bot.startConversation({ user, platform: 'slack', externalId: 'C1:1700000000.000100', title: 'a' });
      const b = await bot.startConversation({ user, title: 'b' });
      expect(await bot.getConversation(a.id)).toMatchObject({ id: a.id, platform: 'slack', externalId: 'C1:1700000000.000100' });
      expect(await bot.getConversation(b.id)).toMatchObject({ externalId: null });
      const first = await bot.handleTurn({ conversationId: a.id, user, text: 'make it brighter', files: [{ bytes: await bluePng() }] });
      const second = await bot.handleTurn({ conversationId: b.id, user, text: 'make it darker', files: [{ bytes: await bluePng() }] });
      expect((await everything.finished(first)).conversationId).toBe(a.id);
      expect((await everything.finished(second)).conversationId).toBe(b.id);
    } finally {
      stop();
    }
  });

  it('records a platform event delivered twice once, and runs its job once, also when both arrive together', async () => {
    const c = await conversation('redelivered');
    const request = { conversationId: c.id, user: c.user, text: 'make it brighter', eventKey: 'slack:Ev0123', files: [{ bytes: await bluePng() }] };
    const first = await bot.handleTurn(request);
    const again = await bot.handleTurn(request);
    expect(again).toMatchObject({ duplicate: true, job: { id: first.job!.id } });
    expect(again.botTurn).toBeUndefined();

    const together = { ...request, eventKey: 'slack:Ev0456', text: 'make it darker' };
    const [a, b] = await Promise.all([bot.handleTurn(together), bot.handleTurn(together)]);
    expect([a.duplicate, b.duplicate].filter(Boolean)).toHaveLength(1);
    expect(a.job!.id).toBe(b.job!.id);
    await c.events.finished(first);
    await c.events.finished(a);

    const history = await bot.history(c.id);
    expect(history.turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(['make it brighter', 'make it darker']);
    expect(history.turns.filter((t) => t.media.some((m) => m.role === 'result'))).toHaveLength(2);
  });

  it('answers a corrupt file with a message naming the problem, and starts nothing', async () => {
    const c = await conversation('corrupt');
    const png = await bluePng();
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'make it brighter',
      files: [{ name: 'half.png', bytes: png.subarray(0, Math.floor(png.length / 2)) }],
    });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/"half\.png"/);
    expect(turn.botTurn?.text).toMatch(/corrupt|truncated|damaged|cannot be read/i);
  });

  it('refuses a decompression bomb before decoding it, naming the pixel limit', async () => {
    const c = await conversation('bomb');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: '', files: [{ name: 'bomb.png', bytes: decompressionBombPng() }] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/bomb\.png/);
    expect(turn.botTurn?.text).toMatch(/megapixels|pixels/i);
  });

  it('refuses a file that is not an image or video by its content, whatever its name', async () => {
    const c = await conversation('pdf');
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'cut out the person',
      files: [{ name: 'photo.png', bytes: Buffer.from('%PDF-1.7\n%%EOF\n') }],
    });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/PDF/);
  });

  it('asks what to do for an empty message', async () => {
    const c = await conversation('empty');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: '   ', files: [] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text.length).toBeGreaterThan(10);
  });

  it('asks for media first when there is nothing to work on', async () => {
    const c = await conversation('no media');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it black and white', files: [] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/upload/i);
  });

  it('asks back instead of guessing when a reference does not resolve', async () => {
    const c = await conversation('reference');
    await bot.handleTurn({ conversationId: c.id, user: c.user, text: '', files: [{ bytes: await bluePng() }] });
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make the third image brighter', files: [] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/1 image/);
  });

  it('tells the chat user a task needs the admin when its model is not installed, without queueing a job or naming files', async () => {
    const c = await conversation('missing model');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'show me the depth', files: [{ bytes: await bluePng() }] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toBe("This server can't make depth maps yet — ask its admin to enable depth maps.");
    expect(turn.botTurn?.text).not.toMatch(/npm run models|depth-anything/);
  });

  it('says plainly when a question about a picture cannot be answered here', async () => {
    const c = await conversation('no runner');
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'what colour is the sky in this picture?',
      files: [{ bytes: await bluePng() }],
    });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toBe("This server can't answer questions about pictures yet — ask its admin to enable picture questions.");
    expect(turn.botTurn?.text).not.toMatch(/LLM_URL/);
  });

  it('describes a picture with what the detectors found when no captioning model is here', async () => {
    const c = await conversation('caption from detectors');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'describe this picture', files: [{ bytes: await bluePng() }] });
    expect(turn.job?.tasks).toEqual(['caption']);
    const finished = await c.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    // A plain blue picture: nothing to name, said as such.
    expect(finished.turn.text).toMatch(/^I have no captioning model here, and my detectors found nothing they can name in this picture/);
  });

  it('applies the last edit to the video when asked to "do the same to the video"', async () => {
    const c = await conversation('same to video');
    const image = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it black and white', files: [{ bytes: await bluePng() }] });
    await c.events.finished(image);
    const clip = await makeClip(harness.dir, 'same-to-video', { seconds: 1, fps: 10, audio: true });
    const upload = await bot.handleTurn({ conversationId: c.id, user: c.user, text: '', files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }] });
    expect(upload.userTurn.media[0]).toMatchObject({ kind: 'video', ordinal: 1 });
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'do the same to the video', files: [] });
    expect(turn.job?.tasks).toEqual(['adjust']);
    const finished = await c.events.finished(turn);
    expect(finished.job.state).toBe('succeeded');
    const video = finished.turn.media.find((m) => m.role === 'result')!;
    expect(video.kind).toBe('video');
    const facts = await probe(SYSTEM_FFMPEG, (await bot.media(video.id)).path);
    expect(facts.hasAudio).toBe(true);
    expect(facts.frameCount).toBe(10);
  });

  it('cancels a running job on "cancel" and says so', async () => {
    const c = await conversation('cancel');
    const clip = await makeClip(harness.dir, 'long', { seconds: 20, fps: 25, width: 320, height: 240 });
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it black and white', files: [{ bytes: await fs.readFile(clip) }] });
    await c.events.next('job.progress', 0, (e) => e.job.id === turn.job?.id && e.job.state === 'running');
    const cancel = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'cancel', files: [] });
    expect(cancel.botTurn?.text).toMatch(/cancel/i);
    const finished = await c.events.finished(turn);
    expect(finished.job.state).toBe('cancelled');
    expect(finished.turn.text).toMatch(/cancelled/i);
  });

  it('keeps the job state in the history so a page reload shows how it ended', async () => {
    const c = await conversation('history');
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'flip it horizontally', files: [{ bytes: await bluePng() }] });
    await c.events.finished(turn);
    const history = await bot.history(c.id);
    const userTurn = history.turns.find((t) => t.id === turn.userTurn.id)!;
    expect(userTurn.job?.state).toBe('succeeded');
    const botTurn = history.turns.at(-1)!;
    expect(botTurn.role).toBe('bot');
    expect(botTurn.media.some((m) => m.role === 'result')).toBe(true);
    expect(botTurn.actions).toContain('undo');
    expect(path.basename((await bot.media(botTurn.media[0]!.id)).path)).toMatch(/^[0-9a-f]{64}$/);
  });
});
