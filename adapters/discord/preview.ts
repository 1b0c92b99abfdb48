import { readFile } from 'node:fs/promises';
import { AttachmentBuilder } from 'discord.js';
import type { BotApi } from '../../src/app/bot-api.ts';
import type { JobProgress } from '../../src/core/types.ts';

export type PreviewRef = NonNullable<JobProgress['preview']>;

/** Discord's least time between two preview uploads on one message: an upload per edit is heavy, text is not. */
export const MIN_PREVIEW_INTERVAL_MS = 4000;

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

/**
 * The preview a job.progress event named, as an attachment for the status message. The core classified it
 * before announcing it (a flagged preview is never announced), so it needs no gate here. Undefined when it
 * is gone: a preview is a nicety, and the progress text still goes out without it.
 */
export async function previewAttachment(bot: BotApi, preview: PreviewRef): Promise<AttachmentBuilder | undefined> {
  try {
    const found = await bot.preview(preview.sha256);
    const bytes = await readFile(found.path);
    return new AttachmentBuilder(bytes, { name: `vitron-preview.${EXTENSIONS[found.mime] ?? 'png'}`, description: 'preview of the picture being made' });
  } catch {
    return undefined;
  }
}
