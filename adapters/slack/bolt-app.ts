import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Settings } from '../../src/config/settings.ts';
import { SettingsError } from '../../src/errors.ts';
import { boltLogger } from './bolt-logger.ts';

export type SlackMode = 'socket' | 'http';

export interface BoltAppOptions {
  /**
   * The Web API client's retry policy. Its 429 handling (waiting for Retry-After, then retrying) runs
   * inside this policy, so it needs at least one retry; tests shorten the waits between other retries.
   */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
}

export interface BoltApp {
  app: App;
  mode: SlackMode;
  /** In HTTP mode, the port the events endpoint (/slack/events) listens on. */
  start(): Promise<{ port?: number }>;
}

/** Socket Mode when an app token is set (no public URL needed), else signed HTTP events on SLACK_PORT. */
export function slackMode(settings: Settings): SlackMode {
  if (settings.SLACK_APP_TOKEN) return 'socket';
  if (settings.SLACK_SIGNING_SECRET) return 'http';
  throw new SettingsError('SLACK_APP_TOKEN', 'SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events) next to SLACK_BOT_TOKEN', 'neither');
}

export function createBoltApp(settings: Settings, logger: Logger, options: BoltAppOptions = {}): BoltApp {
  const mode = slackMode(settings);
  const apiUrl = settings.SLACK_API_URL ? (settings.SLACK_API_URL.endsWith('/') ? settings.SLACK_API_URL : `${settings.SLACK_API_URL}/`) : undefined;
  const clientOptions = {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    // A 429 waits for Retry-After and tries again (the client's own behaviour, not rewritten here);
    // other failures get a few quick retries instead of the default half hour.
    rejectRateLimitedCalls: false,
    retryConfig: options.retryConfig ?? { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 30_000 },
  };
  const common = {
    token: settings.SLACK_BOT_TOKEN,
    logger: boltLogger(logger),
    clientOptions,
    ignoreSelf: true,
  };
  const app =
    mode === 'socket'
      ? new App({ ...common, socketMode: true, appToken: settings.SLACK_APP_TOKEN })
      : // Bolt verifies x-slack-signature and rejects stale timestamps; that is never turned off here.
        new App({ ...common, signingSecret: settings.SLACK_SIGNING_SECRET, processBeforeResponse: false });
  return {
    app,
    mode,
    async start() {
      if (mode === 'socket') {
        await app.start();
        return {};
      }
      const server = (await app.start(settings.SLACK_PORT)) as Server;
      return { port: (server.address() as AddressInfo).port };
    },
  };
}
