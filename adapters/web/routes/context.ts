import type { BotApi } from '../../../src/app/bot-api.ts';
import type { SseRegistry } from '../sse.ts';

/** What every route module needs; handed in by the server so routes hold no globals. */
export interface RouteContext {
  bot: BotApi;
  heartbeatMs: number;
  streams: SseRegistry;
}
