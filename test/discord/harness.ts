import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BotApi, ConversationView, TurnResult, UserRef } from '../../src/app/bot-api.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from '../../adapters/discord/adapter.ts';
import { createAdmission } from '../../src/limits/admission.ts';
import { FakeDiscord, type RecordedCall } from '../fakes/discord/fake-discord.ts';
import { FakeBot } from '../web/fake-bot.ts';

/**
 * FakeBot that, like the real core, returns the existing conversation for a platform + externalId and
 * answers a second turn with the same eventKey as a duplicate, doing nothing; given the core's Admission,
 * it refuses requests over the limits as the real core does.
 */
export class DiscordFakeBot extends FakeBot {
  private readonly handled = new Map<string, TurnResult>();

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
