/**
 * The Slack adapter against the local fake Slack (test/fakes/slack), with the real bot behind it (PGlite,
 * in-process queue) whose inference thread finishes every job at once with nothing made. Two questions:
 *  1. event → ack: how long Slack waits for the ack when many users mention the bot at the same moment,
 *     over Socket Mode (envelope sent → ack received) and over signed HTTP (POST sent → 200 received);
 *  2. the adapter's overhead on a no-op job: a mention with a file through Slack until the answer is in
 *     the thread, against the same turn handed to the bot directly until its job.finished event, as a ratio.
 * Knobs: BENCH_SLACK_USERS (users at once, default 50), BENCH_SLACK_JOBS (timed jobs per contender,
 * default 15); BENCH_RUNS / 2, rounded up, is the number of rounds of simultaneous mentions per mode.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSlackAdapter, type SlackAdapter } from '../adapters/slack/slack-adapter.ts';
import type { BotEvent, UserRef } from '../src/app/bot-api.ts';
import { createBot } from '../src/app/create-bot.ts';
import { loadSettings } from '../src/config/settings.ts';
import { FakeSlack } from '../test/fakes/slack/fake-slack.ts';
import { solidImage } from '../test/helpers/media-fixtures.ts';
import { formatMs, measureInterleaved, row, versus, type BenchSection, type MeasureOptions, type SectionReport } from './measure.ts';

const NOOP_THREAD = new URL('../test/fakes/slack/noop-inference-thread.ts', import.meta.url).href;
const SIGNING_SECRET = 'benchsigningsecret0123456789abcdef';

export interface SlackBenchOptions {
  /** Users mentioning the bot at the same moment, one mention each per round. */
  users: number;
  /** Timed rounds per mode (Socket Mode, then HTTP). */
  rounds: number;
  /** Timed no-op jobs per contender (direct, via Slack). */
  jobs: number;
  warmup: number;
}

