import type { Client } from 'discord.js';
import type { Logger } from 'pino';
import type { Settings } from '../../src/config/settings.ts';
import { type MediaGate, mediaGate } from '../shared/safety-gate.ts';

/**
 * Whether a Discord channel is marked age-restricted (NSFW). A thread has no flag of its own: it follows
 * its parent channel. DMs and channels the bot cannot see count as not NSFW.
 */
export async function discordChannelAllowsNsfw(client: Client, channelId: string): Promise<boolean> {
  if (!channelId) return false;
  const channel = await client.channels.fetch(channelId).catch(() => null);
  if (!channel) return false;
  if (channel.isThread()) return channel.parent?.nsfw ?? false;
  return 'nsfw' in channel ? channel.nsfw === true : false;
}

/** The safety gate for media posted into a Discord channel; the channel is only read when SAFETY=flag needs it. */
export async function discordGate(
  context: { client: Client; settings: Pick<Settings, 'SAFETY'>; logger: Pick<Logger, 'warn'> },
  channelId: string,
  conversationId: string,
): Promise<MediaGate> {
  const nsfwAllowed = context.settings.SAFETY === 'flag' ? await discordChannelAllowsNsfw(context.client, channelId) : false;
  return mediaGate({ settings: context.settings, logger: context.logger, platform: 'discord', conversationId, place: channelId, nsfwAllowed });
}
