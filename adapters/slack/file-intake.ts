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
  /**
   * files.info: the file as the app may see it. Slack Connect channels share a file only as its id with
   * `file_access: "check_file_info"` (no url_private); this call gives its links. Without it such a file is refused.
   */
  fileInfo?: (fileId: string) => Promise<SlackFile>;
}

export class FileIntake {
  constructor(private readonly options: FileIntakeOptions) {}

  /** Throws typed errors (DownloadRefusedError, MediaTooLargeError, DownloadFailedError). */
  async fetch(shared: SlackFile): Promise<IncomingFile> {
    const file = await this.resolve(shared);
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

  /** The file with its download links: as the event carried it, or from files.info when Slack left them out. */
  private async resolve(file: SlackFile): Promise<SlackFile> {
    const linked = file.url_private_download ?? file.url_private;
    if (linked || (file.file_access !== 'check_file_info' && file.mode !== 'file_access') || !this.options.fileInfo) return file;
    try {
      return { ...(await this.options.fileInfo(file.id)), id: file.id };
    } catch (error) {
      // Slack refuses files.info for a file the app may not see (file_not_found, access_denied, ...).
      throw new DownloadRefusedError(
        `"${file.name ?? 'the file'}" is not available to the app (files.info: ${error instanceof Error ? error.message : String(error)}).`,
      );
    }
  }
}
