import pino, { type Logger } from 'pino';
import type { Settings } from './config/settings.ts';

export type { Logger };

/** Structured JSON logs; children carry conversationId / jobId so one job's story can be grepped. */
export function createLogger(settings: Pick<Settings, 'LOG_LEVEL'>): Logger {
  return pino({ level: settings.LOG_LEVEL, base: { app: 'vitron-chat' } });
}