export interface SlackBenchReport extends SectionReport {
  ack: Record<'socket' | 'http', { p50: number; p99: number; count: number }>;
  directMs: number;
  viaSlackMs: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function slackBenchOptions(env: NodeJS.ProcessEnv = process.env, { runs = 5, warmup = 1 }: MeasureOptions = {}): SlackBenchOptions {
  // Half the runs in rounds: each round is 50 full turns per mode, and the section should stay near a minute.
  return { users: positive(env, 'BENCH_SLACK_USERS', 50), rounds: Math.max(1, Math.ceil(runs / 2)), jobs: positive(env, 'BENCH_SLACK_JOBS', 15), warmup };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function runSlackBench(o: SlackBenchOptions): Promise<SlackBenchReport> {
  const began = performance.now();
  const fake = await new FakeSlack().start();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-slack-'));
  const common = {
    DATA_DIR: dir,
    PGLITE_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_API_URL: fake.apiUrl,
    SLACK_PORT: '0',
    // Limits answer instead of running: every mention of the burst must be a full turn.
    USER_RATE_LIMIT_PER_MINUTE: '0',
    USER_MAX_QUEUED_JOBS: '1000',
  };
  const socketSettings = loadSettings({ ...common, SLACK_APP_TOKEN: fake.appToken });
  const httpSettings = loadSettings({ ...common, SLACK_SIGNING_SECRET: SIGNING_SECRET });
  const running = await createBot(socketSettings, { threadEntry: NOOP_THREAD, recover: false });
  const bot = running.bot;
  let adapter: SlackAdapter | undefined;
  try {
    adapter = createSlackAdapter(bot, socketSettings, running.logger);
    await adapter.start();
    await fake.connected();

    let round = 0;
    /** One burst: every user mentions the bot at once; resolves with the ack times once every answer is in. */
    const burst = async (send: (body: Record<string, unknown>) => Promise<unknown>): Promise<number[]> => {
      const channel = `CACK${++round}`;
      const bodies = Array.from({ length: o.users }, (_, user) =>
        fake.eventCallback({ type: 'app_mention', user: `UB${user}`, text: '<@UBOT> help', ts: fake.nextTs(), channel }),
      );
      const acks = await Promise.all(
        bodies.map(async (body) => {
          const started = performance.now();
          await send(body);
          return performance.now() - started;
        }),
      );
      // The next burst starts on an idle app, so each round measures the same thing.
      await fake.waitForCalls('chat.postMessage', o.users, (a) => a.channel === channel);
      return acks;
    };
    const bursts = async (send: (body: Record<string, unknown>) => Promise<unknown>, warmup: number) => {
      for (let i = 0; i < warmup; i++) await burst(send);
      const all: number[] = [];
      for (let i = 0; i < o.rounds; i++) all.push(...(await burst(send)));
      all.sort((a, b) => a - b);
      return { p50: percentile(all, 50), p99: percentile(all, 99), count: all.length };
    };

    const socketAck = await bursts((body) => fake.sendEnvelope('events_api', body), o.warmup);

    const image = await solidImage(32, 32, '#cc3333');
    const finished = new Map<string, () => void>();
    const unsubscribe = bot.subscribeAll((event: BotEvent) => {
      if (event.type === 'job.finished') finished.get(event.conversationId)?.();
    });
    const user: UserRef = { platform: 'bench', externalId: 'bench-direct' };
    let directRuns = 0;
    const direct = async () => {
      // startConversation is inside the timing because the adapter calls it for every message too.
      const conversation = await bot.startConversation({ user, platform: 'bench', externalId: `direct-${++directRuns}`, title: 'bench' });
      const done = new Promise<void>((resolve) => finished.set(conversation.id, resolve));
      const turn = await bot.handleTurn({
        conversationId: conversation.id,
        user,
        text: 'make it black and white',
        files: [{ name: 'bench.png', bytes: image }],
      });
      if (!turn.job) throw new Error(`the bench turn started no job; the bot said: ${turn.botTurn?.text}`);
      await done;
      finished.delete(conversation.id);
    };
    const viaSlack = async () => {
      const file = fake.addFile(image, 'bench.png');
      const ts = fake.nextTs();
      await fake.sendEnvelope(
        'events_api',
        fake.eventCallback({ type: 'app_mention', user: 'UJOB', text: '<@UBOT> make it black and white', ts, channel: 'CJOB', files: [file] }),
      );
      // A job that made nothing ends with the bot's "Done." under the progress message.
      await fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && a.text === 'Done.');
    };
    const [directM, slackM] = await measureInterleaved(
      [
        { label: 'direct: conversation + turn → job.finished', fn: direct },
        { label: 'via Slack: mention + file → "Done." in thread', fn: viaSlack },
      ],
      { runs: o.jobs, warmup: o.warmup },
    );
    unsubscribe();
    await adapter.close();
    adapter = undefined;

    adapter = createSlackAdapter(bot, httpSettings, running.logger);
    await adapter.start();
    const eventsUrl = `http://127.0.0.1:${adapter.httpPort}/slack/events`;
    // Warmed up too, though the bot is warm already: the first burst on a new receiver took seconds longer.
    const httpAck = await bursts(async (body) => {
      const answer = await FakeSlack.deliver(eventsUrl, body, { signingSecret: SIGNING_SECRET });
      if (answer.status !== 200) throw new Error(`HTTP events endpoint answered ${answer.status}`);
    }, o.warmup);

    const ackLine = (label: string, a: { p50: number; p99: number; count: number }) =>
      `  ${label.padEnd(50)} p50 ${formatMs(a.p50).padStart(9)}   p99 ${formatMs(a.p99).padStart(9)}   (${a.count} events)`;
    const lines = [
      `  each round: ${o.users} users mention the bot at the same moment ("help": a full turn in the store), ${o.rounds} rounds per mode`,
      ackLine('event → ack, Socket Mode (envelope → ack)', socketAck),
      ackLine('event → ack, HTTP (signed POST → 200)', httpAck),
      '  (Slack gives up on an ack after 3 s and delivers again)',
      `  no-op job (the inference thread answers at once, nothing made), median of ${o.jobs}:`,
      row(directM!.label, directM),
      row(slackM!.label, slackM, versus(slackM!, directM!, 'direct')),
      `  ${'adapter overhead per job'.padEnd(50)} ${formatMs(slackM!.medianMs - directM!.medianMs).padStart(9)}`,
      '  (via Slack adds: envelope + ack, file download with the bot token, progress message posted and updated,',
      '   the answer posted; the direct path runs the same store writes, queue and thread hop, and the',
      '   adapter stays subscribed to it, as in production. Medians drift with the load; the min ratio is steadier.)',
      `  (section wall time ${((performance.now() - began) / 1000).toFixed(0)} s, bot start included)`,
    ];
    return {
      title: 'Slack adapter: fake Slack, real bot (PGlite, in-process queue, no-op inference thread)',
      lines,
      goals: [],
      ack: { socket: socketAck, http: httpAck },
      directMs: directM!.medianMs,
      viaSlackMs: slackM!.medianMs,
    };
  } finally {
    await adapter?.close();
    await running.close();
    await fake.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export const slackSection: BenchSection = {
  name: 'slack',
  run: (options: MeasureOptions) => runSlackBench(slackBenchOptions(process.env, options)),
};
