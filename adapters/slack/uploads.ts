/**
 * Files into a thread, and out of it again. Uploads use files.uploadV2 (getUploadURLExternal, POST,
 * completeUploadExternal), which shares the file as a message of its own in the thread.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { SlackThread } from './thread-key.ts';

/** Shares one file in the thread (or the DM without threads); resolves with Slack's file id when it says one. */
export async function uploadToThread(client: WebClient, thread: SlackThread, file: Buffer, filename: string, title = filename): Promise<string | undefined> {
  const answer = await (thread.threadTs
    ? client.filesUploadV2({ channel_id: thread.channel, thread_ts: thread.threadTs, file, filename, title })
    : client.filesUploadV2({ channel_id: thread.channel, file, filename, title }));
  return answer.files[0]?.files?.[0]?.id;
}

/**
 * Takes a file the bot shared back out of the thread: the message that shared it first (deleting only the
 * file leaves a "This file was deleted" line in its place), then the file. Best effort: the message's ts
 * comes from files.info, and a share Slack has not finished yet has none, so then only the file goes.
 */
export async function removeFromThread(client: WebClient, thread: SlackThread, fileId: string, logger: Pick<Logger, 'debug' | 'warn'>): Promise<void> {
  try {
    const info = await client.files.info({ file: fileId });
    const shares = info.file?.shares;
    const places = [...(shares?.public?.[thread.channel] ?? []), ...(shares?.private?.[thread.channel] ?? [])];
    for (const share of places) if (share.ts) await client.chat.delete({ channel: thread.channel, ts: share.ts });
  } catch (error) {
    logger.debug({ err: error, fileId }, 'slack message of a shared file not deleted');
  }
  try {
    await client.files.delete({ file: fileId });
  } catch (error) {
    logger.warn({ err: error, fileId }, 'slack file not deleted');
  }
}
