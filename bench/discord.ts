/**
 * The Discord adapter against the local fake Discord (test/fakes/discord), two questions in one run:
 *  1. time from the fake dispatching INTERACTION_CREATE on its gateway to the deferred ack (callback type 5)
 *     arriving at its REST server, p50/p99, with 50 users sending `/vitron edit` at once, a few rounds;
 *  2. the adapter's overhead on a no-op job: `/vitron edit` → final edit of the reply, one at a time,
 *     against the same no-op job submitted straight to the bot (handleTurn → job.finished), as a ratio.
 * The bot is the tests' FakeBot with its jobs run by a real InProcessQueue and a no-op processor: the
 * real Bot would add its planner, database and media store to both sides alike, hiding the adapter's cost
 * behind the core's. The fake runs in this process, so its HTTP and WebSocket work counts as the adapter's.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createDiscordAdapter } from '../adapters/discord/adapter.ts';
import type { BotApi, BotEvent, JobView, TurnResult, TurnView } from '../src/app/bot-api.ts';
import { loadSettings } from '../src/config/settings.ts';
import { InProcessQueue } from '../src/queue/in-process-queue.ts';
import { discordEnv, DiscordFakeBot, isCallback, isOriginalEdit } from '../test/discord/harness.ts';
import { FakeDiscord, type RecordedCall } from '../test/fakes/discord/fake-discord.ts';
import { percentile } from './bullmq-parts.ts';
import { formatMs, formatRatio, median, type BenchSection, type MeasureOptions, type SectionReport } from './measure.ts';

const DONE_TEXT = 'Done (no-op).';
/** 4 counted requests per job every 120 ms: 33 per second, under discord.js's 50. */
const JOB_SPACING_MS = 120;

/** FakeBot whose every turn (and tool call) starts a job on a real in-process queue that does nothing, then finishes it. */
export class NoopQueueBot extends DiscordFakeBot {
  readonly queue = new InProcessQueue<string, string>(async (job) => job.payload, {
    concurrency: 4,
    maxRunningPerUser: 4,
    maxActivePerUser: 1000,
    maxAttempts: 1,
    backoffMs: 0,
    timeoutMs: 60_000,
  });

  constructor() {
    super();
    this.queue.subscribe((event) => {
      if (event.type === 'completed') this.finish(event.jobId, DONE_TEXT);
    });
  }

  override async handleTurn(request: Parameters<BotApi['handleTurn']>[0]): Promise<TurnResult> {
    this.calls.push({ method: 'handleTurn', args: [request] });
    return this.startNoop(request, 'noop');
  }

  /** An agent's tool call (bench/mcp.ts): the same no-op job, named by the invocation's task. */
  override async invoke(request: Parameters<BotApi['invoke']>[0]): Promise<TurnResult> {
    return this.startNoop(request, request.invocation.task);
  }

  private async startNoop(request: Parameters<BotApi['handleTurn']>[0], task: string): Promise<TurnResult> {
    const conversation = this.conversations.get(request.conversationId)!;
    const userTurn: TurnView = { id: randomUUID(), role: 'user', text: request.text, media: [], createdAt: new Date().toISOString() };
    conversation.turns.push(userTurn);
    const job: JobView = { id: randomUUID(), state: 'queued', tasks: [task], queuePosition: 0, createdAt: new Date().toISOString() };
    this.jobs.set(job.id, { job, conversationId: request.conversationId });
    const { position } = await this.queue.enqueue({
      id: job.id,
      userId: request.user.externalId,
      conversationId: request.conversationId,
      payload: request.text,
    });
    return { userTurn, job: { ...job, queuePosition: position } };
  }

  override close(): void {
    void this.queue.close();
    super.close();
  }
}

export interface DiscordBenchOptions {
  warmup: number;
  /** Users sending `/vitron edit` at once in part 1. */
  users: number;
  /** Rounds of `users` interactions in part 1. */
  rounds: number;
  /** Timed no-op jobs per contender in part 2. */
  jobs: number;
}

export function discordOptions({ runs = 5, warmup = 1 }: MeasureOptions = {}): DiscordBenchOptions {
  return { warmup, users: 50, rounds: runs, jobs: runs * 10 };
}

