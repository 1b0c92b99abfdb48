import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createNsfwClassifier } from '../../src/safety/nsfw-classifier.ts';
import { SYSTEM_FFMPEG, testdata } from '../helpers/media-fixtures.ts';
import { startTestBot, testUser } from '../helpers/bot-harness.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

/**
 * With the embedded defaults the bot classifies uploads on its inference thread (where outputs are classified
 * too), not on its own: the verdict must be the real classifier's, for the picture as uploaded.
 */
describe('an upload classified by the real bot', () => {
  let harness: Awaited<ReturnType<typeof startTestBot>>;
  beforeAll(async () => {
    harness = await startTestBot({ SAFETY: 'flag' });
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  photos.it('carries the verdict nsfwjs gives the same photo on the test thread', { timeout: 120_000 }, async () => {
    const bot = harness.running.bot;
    const bytes = await fs.readFile(testdata('horse.png'));
    const user = testUser();
    const conversation = await bot.startConversation({ user, title: 'safety on the thread' });
    const turn = await bot.handleTurn({ conversationId: conversation.id, user, text: 'what is this?', files: [{ name: 'horse.png', bytes }] });
    const upload = turn.userTurn.media[0]!;
    const expected = await createNsfwClassifier(harness.settings, SYSTEM_FFMPEG)({ kind: 'image', bytes });
    expect(upload.safety).toEqual(expected);
    expect(expected.flagged).toBe(false);
  });
});
