import fs from 'node:fs/promises';
import type { BotApi, IncomingFile } from '../../src/app/bot-api.ts';
import { DownloadRefusedError, InvalidArgumentError, MediaTooLargeError, NotFoundError } from '../../src/errors.ts';
import { formatBytes } from '../../src/media/limits.ts';
import { TargetRefSchema } from '../../src/planner/plan-schema.ts';
import { downloadCapped, hostAllowed } from '../shared/capped-download.ts';
import type { MediaInput } from './tool-catalog.ts';

export interface MediaInputOptions {
  bot: Pick<BotApi, 'history' | 'media'>;
  conversationId: string;
  /** MCP_MEDIA_HOSTS: URLs on other hosts are refused before any request is made. */
  allowedHosts: readonly string[];
  maxBytes: number;
  /** Plain http is accepted only for these hosts (the tests' local servers). */
  insecureHosts?: readonly string[];
  fetch?: typeof fetch;
}

/** A tool call's media as the bot takes it: target references, with the files they name attached to the turn. */
export interface ResolvedMedia {
  targets: string[];
  files: IncomingFile[];
}

/**
 * Turns each media argument into a target reference. Media of this session is named by its place ("image:3"),
 * so the result stays in its lineage ("undo" and "original" mean what they do in chat); new bytes (a URL, base64)
 * become files of the turn, named `upload:N`. An id of another session is unknown here, like anywhere else.
 */
export async function resolveMediaInputs(inputs: readonly (MediaInput | undefined)[], options: MediaInputOptions): Promise<ResolvedMedia> {
  const resolved: ResolvedMedia = { targets: [], files: [] };
  const attach = (file: IncomingFile) => {
    resolved.files.push(file);
    return `upload:${resolved.files.length}`;
  };
  for (const input of inputs) {
    if (input === undefined) continue;
    resolved.targets.push(await targetOf(input, options, attach));
  }
  return resolved;
}

async function targetOf(input: MediaInput, options: MediaInputOptions, attach: (file: IncomingFile) => string): Promise<string> {
  if (typeof input !== 'string') return attach({ bytes: decodeBase64(input.data, options.maxBytes), ...(input.name ? { name: input.name } : {}) });
  if (input.startsWith('data:')) return attach({ bytes: decodeDataUrl(input, options.maxBytes) });
  if (/^https?:\/\//i.test(input)) return attach({ bytes: await download(input, options), name: fileNameOf(input) });
  if (TargetRefSchema.safeParse(input).success && !input.startsWith('upload')) return input;
  return sessionMedia(input, options, attach);
}

async function sessionMedia(id: string, options: MediaInputOptions, attach: (file: IncomingFile) => string): Promise<string> {
  const history = await options.bot.history(options.conversationId);
  const found = history.turns.flatMap((turn) => turn.media).find((m) => m.id === id);
  if (found === undefined) {
    throw new NotFoundError(
      `Media "${id.slice(0, 80)}" of this session (give an id an earlier call returned, a reference such as "current", an https URL or base64 data)`,
    );
  }
  if (found.ordinal !== undefined) return `${found.kind}:${found.ordinal}`;
  // Masks and overlays have no place in the lineage; their bytes go in as a file (a mask for inpaint).
  const { path } = await options.bot.media(found.id);
  return attach({ bytes: new Uint8Array(await fs.readFile(path)), name: found.label ?? found.id });
}

async function download(url: string, options: MediaInputOptions): Promise<Uint8Array> {
  if (options.allowedHosts.length === 0) {
    throw new DownloadRefusedError('This server takes no media URLs (the operator allows none in MCP_MEDIA_HOSTS); send the file as base64 instead.');
  }
  // The operator's list is checked here first, so the refusal names it; downloadCapped checks again on redirects.
  const host = URL.canParse(url) ? new URL(url).hostname : '';
  if (!hostAllowed(host, options.allowedHosts)) {
    throw new DownloadRefusedError(`Media URLs are fetched only from the hosts the operator allows (MCP_MEDIA_HOSTS), not ${host || 'that link'}.`, { host });
  }
  return downloadCapped(url, {
    allowedHosts: options.allowedHosts,
    maxBytes: options.maxBytes,
    ...(options.insecureHosts ? { insecureHosts: options.insecureHosts } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

function decodeDataUrl(url: string, maxBytes: number): Uint8Array {
  const match = /^data:[^,;]*(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (!match) throw new InvalidArgumentError('A data: URL must be base64-encoded (data:image/png;base64,...).');
  return decodeBase64(match[1]!, maxBytes);
}

function decodeBase64(data: string, maxBytes: number): Uint8Array {
  const text = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new InvalidArgumentError('The media data is not base64.');
  // Checked before decoding, so an oversized argument costs no copy of its bytes.
  const size = Math.floor((text.length * 3) / 4);
  if (size > maxBytes) throw new MediaTooLargeError('The file', formatBytes(maxBytes), formatBytes(size));
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '';
  try {
    return decodeURIComponent(last).slice(0, 100) || 'download';
  } catch {
    return last.slice(0, 100);
  }
}
