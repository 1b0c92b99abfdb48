import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  harness = await startTestBot();
  bot = harness.running.bot;
});

afterAll(async () => {
  await harness?.cleanup();
});

/** The cat photo twice, side by side: two cats, one on the left half and one on the right. */
async function twoCats(): Promise<Buffer> {
  const cat = await sharp(testdata('chelsea.png')).removeAlpha().png().toBuffer();
  const { width, height } = await sharp(cat).metadata();
  return sharp({ create: { width: width! * 2, height: height!, channels: 3, background: '#ffffff' } })
    .composite([
      { input: cat, left: 0, top: 0 },
      { input: cat, left: width!, top: 0 },
    ])
    .png()
    .toBuffer();
}

describe('"which one?" through the whole path', () => {
  photos.it('asks with numbered options when a phrase matches several things, and a bare number answers it', { timeout: 180_000 }, async () => {
    const user = testUser();
    const view = await bot.startConversation({ user, title: 'which one' });
    const events = new EventRecorder();
    bot.subscribe(view.id, events.listener);
    const image = await twoCats();
    const width = (await sharp(image).metadata()).width!;

    const asked = await bot.handleTurn({ conversationId: view.id, user, text: 'where is the cat?', files: [{ name: 'cats.png', bytes: image }] });
    expect(asked.job?.tasks).toEqual(['ground']);
    const question = await events.finished(asked);
    expect(question.job.state).toBe('succeeded');
    expect(question.turn.tone).toBe('question');
    expect(question.turn.choice?.options).toHaveLength(2);
    // The words carry the options too, for platforms and readers without buttons.
    expect(question.turn.text).toMatch(/^1\. /m);
    expect(question.turn.text).toMatch(/^2\. /m);
    expect(question.turn.text).toMatch(/Answer with a number/);
    // The numbered picture is shown but does not become the image that "it" means.
    expect(question.turn.media.some((m) => m.role === 'result')).toBe(false);

    // The history shows the same question after a reload.
    const history = await bot.history(view.id);
    expect(history.turns.find((t) => t.id === question.turn.id)?.choice?.options).toHaveLength(2);

    // Answering "2" (what every adapter's button sends) grounds the second cat, counted left to right.
    const answered = await bot.handleTurn({ conversationId: view.id, user, text: '2', files: [] });
    expect(answered.job?.tasks).toEqual(['ground']);
    const answer = await events.finished(answered);
    expect(answer.job.state).toBe('succeeded');
    expect(answer.turn.choice).toBeUndefined();
    expect(answer.turn.boxes).toHaveLength(1);
    const box = answer.turn.boxes![0]!;
    expect((box.x1 + box.x2) / 2).toBeGreaterThan(width / 2);
    expect(answer.turn.text).toMatch(/cat/i);
  });

  it('says there is nothing to choose from when a number comes with no question before it', async () => {
    const user = testUser();
    const view = await bot.startConversation({ user, title: 'no question' });
    const turn = await bot.handleTurn({ conversationId: view.id, user, text: '2', files: [] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toMatch(/nothing to choose from|which|what/i);
  });
});
