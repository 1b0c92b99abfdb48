import type { Client } from 'discord.js';
import type { Logger } from 'pino';
import type { BotApi, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { Deliveries } from './delivery.ts';
import type { IntakeOptions, VideoShrinker } from './media.ts';
import type { MenuTargets } from './menu-targets.ts';

/** What the Discord event handlers share: the core, the client, and where results go. */
export interface DiscordContext {
  readonly bot: BotApi;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly client: Client;
  /** Which hosts attachments may come from, and how large. */
  readonly intake: IntakeOptions;
  readonly video: VideoShrinker;
  readonly deliveries: Deliveries;
  /** The attachments of messages "Edit with vitron" was used on, until the prompt pop-up is submitted. */
  readonly menuTargets: MenuTargets;
}

export function userRef(user: { id: string; username: string }): UserRef {
  return { platform: 'discord', externalId: user.id, name: user.username };
}
