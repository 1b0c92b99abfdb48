/**
 * The MCP adapter's cost per tool call, two ways, one job at a time and interleaved with the same job
 * submitted straight to the bot (invoke → job.finished):
 *  1. a no-op job on the Discord section's NoopQueueBot (the tests' FakeBot over a real InProcessQueue with a
 *     no-op processor): the adapter's own cost — the SDK client, JSON-RPC over Streamable HTTP or in memory, the session;
 *  2. a real small job (rotate a 64×64 picture) on the real bot of `npm start` (PGlite, media store, worker):
 *     the ratio a user of the tools sees, with the result's bytes read back into the tool result.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { mcpHttpRoutes } from '../adapters/mcp/http.ts';
import { createMcpServer } from '../adapters/mcp/mcp-server.ts';
import { McpSession } from '../adapters/mcp/session.ts';
import { startWebServer } from '../adapters/web/server.ts';
import type { BotApi, BotEvent } from '../src/app/bot-api.ts';
import { createBot } from '../src/app/create-bot.ts';
import { loadSettings } from '../src/config/settings.ts';
import { NoopQueueBot } from './discord.ts';
import { formatRatio, measureInterleaved, type BenchSection, type Measurement, type MeasureOptions, type SectionReport } from './measure.ts';

const TOKEN = 'bench-mcp-token-0123456789';
const SETTINGS = { MCP_TOKEN: TOKEN, SAFETY: 'off' as const, MCP_NSFW: false, MCP_MEDIA_HOSTS: undefined, MAX_UPLOAD_BYTES: 50 * 1024 * 1024 };
/** The goal: a tool call costs at most 1.2× the direct job, or at most 5 ms more. */
const GOAL_RATIO = 1.2;
const GOAL_EXTRA_MS = 5;

/** Milliseconds with two decimals: a no-op job takes well under one. */
const ms = (value: number): string => `${value.toFixed(2)} ms`;

/** The job both sides run: the same task and arguments, straight or as a tool call. */
type RacedJob = { task: 'transform' | 'reverse'; args: Record<string, unknown> };

/** Direct, MCP over HTTP and MCP in memory on one bot, interleaved; returns their measurements. */
async function race(bot: BotApi, invocation: RacedJob, seed: Uint8Array | undefined, runs: number, warmup: number): Promise<Measurement[]> {
  const logger = pino({ level: 'silent' });
  const web = await startWebServer({
    bot,
    settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: SETTINGS.MAX_UPLOAD_BYTES },
    routes: [mcpHttpRoutes({ bot, settings: SETTINGS, logger })],
  });
  const overHttp = new Client({ name: 'bench', version: '1.0.0' });
  const inMemory = new Client({ name: 'bench', version: '1.0.0' });
  try {
    await overHttp.connect(new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const session = new McpSession({
      bot,
      settings: SETTINGS,
      logger,
      user: { platform: 'mcp', externalId: 'bench-memory' },
      key: `bench-memory-${randomUUID()}`,
    });
    await createMcpServer(session).connect(serverSide);
    await inMemory.connect(clientSide);

    const user = { platform: 'mcp', externalId: `bench-direct-${randomUUID()}` };
    const conversation = await bot.startConversation({ user, platform: 'mcp', externalId: `bench-direct-${randomUUID()}` });
    const submit = async (files: { bytes: Uint8Array }[], targets: string[]) => {
      // By conversation, not job id: a no-op job can finish before invoke has returned its id.
      const finished = new Promise<void>((resolve) => {
        const off = bot.subscribe(conversation.id, (event: BotEvent) => {
          if (event.type === 'job.finished') {
            off();
            resolve();
          }
        });
      });
      const result = await bot.invoke({ conversationId: conversation.id, user, text: invocation.task, files, invocation: { ...invocation, targets } });
      if (!result.job) throw new Error(`bench/mcp: the bot started no job: ${result.botTurn?.text}`);
      await finished;
    };
    const call = async (client: Client, args: Record<string, unknown>) => {
      const result = await client.callTool({ name: invocation.task, arguments: { ...invocation.args, ...args } });
      if (result.isError) throw new Error(`bench/mcp: the tool call failed: ${JSON.stringify(result.content)}`);
    };
    // Each side starts from the same picture, so every timed job works on media of the same size.
    if (seed) {
      await submit([{ bytes: seed }], ['upload']);
      await call(overHttp, { media: { data: Buffer.from(seed).toString('base64') } });
      await call(inMemory, { media: { data: Buffer.from(seed).toString('base64') } });
    }
    return await measureInterleaved(
      [
        { label: 'direct', fn: () => submit([], ['current']) },
        { label: 'http', fn: () => call(overHttp, {}) },
        { label: 'memory', fn: () => call(inMemory, {}) },
      ],
      { runs, warmup },
    );
  } finally {
    await overHttp.close().catch(() => undefined);
    await inMemory.close().catch(() => undefined);
    await web.close();
  }
}

