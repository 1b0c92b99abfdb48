import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../adapters/mcp/mcp-server.ts';
import { McpSession } from '../../adapters/mcp/session.ts';
import { TASKS, factsOf, isSessionTask, type Task } from '../../src/core/tasks.ts';
import { FakeBot } from '../web/fake-bot.ts';

/** The tool list as a client receives it, compared with the task table row by row. */

interface JsonProperty {
  type?: string;
  description?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  anyOf?: unknown[];
}
interface Listed {
  name: string;
  description?: string;
  inputSchema: { properties?: Record<string, JsonProperty>; required?: string[]; additionalProperties?: boolean };
  outputSchema?: { properties?: Record<string, unknown> };
}

let client: Client;
let tools: Listed[];

beforeAll(async () => {
  const bot = new FakeBot();
  const session = new McpSession({
    bot,
    settings: { SAFETY: 'off', MCP_NSFW: false, MCP_MEDIA_HOSTS: undefined, MAX_UPLOAD_BYTES: 1024 },
    logger: { warn: () => undefined, info: () => undefined, error: () => undefined },
    user: { platform: 'mcp', externalId: 'catalog-test' },
    key: 'catalog-test',
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(session).connect(serverSide);
  client = new Client({ name: 'catalog-test', version: '1.0.0' });
  await client.connect(clientSide);
  tools = (await client.listTools()).tools as Listed[];
});

afterAll(async () => {
  await client?.close();
});

const offered = TASKS.filter((task) => !isSessionTask(task) || ['undo', 'redo', 'revert'].includes(task));

describe('MCP tools made from the task table', () => {
  it('offers every task that runs work, and undo, redo and revert, but not help or cancel', () => {
    expect(tools.map((t) => t.name).sort()).toEqual([...offered].sort());
    expect(tools.map((t) => t.name)).not.toContain('help');
    expect(tools.map((t) => t.name)).not.toContain('cancel');
  });

  it.each(offered)('%s: its arguments are the row’s arguments, with the same meanings, ranges, choices and required ones', (task: Task) => {
    const facts = factsOf(task);
    const tool = tools.find((t) => t.name === task)!;
    expect(tool.description).toContain(facts.example);
    const properties = tool.inputSchema.properties ?? {};
    const media = facts.target === 'none' || isSessionTask(task) ? [] : task === 'inpaint' ? ['media', 'mask'] : ['media'];
    expect(Object.keys(properties).sort()).toEqual([...Object.keys(facts.args), ...media].sort());
    expect((tool.inputSchema.required ?? []).sort()).toEqual(
      Object.entries(facts.args)
        .filter(([, spec]) => spec.required)
        .map(([name]) => name)
        .sort(),
    );
    expect(tool.inputSchema.additionalProperties).toBe(false);
    for (const [name, spec] of Object.entries(facts.args)) {
      const property = properties[name]!;
      expect(property.description).toBe(spec.about);
      if (spec.kind === 'choice') expect(property.enum).toEqual([...spec.choices]);
      if ((spec.kind === 'number' && spec.values === undefined) || spec.kind === 'seconds') {
        expect(property).toMatchObject({ type: 'number', minimum: spec.min, maximum: spec.max });
      }
      if (spec.kind === 'text') expect(property.type).toBe('string');
    }
    expect(Object.keys(tool.outputSchema?.properties ?? {})).toEqual(expect.arrayContaining(['text', 'media']));
  });
});
