import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpSession } from './session.ts';
import { TOOLS } from './tool-catalog.ts';
import { MEDIA_URI_PREFIX, ToolOutputSchema, mediaUri } from './tool-results.ts';

export const SERVER_INFO = { name: 'vitron-chat', version: '0.1.0' } as const;

const INSTRUCTIONS = [
  'Vision tools that understand, segment, edit and generate images and videos on this server.',
  'Each call returns text, the result media inline and as vitron://media/ links, and structured content with the media ids.',
  'Pass an id from an earlier result as "media" to work on it; without "media" a tool works on the latest result ("current").',
  'New media comes in as base64 ({"data": ..., "mimeType": ...}), a data: URL, or an https URL on a host the operator allows.',
].join(' ');

/**
 * The MCP server of one session: a tool per task of the task table, and the session's media as resources.
 * Transport-free: stdio and Streamable HTTP each connect one of these per session.
 */
export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: ToolOutputSchema,
        annotations: { title: tool.title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      },
      (args, extra) => session.call(tool, args as Record<string, unknown>, extra),
    );
  }
  server.registerResource(
    'media',
    new ResourceTemplate(`${MEDIA_URI_PREFIX}{id}`, {
      list: async () => ({
        resources: (await session.media()).map((view) => ({
          uri: mediaUri(view.id),
          name: view.label ?? `${view.kind} ${view.ordinal ?? view.id}`,
          mimeType: view.mime,
          size: view.bytes,
          description: `${view.role} ${view.kind}, ${view.width}×${view.height}`,
        })),
      }),
    }),
    { title: 'Media of this session', description: 'Uploads and results of this session, by id' },
    async (uri, variables) => {
      const id = String(variables.id);
      const { view, bytes } = await session.read(id);
      return { contents: [{ uri: uri.href, mimeType: view.mime, blob: bytes.toString('base64') }] };
    },
  );
  return server;
}
