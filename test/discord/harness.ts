import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BotApi, BotEvent, ConversationView, MediaView, TurnResult, TurnView, UserRef } from '../../src/app/bot-api.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from '../../adapters/discord/adapter.ts';
import { createAdmission } from '../../src/limits/admission.ts';
import { FakeDiscord, type RecordedCall } from '../fakes/discord/fake-discord.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { FakeBot } from '../web/fake-bot.ts';

/**
 * FakeBot that, like the real core, returns the existing conversation for a platform + externalId and
 * answers a second turn with the same eventKey as a duplicate, doing nothing; given the core's Admission,
 * it refuses requests over the limits as the real core does.
 */
export class DiscordFakeBot extends FakeBot {
  private readonly handled = new Map<string, TurnResult>();
  /** Previews this fake announced, by sha256, served by preview() like the core serves them from the blob store. */
  private readonly ownPreviews = new Map<string, { path: string; mime: string }>();
  private batches = 0;

  override async handleTurn(request: Parameters<BotApi['handleTurn']>[0]): Promise<TurnResult> {
    const key = request.eventKey === undefined ? undefined : `${request.conversationId} ${request.eventKey}`;
    const first = key === undefined ? undefined : this.handled.get(key);
    if (first) {
      this.calls.push({ method: 'handleTurn', args: [request] });
      return { ...first, duplicate: true };
    }
    const result = await super.handleTurn(request);
    if (key !== undefined) this.handled.set(key, result);
    return result;
  }

  override async startConversation(input: { user: UserRef; platform?: string; externalId?: string; title?: string }): Promise<ConversationView> {
    const existing = [...this.conversations.values()].find(
      (c) => input.externalId && c.view.platform === input.platform && c.view.externalId === input.externalId,
    );
    if (existing) return existing.view;
    return super.startConversation(input);
  }

  /** Moves a generation job to step `step` of `steps` with a preview picture of the work so far, as the core does. */
  progressWithPreview(jobId: string, step: number, steps: number, png: Uint8Array): void {
    const sha256 = createHash('sha256').update(png).digest('hex');
    const file = path.join(this.dir, `preview-${sha256}`);
    writeFileSync(file, png);
    this.ownPreviews.set(sha256, { path: file, mime: 'image/png' });
    const entry = this.jobs.get(jobId)!;
    const preview = { sha256, mime: 'image/png' };
    entry.job = { ...entry.job, state: 'running', progress: { fraction: step / steps, step, steps, note: 'drawing', preview } };
    this.emitEvent({ type: 'job.progress', conversationId: entry.conversationId, job: entry.job });
  }

  override async preview(sha256: string): Promise<{ path: string; mime: string }> {
    const found = this.ownPreviews.get(sha256);
    if (!found) return super.preview(sha256);
    this.calls.push({ method: 'preview', args: [sha256] });
    return found;
  }

  /**
   * Finishes a job with `n` generated pictures (seeds 101, 102, …) and their numbered grid, as the core does
   * for "draw a fox, 4 pictures": each picture a 'result' with its generation facts, then one 'grid'.
   */
  async finishBatch(
    jobId: string,
    n: number,
    extra: { picture?: (i: number) => Partial<MediaView>; grid?: Partial<MediaView> } = {},
  ): Promise<{ pictures: MediaView[]; grid: MediaView; turn: TurnView }> {
    const entry = this.jobs.get(jobId)!;
    this.batches += 1;
    const pictures: MediaView[] = [];
    for (let i = 0; i < n; i++) {
      const png = await solidImage(8, 8, `#${(this.batches * 16 + i).toString(16).padStart(2, '0')}4080`);
      const generation = { prompt: 'a red fox in the snow', seed: 101 + i, steps: 4, width: 8, height: 8, engine: 'comfyui', model: 'sd-turbo' };
      pictures.push(this.addMedia(png, 'image/png', 'result', { label: `variation ${i + 1} of ${n}`, generation, ...extra.picture?.(i) }));
    }
    const grid = this.addMedia(await solidImage(16, 16, `#${(this.batches % 256).toString(16).padStart(2, '0')}ff00`), 'image/png', 'grid', {
      label: `variations: ${n} to choose from`,
      ...extra.grid,
    });
    entry.job = { ...entry.job, state: 'succeeded', finishedAt: new Date().toISOString() };
    const turn: TurnView = {
      id: `batch-turn-${this.batches}`,
      role: 'bot',
      text: `Here are ${n} of them.`,
      media: [...pictures, grid],
      job: entry.job,
      actions: ['undo', 'download'],
      createdAt: new Date().toISOString(),
    };
    this.conversations.get(entry.conversationId)!.turns.push(turn);
    this.emitEvent({ type: 'job.finished', conversationId: entry.conversationId, job: entry.job, turn });
    return { pictures, grid, turn };
  }

  /** FakeBot's own emit is private; this one tells the same listeners. */
  private emitEvent(event: BotEvent): void {
    for (const listener of [...(this.listeners.get(event.conversationId) ?? []), ...this.everything]) listener(event);
  }
}

export function discordEnv(fake: FakeDiscord, dataDir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    PGLITE_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    DISCORD_TOKEN: fake.token,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_GUILD_ID: fake.guildId,
    ...env,
  };
}

export async function startAdapter(bot: BotApi, settings: Settings, options: DiscordAdapterOptions = {}): Promise<DiscordAdapter> {
  return createDiscordAdapter({ bot, settings, logger: pino({ level: 'silent' }) }, { progressIntervalMs: 0, ...options });
}

/** A Discord fake, a FakeBot with the core's limits from the settings, and the adapter between them, in a private temp dir. */
export async function startFakeStack(env: Record<string, string> | ((fake: FakeDiscord) => Record<string, string>) = {}, options: DiscordAdapterOptions = {}) {
  const fake = await new FakeDiscord().start();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-'));
  const settings = loadSettings(discordEnv(fake, dir, typeof env === 'function' ? env(fake) : env));
  const bot = new DiscordFakeBot(await createAdmission(settings));
  const stack = {
    fake,
    bot,
    settings,
    /** The adapter now running; a test that restarts it puts the new one here, and close() closes that one. */
    adapter: await startAdapter(bot, settings, options),
    dir,
    async close() {
      await stack.adapter.close();
      await fake.close();
      bot.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

export const isCallback = (interaction: { id: string }, type?: number) => (c: RecordedCall) =>
  c.method === 'POST' && c.path.startsWith(`/interactions/${interaction.id}/`) && (type === undefined || c.body?.type === type);

export const isOriginalEdit =
  (interaction: { token: string }, match: (c: RecordedCall) => boolean = () => true) =>
  (c: RecordedCall) =>
    c.method === 'PATCH' && c.path.endsWith(`/${interaction.token}/messages/@original`) && match(c);

export const isChannelPost =
  (channelId: string, match: (c: RecordedCall) => boolean = () => true) =>
  (c: RecordedCall) =>
    c.method === 'POST' && c.path === `/channels/${channelId}/messages` && c.status === 200 && match(c);

/** The custom_ids of a message payload's components. */
export function customIds(body: any): string[] {
  return (body?.components ?? []).flatMap((row: any) => (row.components ?? []).map((c: any) => c.custom_id).filter(Boolean));
}
