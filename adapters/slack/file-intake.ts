/**
 * Files shared with a message: fetched with the bot token from Slack's own file hosts only, streamed
 * with the MAX_UPLOAD_BYTES cap before the core ever decodes them.
 */
import type { IncomingFile } from '../../src/app/bot-api.ts';
import { DownloadRefusedError, MediaTooLargeError } from '../../src/errors.ts';
import { formatBytes } from '../../src/media/limits.ts';
import { downloadCapped } from '../shared/capped-download.ts';
import type { SlackFile } from './payloads.ts';

/** Where url_private points; redirects stay on these too, so the token never leaves Slack. */
export const SLACK_FILE_HOSTS = ['files.slack.com', '.slack-edge.com', '.slack-files.com'];

export interface FileIntakeOptions {
  botToken: string;
  maxBytes: number;
  /** The host of SLACK_API_URL when it is set (a local fake Slack): its files are fetched too, over http. */
  extraHost?: string;
}

export class FileIntake {
  constructor(private readonly options: FileIntakeOptions) {}

  /** Throws typed errors (DownloadRefusedError, MediaTooLargeError, DownloadFailedError). */
  async fetch(file: SlackFile): Promise<IncomingFile> {
    const name = file.name ?? 'file';
    if (file.mode === 'tombstone' || file.mode === 'hidden_by_limit') throw new DownloadRefusedError(`"${name}" is not available to the app.`);
    if (file.size !== undefined && file.size > this.options.maxBytes) {
      throw new MediaTooLargeError(`"${name}"`, formatBytes(this.options.maxBytes), formatBytes(file.size));
    }
    const url = file.url_private_download ?? file.url_private;
    if (!url) throw new DownloadRefusedError(`"${name}" has no download link the app can use.`);
    const extra = this.options.extraHost ? [this.options.extraHost] : [];
    const bytes = await downloadCapped(url, {
      allowedHosts: [...SLACK_FILE_HOSTS, ...extra],
      insecureHosts: extra,
      maxBytes: this.options.maxBytes,
      headers: { Authorization: `Bearer ${this.options.botToken}` },
      maxRedirects: 2,
    });
    return { name, bytes };
  }
}
