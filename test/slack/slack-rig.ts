import fs from 'node:fs/promises';
import { EventRecorder, startTestBot } from '../helpers/bot-harness.ts';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/slack-adapter.ts';

export const SIGNING_SECRET = 'fakesigningsecret0123456789abcdef';

export interface SlackRig {
  fake: FakeSlack;
  bot: Awaited<ReturnType<typeof startTestBot>>;
  adapter: SlackAdapter;
  events: EventRecorder;
  /** The app's HTTP events endpoint (HTTP mode only). */
  eventsUrl: string;
  /** Stops the adapter and the bot, keeping the fake and the data dir (to start again on them). */
  stopApp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real Bolt app and the real bot, pointed at a local fake Slack. `dir` + an on-disk PGLITE_DIR
 * let a test start a second rig on the same data, as after a restart.
 */
export async function startSlackRig(
  options: { mode?: 'socket' | 'http'; env?: Record<string, string>; dir?: string; fake?: FakeSlack; recover?: boolean } = {},
): Promise<SlackRig> {
  const fake = options.fake ?? (await new FakeSlack().start());
  const mode = options.mode ?? 'socket';
  const bot = await startTestBot(
    {
      SLACK_BOT_TOKEN: fake.botToken,
      ...(mode === 'socket' ? { SLACK_APP_TOKEN: fake.appToken } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
      SLACK_PORT: '0',
      SLACK_API_URL: fake.apiUrl,
      ...options.env,
    },
    { ...(options.dir ? { dir: options.dir } : {}), recover: false },
  );
  const events = new EventRecorder();
  const unsubscribe = bot.running.bot.subscribeAll(events.listener);
  const adapter = createSlackAdapter(bot.running.bot, bot.settings, bot.running.logger, {
    retryConfig: { retries: 2, factor: 1, minTimeout: 5, maxTimeout: 5 },
    uploadAttempts: 3,
    uploadRetryDelayMs: 1,
  });
  await adapter.start();
  // As main.ts does: recovery runs once the chat adapter listens, so resumed jobs reach their thread.
  if (options.recover) await bot.running.bot.recoverUnfinishedJobs();
  if (mode === 'socket') await fake.connected();
  let stopped = false;
  const stopApp = async () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    await adapter.close();
    await bot.running.close();
  };
  return {
    fake,
    bot,
    adapter,
    events,
    eventsUrl: `http://127.0.0.1:${adapter.httpPort ?? 0}/slack/events`,
    stopApp,
    async close() {
      await stopApp();
      if (!options.dir) await fs.rm(bot.dir, { recursive: true, force: true });
      if (!options.fake) await fake.close();
    },
  };
}

/** Block Kit blocks of a recorded call, as the app sent them (the client form-encodes them as JSON). */
export function blocksOf(args: Record<string, unknown>): { type: string; elements?: { action_id?: string; value?: string; text?: unknown }[] }[] {
  const raw = args.blocks;
  if (raw === undefined) return [];
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as ReturnType<typeof blocksOf>;
}

export function buttonsOf(args: Record<string, unknown>): { action_id: string; value: string }[] {
  return blocksOf(args)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .filter((e): e is { action_id: string; value: string } => typeof e.action_id === 'string' && typeof e.value === 'string');
}

/** The message under a result (its buttons), as opposed to the progress message (Cancel only). */
export function isResultMessage(args: Record<string, unknown>): boolean {
  return buttonsOf(args).some((b) => b.action_id === 'vitron:retry');
}
