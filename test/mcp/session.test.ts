import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../adapters/mcp/mcp-server.ts';
import { McpSession } from '../../adapters/mcp/session.ts';
import type { BotEvent, JobView } from '../../src/app/bot-api.ts';
import { randomBytes } from '../helpers/media-fixtures.ts';
import { FakeBot } from '../web/fake-bot.ts';
import { createAdmission } from '../../src/limits/admission.ts';
import { loadSettings } from '../../src/config/settings.ts';

/**
 * How a tool call turns the bot's answer into a tool result, on the tests' FakeBot (the test plays the worker):
 * the NSFW rule of MCP, "which one?", large pictures, progress that only goes up, and cancellation.
 */

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
const open: { client: Client; bot: FakeBot }[] = [];
afterEach(async () => {
  for (const { client, bot } of open.splice(0)) {
    await client.close();
    bot.close();
  }
});

async function connect(options: { nsfw?: boolean; bot?: FakeBot } = {}): Promise<{ client: Client; bot: FakeBot; queued: () => Promise<JobView> }> {
  const bot = options.bot ?? new FakeBot();
  const session = new McpSession({
    bot,
    settings: { SAFETY: 'flag', MCP_NSFW: options.nsfw ?? false, MCP_MEDIA_HOSTS: undefined, MAX_UPLOAD_BYTES: 10 * 1024 * 1024 },
    logger: quiet,
    user: { platform: 'mcp', externalId: 'session-test' },
    key: 'session-test',
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(session).connect(serverSide);
  const client = new Client({ name: 'session-test', version: '1.0.0' });
  await client.connect(clientSide);
  open.push({ client, bot });
  const queued = () =>
    new Promise<JobView>((resolve) => {
      const off = bot.subscribeAll((event: BotEvent) => {
        if (event.type === 'job.queued') {
          off();
          resolve(event.job);
        }
      });
    });
  return { client, bot, queued };
}

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
const texts = (result: CallToolResult) => result.content.flatMap((c) => (c.type === 'text' ? [c.text] : []));

describe('an MCP tool call on the bot', () => {
  it('withholds a result the NSFW filter flags, says why, and refuses to read it as a resource', async () => {
    const { client, bot, queued } = await connect();
    const job = queued();
    const calling = client.callTool({ name: 'generate_image', arguments: { prompt: 'a beach' } }) as Promise<CallToolResult>;
    const flagged = bot.addMedia(await png(8, 8), 'image/png', 'result', { safety: { nsfw: 0.97, flagged: true }, ordinal: 1 });
    bot.finish((await job).id, 'Here you go.', [flagged]);
    const result = await calling;
    expect(result.isError).toBeFalsy();
    expect(result.content.some((c) => c.type === 'image' || c.type === 'resource_link')).toBe(false);
    expect(texts(result)).toContain(
      'This picture was flagged as NSFW by the safety filter, so I only post it in chats that allow it (to MCP clients only where the operator sets MCP_NSFW=true).',
    );
    expect((result.structuredContent as { media: unknown[] }).media).toEqual([]);
    await expect(client.readResource({ uri: `vitron://media/${flagged.id}` })).rejects.toThrow(/flagged as NSFW/);
  });

  it('delivers the same result where the operator allows NSFW over MCP', async () => {
    const { client, bot, queued } = await connect({ nsfw: true });
    const job = queued();
    const calling = client.callTool({ name: 'generate_image', arguments: { prompt: 'a beach' } }) as Promise<CallToolResult>;
    const flagged = bot.addMedia(await png(8, 8), 'image/png', 'result', { safety: { nsfw: 0.97, flagged: true }, ordinal: 1 });
    bot.finish((await job).id, 'Here you go.', [flagged]);
    const result = await calling;
    expect(result.content.filter((c) => c.type === 'image')).toHaveLength(1);
    expect((result.structuredContent as { media: { id: string }[]; current: string }).current).toBe(flagged.id);
  });

  it('turns "which one?" into numbered options and tells the agent to call again with pick', async () => {
    const { client, bot, queued } = await connect();
    const job = queued();
    const calling = client.callTool({ name: 'remove', arguments: { phrase: 'the dog' } }) as Promise<CallToolResult>;
    bot.finish((await job).id, 'I found 2 dogs. Which one?', [], {
      choice: { question: 'Which dog?', options: ['the left one', 'the right one'] },
      tone: 'question',
    });
    const result = await calling;
    expect(result.isError).toBeFalsy();
    expect(texts(result)[0]).toBe('I found 2 dogs. Which one?\n1. the left one\n2. the right one\nCall the tool again with "pick" set to the number.');
    expect(result.structuredContent).toMatchObject({ choice: { options: ['the left one', 'the right one'] } });
  });

  it('sends a picture over 1 MiB inline as a WebP preview of at most 1024 px, and links the full picture', async () => {
    const { client, bot, queued } = await connect();
    const job = queued();
    const calling = client.callTool({ name: 'upscale', arguments: { factor: 4 } }) as Promise<CallToolResult>;
    // Noise does not compress: well over 1 MiB as PNG.
    const noise = await sharp(randomBytes(1600 * 1200 * 3), { raw: { width: 1600, height: 1200, channels: 3 } })
      .png()
      .toBuffer();
    expect(noise.length).toBeGreaterThan(1024 * 1024);
    const big = bot.addMedia(noise, 'image/png', 'result', { width: 1600, height: 1200, ordinal: 1 });
    bot.finish((await job).id, 'Upscaled.', [big]);
    const result = await calling;
    const image = result.content.find((c) => c.type === 'image');
    expect(image).toMatchObject({ mimeType: 'image/webp' });
    expect(await sharp(Buffer.from(image!.type === 'image' ? image!.data : '', 'base64')).metadata()).toMatchObject({
      width: 1024,
      height: 768,
      format: 'webp',
    });
    expect(result.content.find((c) => c.type === 'resource_link')).toMatchObject({ mimeType: 'image/png', size: noise.length });
  });

  it('reports progress only upwards, with the step’s note, and cancels the job when the client cancels the call', async () => {
    const { client, bot, queued } = await connect();
    const job = queued();
    const progress: { progress: number; message?: string }[] = [];
    const abort = new AbortController();
    const calling = client.callTool({ name: 'reverse', arguments: {} }, undefined, { signal: abort.signal, onprogress: (p) => progress.push(p) });
    const { id } = await job;
    const seen = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (progress.length >= n ? resolve() : setTimeout(check, 5));
        check();
      });
    bot.progress(id, 0.5, 'decoding');
    bot.progress(id, 0.3, 'going back');
    bot.progress(id, 0.8, 'encoding');
    await seen(3);
    expect(progress.map((p) => [p.progress, p.message])).toEqual([
      [0, 'queued'],
      [50, 'decoding'],
      [80, 'encoding'],
    ]);
    abort.abort();
    await expect(calling).rejects.toThrow();
    const cancelled = new Promise<void>((resolve) => {
      const check = () => (bot.calls.some((c) => c.method === 'cancelJob' && c.args[0] === id) ? resolve() : setTimeout(check, 5));
      check();
    });
    await cancelled;
  });

  it('applies the per-user request limits of every platform: a call past them is a tool error and starts nothing', async () => {
    const bot = new FakeBot(await createAdmission(loadSettings({ USER_RATE_LIMIT_PER_MINUTE: '1' })));
    const { client, queued } = await connect({ bot });
    const job = queued();
    const first = client.callTool({ name: 'reverse', arguments: {} }) as Promise<CallToolResult>;
    bot.finish((await job).id, 'Reversed.');
    expect((await first).isError).toBeFalsy();
    const second = (await client.callTool({ name: 'reverse', arguments: {} })) as CallToolResult;
    expect(second.isError).toBe(true);
    expect(texts(second)[0]).toMatch(/^You are sending requests faster than/);
    expect(bot.calls.filter((c) => c.method === 'invoke')).toHaveLength(1);
  });
});