/** Resolves with the first call matching, waiting at most `ms`: a lost callback fails the run instead of hanging it. */
async function waitFor(fake: FakeDiscord, match: (call: RecordedCall) => boolean, what: string, from = 0, ms = 30_000): Promise<RecordedCall> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench/discord: no ${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fake.waitFor(match, from), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const isFinalEdit = (interaction: { token: string }) => isOriginalEdit(interaction, (c) => c.status === 200 && c.body?.content === DONE_TEXT);

export async function runDiscordBench(o: DiscordBenchOptions): Promise<SectionReport> {
  const fake = await new FakeDiscord().start();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-discord-'));
  const bot = new NoopQueueBot();
  // No rate limit: 50 users of one server within a minute are what the per-guild limit exists to refuse.
  const settings = loadSettings(discordEnv(fake, dir, { USER_RATE_LIMIT_PER_MINUTE: '0' }));
  const adapter = await createDiscordAdapter({ bot, settings, logger: pino({ level: 'silent' }) });
  try {
    /** One `/vitron edit` from a new user; resolves with the ms to the deferred ack and to the final edit. */
    const interactOnce = async (): Promise<{ ackMs: number; doneMs: number }> => {
      const interaction = fake.slashCommand('edit', fake.user(), { prompt: 'nothing at all' });
      const from = fake.calls.length;
      const start = performance.now();
      fake.interact(interaction);
      const ack = waitFor(fake, isCallback(interaction, 5), 'deferred ack', from).then(() => performance.now() - start);
      const done = waitFor(fake, isFinalEdit(interaction), 'final edit', from).then(() => performance.now() - start);
      return { ackMs: await ack, doneMs: await done };
    };

    // Part 1: everyone at once; the other users' threads, edits and results compete for the same event loop.
    const acks: number[] = [];
    const finals: number[] = [];
    for (let round = 0; round < o.warmup + o.rounds; round++) {
      const results = await Promise.all(Array.from({ length: o.users }, () => interactOnce()));
      if (round >= o.warmup) {
        acks.push(...results.map((r) => r.ackMs));
        finals.push(...results.map((r) => r.doneMs));
      }
    }

    // Part 2: one job at a time, interleaved, so both contenders see the same load on a shared machine.
    const user = { platform: 'discord', externalId: 'bench-direct', name: 'bench' };
    const conversation = await bot.startConversation({ user, platform: 'discord', externalId: 'bench:direct', title: 'direct' });
    const direct = async (): Promise<number> => {
      const start = performance.now();
      // By conversation, not job id: a no-op job can finish before handleTurn has returned its id.
      const finished = new Promise<void>((resolve) => {
        const off = bot.subscribeAll((event: BotEvent) => {
          if (event.type === 'job.finished' && event.conversationId === conversation.id) {
            off();
            resolve();
          }
        });
      });
      await bot.handleTurn({ conversationId: conversation.id, user, text: 'nothing at all', files: [] });
      await finished;
      return performance.now() - start;
    };
    const viaAdapter: number[] = [];
    const straight: number[] = [];
    // discord.js sends at most 50 requests per second (Discord's global limit) and a job makes four that
    // count (fetch reply, open thread, two edits): paced, the timed jobs measure the adapter, not that limit.
    await sleep(1000);
    let lastStart = 0;
    for (let i = 0; i < o.warmup + o.jobs; i++) {
      await sleep(Math.max(0, lastStart + JOB_SPACING_MS - performance.now()));
      lastStart = performance.now();
      const a = (await interactOnce()).doneMs;
      const d = await direct();
      if (i >= o.warmup) {
        viaAdapter.push(a);
        straight.push(d);
      }
    }

    const p50 = percentile(acks, 0.5);
    const p99 = percentile(acks, 0.99);
    const adapterMedian = median(viaAdapter);
    const directMedian = median(straight);
    const adapterMin = Math.min(...viaAdapter);
    const directMin = Math.min(...straight);
    const pad = (label: string) => `  ${label.padEnd(58)}`;
    return {
      title: `Discord adapter on the local fake Discord (discord.js ${await discordJsVersion()}, fake and bot in this process)`,
      lines: [
        `${pad(`INTERACTION_CREATE → deferred ack, ${o.users} users at once`)} p50 ${formatMs(p50).padStart(9)}   p99 ${formatMs(p99).padStart(9)}   (${acks.length} interactions in ${o.rounds} rounds)`,
        `${pad(`INTERACTION_CREATE → final edit (no-op job), same users`)} p50 ${formatMs(percentile(finals, 0.5)).padStart(9)}   p99 ${formatMs(percentile(finals, 0.99)).padStart(9)}`,
        `  (bounded by discord.js's global 50 requests/s, Discord's own limit: each job makes 4 such requests after its ack)`,
        `${pad('no-op job via the adapter (/vitron edit → final edit)')} ${formatMs(adapterMedian).padStart(9)} (min ${formatMs(adapterMin)})`,
        `${pad('same no-op job straight to the bot (handleTurn → finished)')} ${formatMs(directMedian).padStart(9)} (min ${formatMs(directMin)})`,
        `${pad('adapter / direct')} ${formatRatio(adapterMedian / directMedian).padStart(9)} (min ${formatRatio(adapterMin / directMin)}); the adapter adds ${formatMs(adapterMedian - directMedian)} per job`,
        `  (bot: the tests' FakeBot over a real in-process queue with a no-op processor, so the ratio is the adapter's`,
        `   own cost — ack, thread, status and result edits through discord.js and the fake — not the planner's or the database's;`,
        `   ${o.jobs} jobs per side, one at a time, ${JOB_SPACING_MS} ms apart to stay under that 50/s;`,
        `   a real job takes 10 ms – minutes, so on real work the ratio is close to 1×)`,
      ],
      goals: [],
    };
  } finally {
    await adapter.close();
    await fake.close();
    bot.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function discordJsVersion(): Promise<string> {
  const { version } = await import('discord.js');
  return version;
}

export const discordSection: BenchSection = {
  name: 'discord',
  run: (options: MeasureOptions) => runDiscordBench(discordOptions(options)),
};
