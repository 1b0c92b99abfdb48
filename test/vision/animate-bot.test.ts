import fs from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { SYSTEM_FFMPEG } from '../helpers/media-fixtures.ts';

/** "animate it" and "slowly zoom in" through the whole bot: planner, queue, specialist, media store, lineage. */

let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  harness = await startTestBot();
  bot = harness.running.bot;
});

afterAll(async () => {
  await harness?.cleanup();
});

const picture = () =>
  sharp({ create: { width: 240, height: 160, channels: 3, background: '#3366cc' } })
    .composite([{ input: { create: { width: 60, height: 60, channels: 3, background: '#f0c040' } }, left: 150, top: 70 }])
    .png()
    .toBuffer();

describe('animate through the bot', () => {
  for (const [words, move] of [
    ['slowly zoom in', /slow zoom in/],
    ['animate it', /Ken Burns/],
  ] as const) {
    it(`answers "${words}" on an uploaded picture with an MP4 made from it (${move.source})`, async () => {
      const user = testUser();
      const view = await bot.startConversation({ user, title: words });
      const events = new EventRecorder();
      bot.subscribe(view.id, events.listener);
      const turn = await bot.handleTurn({ conversationId: view.id, user, text: words, files: [{ name: 'scene.png', bytes: await picture() }] });
      expect(turn.job?.tasks).toEqual(['animate']);
      const finished = await events.finished(turn);
      expect(finished.job.state).toBe('succeeded');
      expect(finished.turn.text).toMatch(move);
      const result = finished.turn.media.find((m) => m.role === 'result')!;
      expect(result).toMatchObject({ kind: 'video', width: 240, height: 160 });
      expect(result.parentId).toBe(turn.userTurn.media[0]!.id);
      const stored = await bot.media(result.id);
      const facts = await probe(SYSTEM_FFMPEG, stored.path);
      expect(facts).toMatchObject({ width: 240, height: 160, frameCount: 120 });
      expect(facts.durationSec).toBeCloseTo(5, 1);
      expect((await fs.readFile(stored.path)).subarray(4, 8).toString('latin1')).toBe('ftyp');
    }, 180_000);
  }
});
