import type { ChatInputCommandInteraction } from 'discord.js';
import type { BotApi, ConversationView, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { formatBytes } from '../../src/media/limits.ts';
import type { DiscordContext } from './context.ts';
import { DEFAULT_UPLOAD_LIMIT } from './media.ts';
import { clip } from './render.ts';
import { parseScope } from './scope.ts';

/** The user's newest conversation here: this channel or thread, or a thread the bot opened from this channel. */
export async function findConversation(
  context: DiscordContext,
  interaction: ChatInputCommandInteraction,
  user: UserRef,
): Promise<ConversationView | undefined> {
  const channel = interaction.channel;
  const here = new Set([interaction.channelId]);
  const all = (await context.bot.listConversations(user)).filter((c) => c.platform === 'discord');
  const found = all
    .filter((c) => {
      const scope = parseScope(c.externalId);
      return scope && here.has(scope.channelId);
    })
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  if (found[0]) return found[0];
  // In a channel, the newest conversation started from it lives in one of its threads.
  if (channel && !channel.isThread() && interaction.inGuild()) {
    // Newest few only: each check may fetch a channel, and the user waits on the deferred reply meanwhile.
    for (const c of all.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, 10)) {
      const scope = parseScope(c.externalId);
      if (scope?.kind !== 'thread') continue;
      const thread = await context.client.channels.fetch(scope.channelId).catch(() => null);
      if (thread?.isThread() && thread.parentId === interaction.channelId) return c;
    }
  }
  return undefined;
}

export async function historyText(bot: BotApi, conversationId: string): Promise<string> {
  const history = await bot.history(conversationId);
  const lines = history.turns.slice(-12).map((t) => {
    const media = t.media.length ? ` [${t.media.map((m) => `${m.kind}${m.ordinal ? ` #${m.ordinal}` : ''}`).join(', ')}]` : '';
    return `${t.role === 'user' ? '🧑' : '🤖'} ${clip(t.text.replace(/\s+/g, ' '), 150)}${media}`;
  });
  return [`**${history.conversation.title}**`, ...lines, history.canUndo ? '(`/vitron undo` goes back one step)' : ''].filter((l) => l !== '').join('\n');
}

/** Cancels the jobs this process is delivering for the user. */
export async function cancelAll(context: DiscordContext, user: UserRef): Promise<string> {
  const jobs = context.deliveries.runningJobsOf(user.externalId);
  if (jobs.length === 0) return 'You have no running jobs.';
  const results = await Promise.allSettled(jobs.map((id) => context.bot.cancelJob(id, user)));
  const cancelled = results.filter((r) => r.status === 'fulfilled' && r.value.state === 'cancelled').length;
  return `Cancelled ${cancelled} of ${jobs.length} job${jobs.length === 1 ? '' : 's'}.`;
}

/** What the operator set, in the words a user needs: where the bot works, and the limits the core applies. */
export function settingsText(s: Settings, uploadLimit: number | undefined): string {
  const list = (ids: string[] | undefined, fmt: (id: string) => string) => (ids ? ids.map(fmt).join(', ') : 'any');
  return [
    '**vitron settings** (set by the bot operator)',
    `Servers: ${list(s.DISCORD_ALLOWED_GUILDS, (id) => id)}`,
    `Channels: ${list(s.DISCORD_ALLOWED_CHANNELS, (id) => `<#${id}>`)}`,
    `Role required: ${s.DISCORD_ALLOWED_ROLE ? `<@&${s.DISCORD_ALLOWED_ROLE}>` : 'none'}`,
    `Requests per minute per user: ${s.USER_RATE_LIMIT_PER_MINUTE || 'unlimited'}`,
    `Requests per minute per server: ${s.workspaceRateLimitPerMinute || 'unlimited'}`,
    `Jobs at once per user: ${s.USER_MAX_RUNNING_JOBS}`,
    `Jobs waiting or running per user: ${s.USER_MAX_QUEUED_JOBS}`,
    `Largest upload accepted: ${formatBytes(s.MAX_UPLOAD_BYTES)}; results are fitted to ${formatBytes(uploadLimit ?? DEFAULT_UPLOAD_LIMIT)}`,
  ].join('\n');
}