function lines(title: string, [d, h, m]: Measurement[]): string[] {
  const pad = (label: string) => `  ${label.padEnd(64)}`;
  const line = (label: string, x: Measurement) => `${pad(label)} ${ms(x.medianMs).padStart(10)} (min ${ms(x.minMs)})`;
  return [
    `  ${title}`,
    line('  straight to the bot (invoke → finished)', d!),
    line('  as an MCP tool call, Streamable HTTP at /mcp', h!),
    line('  as an MCP tool call, in-memory transport', m!),
    `${pad('  MCP over HTTP / direct')} ${formatRatio(h!.medianMs / d!.medianMs).padStart(10)} (min ${formatRatio(h!.minMs / d!.minMs)}); adds ${ms(h!.medianMs - d!.medianMs)}`,
    `${pad('  MCP in memory / direct')} ${formatRatio(m!.medianMs / d!.medianMs).padStart(10)}; adds ${ms(m!.medianMs - d!.medianMs)}`,
  ];
}

export async function runMcpBench({ runs = 5, warmup = 1 }: MeasureOptions): Promise<SectionReport> {
  const noopBot = new NoopQueueBot();
  let noop: Measurement[];
  try {
    noop = await race(noopBot, { task: 'reverse', args: {} }, undefined, runs * 20, warmup * 5);
  } finally {
    noopBot.close();
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-mcp-'));
  const running = await createBot(
    loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', LOG_LEVEL: 'silent', SAFETY: 'off', USER_RATE_LIMIT_PER_MINUTE: '0' }),
  );
  let real: Measurement[];
  try {
    const picture = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    real = await race(running.bot, { task: 'transform', args: { rotate: 90 } }, picture, runs * 4, warmup * 2);
  } finally {
    await running.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
  const [d, h] = real;
  const ratio = h!.medianMs / d!.medianMs;
  const extra = h!.medianMs - d!.medianMs;
  const met = ratio <= GOAL_RATIO || extra <= GOAL_EXTRA_MS;
  return {
    title: 'MCP adapter per tool call (SDK client and server in this process)',
    lines: [
      ...lines(`no-op job on the tests' FakeBot over a real in-process queue (${runs * 20} per side): the adapter's own cost`, noop),
      ...lines(`rotate a 64×64 picture on the real bot of npm start (PGlite, worker; ${runs * 4} per side)`, real),
      `  goal (real bot): MCP over HTTP ≤ ${formatRatio(GOAL_RATIO)} direct or ≤ +${GOAL_EXTRA_MS} ms: ${formatRatio(ratio)}, +${ms(extra)} ${met ? 'MET' : 'NOT MET'}`,
      '  (one job at a time, interleaved; the MCP side also reads the result back as inline image content)',
    ],
    goals: [],
  };
}

export const mcpSection: BenchSection = { name: 'mcp', run: runMcpBench };
