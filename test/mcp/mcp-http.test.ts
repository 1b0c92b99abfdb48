import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpHttpRoutes } from '../../adapters/mcp/http.ts';
import { TOOLS } from '../../adapters/mcp/tool-catalog.ts';
import { startWebServer, type WebServer } from '../../adapters/web/server.ts';
import type { BotEvent } from '../../src/app/bot-api.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { makeClip, makeTempDir, testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

/**
 * The MCP endpoint of `npm start`'s server, driven by the SDK's own client over Streamable HTTP against a real
 * bot (PGlite, in-process queue, the npm-weight cut-out model, ffmpeg, the fake ComfyUI for a long job).
 */

const photos = await requires('testdata');

const TOKEN = 'mcp-test-token-0123456789';
type Harness = Awaited<ReturnType<typeof startTestBot>>;

let harness: Harness;
let web: WebServer;
let comfy: FakeComfyUi;
let media: { dir: string; cleanup: () => Promise<void> };
const events: BotEvent[] = [];

async function connect(token = TOKEN): Promise<Client> {
  const client = new Client({ name: 'vitron-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const textOf = (result: CallToolResult): string => result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
const imagesOf = (result: CallToolResult) => result.content.flatMap((c) => (c.type === 'image' ? [c] : []));
const linksOf = (result: CallToolResult) => result.content.flatMap((c) => (c.type === 'resource_link' ? [c] : []));
const structured = (result: CallToolResult) =>
  result.structuredContent as { media: { id: string; uri: string; kind: string; mimeType: string }[]; current?: string; jobId?: string };

beforeAll(async () => {
  comfy = await FakeComfyUi.start();
  harness = await startTestBot({
    SAFETY: 'off',
    MCP_TOKEN: TOKEN,
    MCP_MEDIA_HOSTS: '127.0.0.1',
    COMFYUI_URL: comfy.url,
    GENERATION_ENGINES: 'comfyui',
  });
  const { bot } = harness.running;
  bot.subscribeAll((event) => events.push(event));
  web = await startWebServer({
    bot,
    settings: { ...harness.settings, HOST: '127.0.0.1', PORT: 0 },
    routes: [mcpHttpRoutes({ bot, settings: harness.settings, logger: harness.running.logger, insecureHosts: ['127.0.0.1'] })],
  });
  media = await makeTempDir('vitron-mcp-');
});

afterAll(async () => {
  await web?.close();
  await harness?.cleanup();
  await comfy?.close();
  await media?.cleanup();
});

describe('MCP over Streamable HTTP', () => {
  it('lists one tool per task of the task table (plus undo, redo, revert), with each argument’s type, range and meaning', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    const cutout = tools.find((t) => t.name === 'cutout')!;
    expect(Object.keys(cutout.inputSchema.properties ?? {})).toContain('media');
    const trim = tools.find((t) => t.name === 'trim')!.inputSchema as { properties: Record<string, { type?: string; minimum?: number; description?: string }> };
    expect(trim.properties.start).toMatchObject({ type: 'number', minimum: -86400, description: expect.stringContaining('negative counts back') });
    const toGif = tools.find((t) => t.name === 'to_gif')!.inputSchema as { properties: Record<string, { enum?: string[] }>; required?: string[] };
    expect(toGif.properties.format!.enum).toEqual(['gif', 'webp']);
    expect(toGif.required).toEqual(['format']);
    expect(tools.find((t) => t.name === 'generate_image')!.inputSchema.properties).not.toHaveProperty('media');
    await client.close();
  });

  photos.it('cuts out the horse of a real photo sent as base64, chains a flip on the returned id, reads it back as a resource, and undoes', async () => {
    const client = await connect();
    const horse = await fs.readFile(testdata('horse.png'));
    const cut = await call(client, 'cutout', { media: { data: horse.toString('base64'), mimeType: 'image/png' } });
    expect(cut.isError, textOf(cut)).toBeFalsy();
    const [picture] = imagesOf(cut);
    const decoded = await sharp(Buffer.from(picture!.data, 'base64')).metadata();
    expect(decoded).toMatchObject({ hasAlpha: true, width: (await sharp(horse).metadata()).width });
    const cutId = structured(cut).media[0]!.id;
    expect(linksOf(cut)[0]).toMatchObject({ uri: `vitron://media/${cutId}`, mimeType: 'image/png' });
    expect(structured(cut).current).toBe(cutId);

    const flipped = await call(client, 'transform', { media: cutId, flip: 'horizontal' });
    expect(flipped.isError, textOf(flipped)).toBeFalsy();
    const flippedId = structured(flipped).media[0]!.id;
    const cutBytes = (await client.readResource({ uri: `vitron://media/${cutId}` })).contents[0] as { blob: string; mimeType: string };
    const flippedBytes = (await client.readResource({ uri: `vitron://media/${flippedId}` })).contents[0] as { blob: string };
    const mirror = await sharp(Buffer.from(cutBytes.blob, 'base64')).flop().raw().toBuffer();
    expect(Buffer.compare(mirror, await sharp(Buffer.from(flippedBytes.blob, 'base64')).raw().toBuffer())).toBe(0);
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining([`vitron://media/${cutId}`, `vitron://media/${flippedId}`]),
    );

    const undone = await call(client, 'undo', {});
    expect(undone.isError, textOf(undone)).toBeFalsy();
    expect(structured(undone).media[0]!.id).toBe(cutId);
    await client.close();
  });

  it('keeps each session its own: an id from another session is unknown, and so is its resource', async () => {
    const a = await connect();
    const b = await connect();
    const square = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const made = await call(a, 'transform', { media: `data:image/png;base64,${square.toString('base64')}`, rotate: 90 });
    const id = structured(made).media[0]!.id;
    const elsewhere = await call(b, 'transform', { media: id, rotate: 90 });
    expect(elsewhere.isError).toBe(true);
    expect(textOf(elsewhere)).toMatch(/of this session/);
    await expect(b.readResource({ uri: `vitron://media/${id}` })).rejects.toThrow(/of this session/);
    await a.close();
    await b.close();
  });

  photos.it('answers a bad argument and a bad file with tool errors that say what is wrong, not protocol failures', async () => {
    const client = await connect();
    const badArg = await call(client, 'speed', { factor: 50 });
    expect(badArg.isError).toBe(true);
    expect(textOf(badArg)).toMatch(/factor/);
    const unknownArg = await call(client, 'cutout', { colour: 'red' });
    expect(unknownArg.isError).toBe(true);
    expect(textOf(unknownArg)).toMatch(/colour/);
    const truncated = await fs.readFile(testdata('truncated.jpg'));
    const badFile = await call(client, 'cutout', { media: { data: truncated.toString('base64'), mimeType: 'image/jpeg' } });
    expect(badFile.isError).toBe(true);
    expect(textOf(badFile)).toMatch(/corrupt|damaged|incomplete|cannot be read|could not read/i);
    // caption runs on the npm-shipped detectors; segment_at still needs slimsam-77 pulled. The agent hears what a
    // chat user hears, and — unlike a chat — what the operator would pull (an agent's user often is the operator).
    const gray = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888888' } })
      .png()
      .toBuffer();
    const notInstalled = await call(client, 'segment_at', { media: `data:image/png;base64,${gray.toString('base64')}`, points: [[4, 4]] });
    expect(notInstalled.isError).toBe(true);
    expect(textOf(notInstalled)).toMatch(
      /^This server can't select the object at a point yet — ask its admin to enable click-to-select\.\nFor the operator: segment_at needs the model "slimsam-77", which is not installed\. .*npm run models -- pull slimsam-77/s,
    );
    const noRule = await call(client, 'trim', { media: 'current' });
    expect(noRule.isError).toBe(true);
    expect(textOf(noRule)).toMatch(/start or an end/);
    await client.close();
  });

  it('refuses requests without the token or with a wrong one, and everyone when MCP_TOKEN is unset', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const post = (url: string, headers: Record<string, string>) =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initialize),
      });
    expect((await post(web.url, {})).status).toBe(401);
    expect((await post(web.url, { authorization: 'Bearer not-the-token-at-all!!' })).status).toBe(401);
    await expect(connect('wrong-token-wrong-token')).rejects.toThrow();

    const { MCP_TOKEN: _unset, ...settings } = harness.settings;
    const closed = await startWebServer({
      bot: harness.running.bot,
      settings: { ...settings, HOST: '127.0.0.1', PORT: 0 },
      routes: [mcpHttpRoutes({ bot: harness.running.bot, settings: { ...settings, MCP_TOKEN: undefined }, logger: harness.running.logger })],
    });
    try {
      const refused = await post(closed.url, { authorization: `Bearer ${TOKEN}` });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/MCP_TOKEN/);
    } finally {
      await closed.close();
    }
  });

  it('fetches a media URL only from an allowed host, and refuses another host without a request to it', async () => {
    const hits: string[] = [];
    const square = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#cc3333' } })
      .png()
      .toBuffer();
    const files = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end(square);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const port = (files.address() as AddressInfo).port;
    const client = await connect();
    try {
      const refused = await call(client, 'transform', { media: `http://localhost:${port}/square.png`, rotate: 90 });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/MCP_MEDIA_HOSTS\), not localhost/);
      expect(hits).toEqual([]);

      const fetched = await call(client, 'transform', { media: `http://127.0.0.1:${port}/square.png`, rotate: 90 });
      expect(fetched.isError, textOf(fetched)).toBeFalsy();
      expect(hits).toEqual(['/square.png']);
      expect(structured(fetched).media[0]).toMatchObject({ kind: 'image' });
      expect(await sharp(Buffer.from(imagesOf(fetched)[0]!.data, 'base64')).metadata()).toMatchObject({ width: 20, height: 40 });
    } finally {
      await client.close();
      await new Promise((resolve) => files.close(resolve));
    }
  });

  it('reports progress while a video job runs and returns the video as a resource link', async () => {
    const client = await connect();
    const clip = await fs.readFile(await makeClip(media.dir, 'progress', { seconds: 4, fps: 25, width: 320, height: 240 }));
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const reversed = (await client.callTool({ name: 'reverse', arguments: { media: { data: clip.toString('base64'), mimeType: 'video/mp4' } } }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(reversed.isError, textOf(reversed)).toBeFalsy();
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(progress.some((p) => p.progress > 0 && p.message !== undefined)).toBe(true);
    expect(linksOf(reversed)[0]).toMatchObject({ mimeType: 'video/mp4' });
    expect(structured(reversed).media[0]).toMatchObject({ kind: 'video' });
    await client.close();
  });

  it('cancels the job when the client cancels the call', async () => {
    comfy.stepDelayMs = 400;
    const client = await connect();
    const from = events.length;
    const abort = new AbortController();
    const calling = client.callTool({ name: 'generate_image', arguments: { prompt: 'a lighthouse at dusk', steps: 20 } }, undefined, {
      signal: abort.signal,
      onprogress: (p) => {
        if (p.progress > 0) abort.abort();
      },
    });
    await expect(calling).rejects.toThrow();
    const queued = events.slice(from).find((e) => e.type === 'job.queued');
    expect(queued).toBeDefined();
    const jobId = queued!.type === 'job.queued' ? queued!.job.id : '';
    // The job's end is its job.finished event, already recorded or still to come.
    const isEnd = (e: BotEvent) => e.type === 'job.finished' && e.job.id === jobId;
    await (events.find(isEnd) ??
      new Promise<BotEvent>((resolve) => {
        const off = harness.running.bot.subscribeAll((e) => {
          if (!isEnd(e)) return;
          off();
          resolve(e);
        });
      }));
    expect((await harness.running.bot.job(jobId)).state).toBe('cancelled');
    comfy.stepDelayMs = 1;
    await client.close();
  });
});
