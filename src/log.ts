import pino, { type Logger } from 'pino';
import type { Settings } from './config/settings.ts';

export type { Logger };

/** Structured JSON logs; children carry conversationId / jobId so one job's story can be grepped. */
export function createLogger(settings: Pick<Settings, 'LOG_LEVEL'>, options: { toStderr?: boolean } = {}): Logger {
  const config = { level: settings.LOG_LEVEL, base: { app: 'vitron-chat' } };
  // stdout is the protocol when an MCP client runs us over stdio: logs go to stderr then.
  return options.toStderr ? pino(config, pino.destination(2)) : pino(config);
}
