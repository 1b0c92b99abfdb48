import type { Settings } from '../../src/config/settings.ts';

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
