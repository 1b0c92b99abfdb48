import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { BotApi } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { BackgroundWork } from './background-work.ts';
import type { DeliveryDedupe } from './delivery-dedupe.ts';
import type { ThreadDelivery } from './delivery.ts';
import type { FileIntake } from './file-intake.ts';
import type { SlackThreads } from './threads.ts';

/** What the Slack event handlers share: the core, the Web API client, threads and the way back. */
export interface SlackContext {
  readonly bot: BotApi;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly client: WebClient;
  readonly threads: SlackThreads;
  readonly delivery: ThreadDelivery;
  readonly intake: FileIntake;
  /** Slack retries and the app_mention + message pair of one message are recognised here. */
  readonly dedupe: DeliveryDedupe;
  readonly work: BackgroundWork;
  /** Deliveries dropped as already handled, for the adapter's counter. */
  readonly stats: { duplicatesDropped: number };
}
