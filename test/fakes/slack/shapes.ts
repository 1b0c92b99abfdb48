/** The shapes the fake Slack records and stores: Web API calls, posted messages and shared files. */

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  at: number;
  /** HTTP status the fake answered with (429 when it was told to rate-limit this call). */
  status: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  files?: FakeFile[];
  user?: string;
}

export interface FakeFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

/** A Slack Connect file in an event: no links, only files.info resolves it. */
export interface ConnectFileStub {
  id: string;
  mode: 'file_access';
  file_access: 'check_file_info';
  created: number;
  timestamp: number;
  user: string;
}

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  botUserId?: string;
}
