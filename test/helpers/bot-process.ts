/**
 * A bot in its own process, for tests that kill it: it starts a slow video job in a fresh conversation,
 * prints one JSON line {conversationId, jobId, userId} once the job runs, and waits to be killed.
 * Usage: tsx test/helpers/bot-process.ts <data-dir> <clip-path>
 */
import fs from 'node:fs/promises';
import { createBot } from '../../src/app/create-bot.ts';
import { loadSettings } from '../../src/config/settings.ts';

const [dataDir, clip] = process.argv.slice(2) as [string, string];
const settings = loadSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const { bot } = await createBot(settings);
const user = { platform: 'test', externalId: 'killed-bot-user' };
const conversation = await bot.startConversation({ user, title: 'killed mid-job' });
bot.subscribe(conversation.id, (event) => {
  if (event.type === 'job.progress' && event.job.state === 'running' && (event.job.progress?.fraction ?? 0) > 0) {
    process.stdout.write(`${JSON.stringify({ conversationId: conversation.id, jobId: event.job.id })}\n`);
  }
});
await bot.handleTurn({ conversationId: conversation.id, user, text: 'make it black and white', files: [{ name: 'clip.mp4', bytes: await fs.readFile(clip) }] });
setInterval(() => {}, 1000);
