import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type RunningBot } from '../../src/app/create-bot.ts';
import { loadSettings } from '../../src/config/settings.ts';
import type { ClassifiableMedia } from '../../src/safety/nsfw-classifier.ts';
import { testUser } from '../helpers/bot-harness.ts';
import { solidImage } from '../helpers/media-fixtures.ts';

/** The real bot on the embedded defaults; uploads go through an injected classifier that flags every picture. */
async function startBot(env: Record<string, string>) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-safety-bot-'));
  const classified: ClassifiableMedia[] = [];
  const settings = loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', LOG_LEVEL: 'silent', ...env });
  const running = await createBot(settings, {
    recover: false,
    classify: async (media) => {
      classified.push(media);
      return { nsfw: 0.88, flagged: true };
    },
  });
  return {
    running,
    classified,
    async close() {
      await running.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

describe('safety in the bot core (real bot, injected upload classifier)', () => {
  let on: Awaited<ReturnType<typeof startBot>>;
  let off: Awaited<ReturnType<typeof startBot>>;
  beforeAll(async () => {
    [on, off] = await Promise.all([startBot({ SAFETY_BLOCKED_TERMS: 'grape' }), startBot({ SAFETY: 'off', SAFETY_BLOCKED_TERMS: 'grape' })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([on?.close(), off?.close()]);
  });

  async function turn(bot: RunningBot['bot'], text: string, files: { bytes: Uint8Array }[] = []) {
    const user = testUser();
    const conversation = await bot.startConversation({ user, title: 'safety' });
    const result = await bot.handleTurn({ conversationId: conversation.id, user, text, files });
    return { result, history: await bot.history(conversation.id) };
  }

  it('refuses a generation prompt with a blocked term before any job is recorded or queued, saying it masked', async () => {
    const { result, history } = await turn(on.running.bot, 'draw a fucking red fox in the snow');
    expect(result.job).toBeUndefined();
    expect(result.botTurn?.text).toBe('Your prompt contains a blocked term ("f***"), so nothing was made.');
    expect(result.botTurn?.tone).toBe('error');
    expect(history.turns.some((t) => t.job !== undefined)).toBe(false);
    expect((await on.running.bot.health()).queue).toMatchObject({ running: 0, queued: 0 });
  });

  it("refuses an edit by words with the operator's term, and still records the upload with its verdict", async () => {
    const { result } = await turn(on.running.bot, 'replace the dog with a grape', [{ bytes: await solidImage(32, 32) }]);
    expect(result.job).toBeUndefined();
    expect(result.botTurn?.text).toBe('Your prompt contains a blocked term ("g****"), so nothing was made.');
    expect(result.userTurn.media).toHaveLength(1);
    expect(result.userTurn.media[0]!.safety).toEqual({ nsfw: 0.88, flagged: true });
    expect(on.classified.at(-1)?.kind).toBe('image');
  });

  it('lets the same words through with SAFETY=off, and classifies nothing', async () => {
    const before = off.classified.length;
    const { result } = await turn(off.running.bot, 'replace the dog with a grape', [{ bytes: await solidImage(32, 32) }]);
    expect(result.botTurn?.text ?? '').not.toMatch(/blocked term/);
    expect(result.userTurn.media[0]!.safety).toBeUndefined();
    expect(off.classified.length).toBe(before);
  });

  it('checks only what is to be made: "make it brighter" has no prompt and runs; "the grape" to find is not a prompt', async () => {
    const plain = await turn(on.running.bot, 'make it brighter', [{ bytes: await solidImage(32, 32) }]);
    expect(plain.result.job).toBeDefined();
    const phrase = await turn(on.running.bot, 'replace the grape with a dog', [{ bytes: await solidImage(32, 32) }]);
    expect(phrase.result.botTurn?.text ?? '').not.toMatch(/blocked term/);
  });
});
