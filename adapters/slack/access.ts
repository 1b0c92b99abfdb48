import type { BotApi, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { LimitReachedError, RateLimitedError } from '../../src/errors.ts';

/** SLACK_ALLOWED_TEAMS and SLACK_ALLOWED_CHANNELS: anything else is ignored without a word. */
export function allowed(settings: Pick<Settings, 'SLACK_ALLOWED_TEAMS' | 'SLACK_ALLOWED_CHANNELS'>, teamId: string, channel: string): boolean {
  const { SLACK_ALLOWED_TEAMS: teams, SLACK_ALLOWED_CHANNELS: channels } = settings;
  if (teams && !teams.includes(teamId)) return false;
  // Direct messages (D…) are governed by the workspace list only: they belong to no channel.
  if (channels && !channel.startsWith('D') && !channels.includes(channel)) return false;
  return true;
}

/** A Slack user id is unique within its workspace only. */
export function userRef(teamId: string, userId: string): UserRef {
  return { platform: 'slack', externalId: `${teamId}:${userId}` };
}

/**
 * The core's limits, asked before a request that may start work; undefined when admitted, else the
 * sentence to show. A workspace shares one allowance.
 */
export async function overLimit(bot: BotApi, user: UserRef, teamId: string): Promise<string | undefined> {
  try {
    await bot.admit({ user, workspace: teamId });
    return undefined;
  } catch (error) {
    if (error instanceof RateLimitedError || error instanceof LimitReachedError) return error.message;
    throw error;
  }
}
