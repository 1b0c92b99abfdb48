/** The small pieces of the Slack adapter that need no Slack: start-up choices, keys, dedupe, progress text. */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startChatAdapters } from '../../adapters/chat-adapters.ts';
import { progressLine } from '../../adapters/slack/blocks.ts';
import { slackMode } from '../../adapters/slack/bolt-app.ts';
import { DeliveryDedupe } from '../../adapters/slack/delivery-dedupe.ts';
import { FileIntake } from '../../adapters/slack/file-intake.ts';
import { SHORTCUT_CALLBACK_ID, SLASH_COMMAND } from '../../adapters/slack/slack-adapter.ts';
import { parseThreadKey, threadKey } from '../../adapters/slack/thread-key.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { MediaTooLargeError, SettingsError } from '../../src/errors.ts';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { FakeBot } from '../web/fake-bot.ts';

const bots: FakeBot[] = [];
afterEach(() => {
  for (const bot of bots.splice(0)) bot.close();
});

describe('Slack adapter pieces', () => {
  it('starts nothing without SLACK_BOT_TOKEN', async () => {
    const bot = new FakeBot();
    bots.push(bot);
    const started = await startChatAdapters({ bot, settings: loadSettings({}), logger: pino({ level: 'silent' }) });
    expect(started.filter((a) => a.platform === 'slack')).toEqual([]);
  });

  it('picks Socket Mode with an app token, HTTP with only a signing secret, and refuses neither', () => {
    const token = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc' };
    expect(slackMode(loadSettings({ ...token, SLACK_APP_TOKEN: 'xapp-1-abc', SLACK_SIGNING_SECRET: 'abcdef0123456789abcd' }))).toBe('socket');
    expect(slackMode(loadSettings({ ...token, SLACK_SIGNING_SECRET: 'abcdef0123456789abcd' }))).toBe('http');
    expect(() => slackMode(loadSettings(token))).toThrow(SettingsError);
  });

  it('maps a thread to a conversation key and back', () => {
    const thread = { teamId: 'T1', channel: 'C1', threadTs: '1700000000.000100' };
    expect(parseThreadKey(threadKey(thread))).toEqual(thread);
    expect(parseThreadKey(threadKey({ teamId: 'T1', channel: 'D1', threadTs: '' }))).toEqual({ teamId: 'T1', channel: 'D1', threadTs: '' });
    expect(parseThreadKey('not-a-slack-key')).toBeUndefined();
    expect(parseThreadKey(null)).toBeUndefined();
  });

  it('claims a delivery once within the TTL, again after it, and stays bounded', () => {
    let now = 0;
    const dedupe = new DeliveryDedupe({ ttlMs: 1000, maxEntries: 3, now: () => now });
    expect(dedupe.claim('a')).toBe(true);
    expect(dedupe.claim('a')).toBe(false);
    now = 1000;
    expect(dedupe.claim('a')).toBe(true);
    for (const key of ['b', 'c', 'd', 'e']) expect(dedupe.claim(key)).toBe(true);
    // 'a' was the oldest and was dropped to keep the set at its bound.
    expect(dedupe.claim('a')).toBe(true);
  });

  it('remembers claims across a restart through its journal, and forgets them after the TTL', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-slack-dedupe-'));
    try {
      const journalPath = path.join(dir, 'slack', 'deliveries.log');
      let now = 10_000;
      const first = new DeliveryDedupe({ ttlMs: 1000, journalPath, now: () => now });
      await first.load();
      expect(first.claim('T:C:1.1')).toBe(true);
      expect(first.claim('T:C:1.2')).toBe(true);
      await first.flush();

      now = 10_500;
      const second = new DeliveryDedupe({ ttlMs: 1000, journalPath, now: () => now });
      await second.load();
      expect(second.claim('T:C:1.1')).toBe(false);
      expect(second.claim('T:C:1.3')).toBe(true);
      await second.flush();

      now = 20_000;
      const third = new DeliveryDedupe({ ttlMs: 1000, journalPath, now: () => now });
      await third.load();
      // Compacted at load: only what is still fresh (nothing, by then) was kept.
      expect(await fs.readFile(journalPath, 'utf8')).toBe('');
      expect(third.claim('T:C:1.1')).toBe(true);
      await third.flush();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('holds the byte cap while downloading when a file declares a smaller size than it has', async () => {
    const fake = await new FakeSlack().start();
    try {
      const intake = new FileIntake({ botToken: fake.botToken, maxBytes: 1000, extraHost: '127.0.0.1' });
      const small = fake.addFile(Buffer.alloc(900, 1), 'small.png');
      expect((await intake.fetch(small)).bytes.byteLength).toBe(900);
      const lying = { ...fake.addFile(Buffer.alloc(50_000, 1), 'lying.png'), size: 10 };
      await expect(intake.fetch(lying)).rejects.toBeInstanceOf(MediaTooLargeError);
      // Fetched (the declared size let it through), and refused on the bytes themselves.
      expect(fake.callsOf('download')).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });

  it('writes the step and percentage of a running job', () => {
    const base = { id: 'j', tasks: ['adjust'], createdAt: '' };
    expect(progressLine({ ...base, state: 'running', progress: { fraction: 0.42, step: 2, steps: 3, note: 'grayscale' } })).toBe(
      ':gear: Working on it… step 2/3 · grayscale · 42%',
    );
    expect(progressLine({ ...base, state: 'queued', queuePosition: 3 })).toMatch(/position 3/);
    expect(progressLine({ ...base, state: 'failed', error: { code: 'INTERNAL', message: 'boom' } })).toBe(':x: Failed: boom');
  });

  it('ships a manifest that matches what the app listens to', () => {
    const manifest = readFileSync(new URL('../../slack-manifest.yml', import.meta.url), 'utf8');
    expect(manifest).toContain(`callback_id: ${SHORTCUT_CALLBACK_ID}`);
    expect(manifest).toContain(`command: ${SLASH_COMMAND}`);
    for (const event of ['app_mention', 'assistant_thread_started', 'message.channels', 'message.im']) expect(manifest).toMatch(new RegExp(`- ${event}\\b`));
    for (const scope of ['app_mentions:read', 'assistant:write', 'chat:write', 'commands', 'files:read', 'files:write', 'im:history', 'channels:history']) {
      expect(manifest).toMatch(new RegExp(`- ${scope}\\b`));
    }
    expect(manifest).toMatch(/socket_mode_enabled: true/);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
  });
});
