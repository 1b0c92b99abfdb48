import type { Interaction, Message } from 'discord.js';
import type { BotApi, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { RateLimitedError } from '../../src/errors.ts';
import { UnfinishedJobsLimitError } from '../../src/limits/admission.ts';

export type AccessSettings = Pick<Settings, 'DISCORD_ALLOWED_GUILDS' | 'DISCORD_ALLOWED_CHANNELS' | 'DISCORD_ALLOWED_ROLE'>;

/** What the adapter knows about where a request came from, read off the interaction or message. */
export interface Origin {
  guildId: string | null;
  channelId: string;
  /** A thread's parent: allowing a channel allows the threads the bot opens in it. */
  parentChannelId: string | null;
  roleIds: readonly string[];
}

/** Undefined when allowed, else the sentence to show (ephemeral for interactions). */
export function refusal(settings: AccessSettings, origin: Origin): string | undefined {
  const restricted = settings.DISCORD_ALLOWED_GUILDS || settings.DISCORD_ALLOWED_CHANNELS || settings.DISCORD_ALLOWED_ROLE;
  if (origin.guildId === null) {
    // A DM has no server, channel list or roles to check, so any restriction closes DMs.
    return restricted ? 'This bot only works in the servers and channels it was set up for, not in direct messages.' : undefined;
  }
  if (settings.DISCORD_ALLOWED_GUILDS && !settings.DISCORD_ALLOWED_GUILDS.includes(origin.guildId)) return 'This bot is not enabled on this server.';
  const channels = settings.DISCORD_ALLOWED_CHANNELS;
  if (channels && !channels.includes(origin.channelId) && !(origin.parentChannelId && channels.includes(origin.parentChannelId))) {
    return `This bot is not enabled in this channel; try ${channels.map((id) => `<#${id}>`).join(', ')}.`;
  }
  if (settings.DISCORD_ALLOWED_ROLE && !origin.roleIds.includes(settings.DISCORD_ALLOWED_ROLE)) {
    return `Only members with the <@&${settings.DISCORD_ALLOWED_ROLE}> role may use this bot.`;
  }
  return undefined;
}

export function originOf(source: Interaction | Message): Origin {
  const channel = source.channel;
  const member = source.member;
  let roleIds: string[] = [];
  if (member) {
    // A cached GuildMember keeps roles in a manager; an uncached interaction member is the raw API object.
    const roles = (member as { roles: unknown }).roles;
    if (Array.isArray(roles)) roleIds = roles as string[];
    else if (roles && typeof roles === 'object' && 'cache' in roles) roleIds = [...(roles as { cache: Map<string, unknown> }).cache.keys()];
  }
  return {
    guildId: source.guildId ?? null,
    channelId: source.channelId ?? '',
    parentChannelId: channel && 'isThread' in channel && channel.isThread() ? channel.parentId : null,
    roleIds,
  };
}

/**
 * The core's limits (jobs waiting or running, requests per user and per server), asked before a request
 * that may start work; undefined when admitted, else the sentence to show. A server shares one allowance.
 */
export async function overLimit(bot: BotApi, user: UserRef, guildId: string | null): Promise<string | undefined> {
  try {
    await bot.admit({ user, ...(guildId ? { workspace: guildId } : {}) });
    return undefined;
  } catch (error) {
    if (error instanceof UnfinishedJobsLimitError) {
      const n = error.unfinished;
      return `You have ${n} job${n === 1 ? '' : 's'} running; wait for ${n === 1 ? 'it' : 'one'} to finish or use \`/vitron cancel\`.`;
    }
    if (error instanceof RateLimitedError) return error.message;
    throw error;
  }
}
