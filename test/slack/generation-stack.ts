/**
 * The real Slack adapter (real Bolt app, Socket Mode) against the fake Slack, with a fake core that the
 * test drives by hand: a generation job in a thread, its previews, and its end with a single picture or
 * a batch (n pictures + their grid). Fast and exact where the real bot would need an image engine.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/slack-adapter.ts';
import { threadKey } from '../../adapters/slack/thread-key.ts';
import type { BotEvent, JobView, MediaView } from '../../src/app/bot-api.ts';
import type { GenerationFacts } from '../../src/core/types.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { FakeBot } from '../web/fake-bot.ts';

/** FakeBot that also runs generation jobs as the test says and serves their previews by content address. */
export class GenerationFakeBot extends FakeBot {
  private readonly previewFiles = new Map<string, { path: string; mime: string }>();

  /** The conversation of a Slack thread, as the real core keeps it (platform slack, the thread key as externalId). */
  async threadConversation(channel: string, threadTs: string, teamId: string): Promise<string> {
    const view = await this.startConversation({
      user: { platform: 'slack', externalId: `${teamId}:U1` },
      platform: 'slack',
      externalId: threadKey({ teamId, channel, threadTs }),
    });
    return view.id;
  }

  /** A generation job, queued: its progress message appears in the thread. */
  startJob(conversationId: string): JobView {
    const job: JobView = { id: `job-${randomUUID()}`, state: 'queued', tasks: ['generate_image'], queuePosition: 0, createdAt: new Date().toISOString() };
    this.jobs.set(job.id, { job, conversationId });
    this.send({ type: 'job.queued', conversationId, job });
    return job;
  }

  /**
   * A step of the job with its preview picture, as the core reports one (already classified). The
   * preview is stored first (storePreview), so several steps can be sent in one go, inside one interval.
   */
  step(jobId: string, step: number, preview: { sha256: string; mime: string }): void {
    const entry = this.jobs.get(jobId)!;
    entry.job = { ...entry.job, state: 'running', progress: { fraction: step / 10, step, steps: 10, note: '', preview } };
    this.send({ type: 'job.progress', conversationId: entry.conversationId, job: entry.job });
  }

  /** Stores a preview picture without announcing it; step() announces it. */
  async storePreview(bytes: Buffer, mime = 'image/jpeg'): Promise<{ sha256: string; mime: string }> {
    const sha256 = randomUUID().replace(/-/g, '');
    const file = path.join(this.dir, `preview-${sha256}`);
    await writeFile(file, bytes);
    this.previewFiles.set(sha256, { path: file, mime });
    return { sha256, mime };
  }

  override async preview(sha256: string): Promise<{ path: string; mime: string }> {
    const found = this.previewFiles.get(sha256);
    if (found) return found;
    return super.preview(sha256);
  }

  /** A generated picture as the core lists it: role result, its label and generation facts. */
  picture(label: string, seed: number, extra: Partial<MediaView> = {}): MediaView {
    const generation: GenerationFacts = { prompt: 'a red fox in the snow', seed, steps: 4, width: 512, height: 512, engine: 'comfyui', model: 'sd-turbo' };
    return this.addMedia(Buffer.from(`picture ${label} ${seed}`), 'image/png', 'result', { label, generation, ...extra });
  }

  /** A batch of n pictures and its grid, in the order the core lists them. */
  batch(n: number, options: { parentId?: string; gridSafety?: MediaView['safety'] } = {}): { pictures: MediaView[]; grid: MediaView } {
    const parent = options.parentId ? { parentId: options.parentId } : {};
    const pictures = Array.from({ length: n }, (_, i) => this.picture(`variation ${i + 1} of ${n}`, 1000 + i, parent));
    const grid = this.addMedia(Buffer.from(`grid of ${n}`), 'image/png', 'grid', {
      label: `variations: ${n} to choose from`,
      ...parent,
      ...(options.gridSafety ? { safety: options.gridSafety } : {}),
    });
    return { pictures, grid };
  }

  private send(event: BotEvent): void {
    for (const listener of [...(this.listeners.get(event.conversationId) ?? []), ...this.everything]) listener(event);
  }
}

export interface GenerationStack {
  fake: FakeSlack;
  bot: GenerationFakeBot;
  adapter: SlackAdapter;
  close(): Promise<void>;
}

export async function startGenerationStack(options: { env?: Record<string, string>; previewIntervalMs?: number } = {}): Promise<GenerationStack> {
  const fake = await new FakeSlack().start();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vitron-slack-gen-'));
  const settings = loadSettings({
    DATA_DIR: dir,
    PGLITE_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_APP_TOKEN: fake.appToken,
    SLACK_API_URL: fake.apiUrl,
    ...options.env,
  });
  const bot = new GenerationFakeBot();
  const adapter = createSlackAdapter(bot, settings, pino({ level: 'silent' }), {
    retryConfig: { retries: 2, factor: 1, minTimeout: 5, maxTimeout: 5 },
    uploadAttempts: 2,
    uploadRetryDelayMs: 1,
    previewIntervalMs: options.previewIntervalMs ?? 5000,
  });
  await adapter.start();
  await fake.connected();
  return {
    fake,
    bot,
    adapter,
    async close() {
      await adapter.close();
      await fake.close();
      bot.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
