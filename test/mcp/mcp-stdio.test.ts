import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLS } from '../../adapters/mcp/tool-catalog.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

/**
 * `npm run mcp` as a desktop client runs it: the SDK's stdio client spawns the entry from another working
 * directory, with the repository's tsx, and talks MCP over the child's stdin and stdout.
 */

const photos = await requires('testdata');

const REPO = path.resolve(import.meta.dirname, '../..');
let dataDir: string;
let client: Client;
let stderr = '';

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-mcp-stdio-'));
  const transport = new StdioClientTransport({
    command: path.join(REPO, 'node_modules/.bin/tsx'),
    args: [path.join(REPO, 'adapters/mcp/stdio.ts')],
    // A desktop client starts it wherever it likes; the entry finds the repository itself.
    cwd: os.tmpdir(),
    env: { DATA_DIR: dataDir, LOG_LEVEL: 'info', SAFETY: 'off', PATH: process.env.PATH ?? '' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  client = new Client({ name: 'vitron-stdio-test', version: '1.0.0' });
  await client.connect(transport);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('MCP over stdio (npm run mcp)', () => {
  it('lists the tools of the task table, with the logs on stderr and only protocol on stdout', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    expect(stderr).toMatch(/mcp stdio: ready/);
  });

  photos.it('cuts out a real photo, chains a grey-scale on the returned id, and keeps its conversations in DATA_DIR/db-mcp', async () => {
    const horse = await fs.readFile(testdata('horse.png'));
    const cut = (await client.callTool({ name: 'cutout', arguments: { media: { data: horse.toString('base64') } } })) as CallToolResult;
    expect(cut.isError, JSON.stringify(cut.content[0])).toBeFalsy();
    const image = cut.content.find((c) => c.type === 'image');
    expect(image).toBeDefined();
    const id = (cut.structuredContent as { media: { id: string }[] }).media[0]!.id;

    const grey = (await client.callTool({ name: 'adjust', arguments: { media: id, grayscale: true } })) as CallToolResult;
    expect(grey.isError, JSON.stringify(grey.content[0])).toBeFalsy();
    const greyImage = grey.content.find((c) => c.type === 'image');
    const { data, info } = await sharp(Buffer.from(greyImage!.type === 'image' ? greyImage!.data : '', 'base64'))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // Grey: the three channels of every pixel are equal.
    let coloured = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) coloured++;
    expect(coloured).toBe(0);
    expect(existsSync(path.join(dataDir, 'db-mcp'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'db'))).toBe(false);
  });
});
