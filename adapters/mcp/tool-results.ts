import fs from 'node:fs/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import sharp from 'sharp';
import { z } from 'zod';
import type { BotApi, JobView, MediaView, TurnView } from '../../src/app/bot-api.ts';
import type { MediaGate } from '../shared/safety-gate.ts';

/** Results are resources of this server; a client reads one again with resources/read. */
export const MEDIA_URI_PREFIX = 'vitron://media/';
export const mediaUri = (id: string): string => `${MEDIA_URI_PREFIX}${id}`;

/**
 * Pictures up to this size travel inline as image content; a larger one travels as a WebP preview (alpha kept, for cut-outs) of at most
 * PREVIEW_SIDE pixels a side (what a model looks at anyway), and the full picture stays a resource link.
 */
const INLINE_IMAGE_BYTES = 1024 * 1024;
const PREVIEW_SIDE = 1024;

const MediaOut = z.object({
  id: z.string(),
  uri: z.string(),
  kind: z.enum(['image', 'video']),
  mimeType: z.string(),
  width: z.number(),
  height: z.number(),
  role: z.string(),
  label: z.string().optional(),
  durationSec: z.number().optional(),
  seed: z.number().optional(),
});

/** What every tool returns as structured content: the bot's words, its media, boxes and a question back. */
export const ToolOutputSchema = z.object({
  text: z.string(),
  jobId: z.string().optional(),
  state: z.string().optional(),
  media: z.array(MediaOut),
  /** The media the session now works on ("current"): what an argument-less next call takes. */
  current: z.string().optional(),
  boxes: z
    .array(
      z.object({
        x1: z.number(),
        y1: z.number(),
        x2: z.number(),
        y2: z.number(),
        label: z.string().optional(),
        score: z.number().optional(),
        text: z.string().optional(),
      }),
    )
    .optional(),
  choice: z.object({ question: z.string(), options: z.array(z.string()) }).optional(),
});
export type ToolOutput = z.infer<typeof ToolOutputSchema>;

/** A failure the client's model should read and act on: a tool error, never a protocol error. */
export function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

export interface ResultContext {
  bot: Pick<BotApi, 'media'>;
  gate: MediaGate;
}

/**
 * A bot turn as a tool result: its words, each picture inline (held back when the safety filter says so) with a
 * resource link to its full bytes, videos as links, boxes and a "which one?" as structured content.
 */
export async function resultOf(turn: TurnView, job: JobView | undefined, current: string | undefined, context: ResultContext): Promise<CallToolResult> {
  const failed = turn.tone === 'error' || (job !== undefined && job.state !== 'succeeded');
  const content: CallToolResult['content'] = [{ type: 'text', text: textOf(turn, job) }];
  if (failed) return { content, isError: true };
  const media: ToolOutput['media'] = [];
  for (const view of turn.media) {
    const withheld = context.gate(view);
    if (withheld !== undefined) {
      content.push({ type: 'text', text: withheld });
      continue;
    }
    media.push(mediaOut(view));
    if (view.kind === 'image') content.push(await inlineImage(view, context.bot));
    content.push({
      type: 'resource_link',
      uri: mediaUri(view.id),
      name: view.label ?? `${view.kind} ${view.ordinal ?? view.id}`,
      mimeType: view.mime,
      size: view.bytes,
      description: `${view.role} ${view.kind}, ${view.width}×${view.height}${view.durationSec === undefined ? '' : `, ${view.durationSec.toFixed(1)} s`}`,
    });
  }
  const structured: ToolOutput = {
    text: turn.text,
    ...(job ? { jobId: job.id, state: job.state } : {}),
    media,
    ...(current ? { current } : {}),
    ...(turn.boxes ? { boxes: turn.boxes } : {}),
    ...(turn.choice ? { choice: turn.choice } : {}),
  };
  return { content, structuredContent: structured };
}

function textOf(turn: TurnView, job: JobView | undefined): string {
  const lines = [turn.text.trim() || job?.error?.message || (job?.state === 'cancelled' ? 'Cancelled.' : 'Done.')];
  // An agent's user is often the operator: the exact command or setting is theirs to act on.
  if (turn.operatorHint) lines.push(`For the operator: ${turn.operatorHint}`);
  if (turn.choice) {
    lines.push(...turn.choice.options.map((option, i) => `${i + 1}. ${option}`));
    lines.push('Call the tool again with "pick" set to the number.');
  }
  return lines.join('\n');
}

function mediaOut(view: MediaView): ToolOutput['media'][number] {
  return {
    id: view.id,
    uri: mediaUri(view.id),
    kind: view.kind,
    mimeType: view.mime,
    width: view.width,
    height: view.height,
    role: view.role,
    ...(view.label ? { label: view.label } : {}),
    ...(view.durationSec === undefined ? {} : { durationSec: view.durationSec }),
    ...(view.generation ? { seed: view.generation.seed } : {}),
  };
}

async function inlineImage(view: MediaView, bot: Pick<BotApi, 'media'>): Promise<CallToolResult['content'][number]> {
  const { path } = await bot.media(view.id);
  const bytes = await fs.readFile(path);
  if (bytes.length <= INLINE_IMAGE_BYTES) return { type: 'image', data: bytes.toString('base64'), mimeType: view.mime };
  const preview = await sharp(bytes).resize(PREVIEW_SIDE, PREVIEW_SIDE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 85 }).toBuffer();
  return { type: 'image', data: preview.toString('base64'), mimeType: 'image/webp' };
}
