/**
 * Run as its own process by bench/memory.ts: starts the real bot (PGlite, inference thread), records its
 * resident memory idle, then warms every default model with real jobs (cutout: ISNet; OCR: PP-OCR; detect:
 * CenterNet; blur the faces: BlazeFace; upscale: ESRGAN-slim), and prints
 * {"idleRssBytes", "peakRssBytes"} as JSON. A separate process, so nothing else in the bench inflates it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createBot } from '../src/app/create-bot.ts';
import { loadSettings } from '../src/config/settings.ts';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-memory-'));
const running = await createBot(loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', LOG_LEVEL: 'silent' }));
const { bot } = running;
const idleRssBytes = process.memoryUsage().rss;
const user = { platform: 'bench', externalId: 'memory' };

async function run(text: string, bytes: Buffer): Promise<void> {
  const conversation = await bot.startConversation({ user });
  const finished = new Promise<void>((resolve) => bot.subscribe(conversation.id, (e) => e.type === 'job.finished' && resolve()));
  const turn = await bot.handleTurn({ conversationId: conversation.id, user, text, files: [{ bytes }] });
  if (!turn.job) throw new Error(`no job started: ${turn.botTurn?.text}`);
  await finished;
}

const photo = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#8ab' } })
  .composite([{ input: Buffer.from('<svg width="1024" height="1024"><circle cx="512" cy="512" r="300" fill="#c33"/></svg>') }])
  .png()
  .toBuffer();
const text = await sharp(
  Buffer.from(
    '<svg width="800" height="200"><rect width="800" height="200" fill="white"/><text x="40" y="120" font-size="72" font-family="sans-serif">HELLO WORLD</text></svg>',
  ),
)
  .png()
  .toBuffer();
const small = await sharp(photo).resize(256, 256).png().toBuffer();
await run('cut out the subject', photo);
await run('read the text', text);
await run('how many people are there?', photo);
await run('blur the faces', photo);
await run('upscale it 2x', small);
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
await running.close();
await fs.rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ idleRssBytes, peakRssBytes })}\n`);
