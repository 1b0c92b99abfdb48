/**
 * A local Slack for protocol-level tests: the Web API methods the app calls (with the external upload
 * flow and private file downloads), a Socket Mode WebSocket endpoint reached through
 * `apps.connections.open`, and signed HTTP delivery of events with Slack's retry headers. Every call is
 * recorded so tests can wait for it instead of sleeping.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

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

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  botUserId?: string;
}

type Waiter = { match: (call: ApiCall) => boolean; resolve: (call: ApiCall) => void };

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly files = new Map<string, FakeFile & { bytes: Buffer }>();
  readonly uploads = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  /** Socket Mode connections opened by the app (the newest is used for delivery). */
  readonly sockets: WebSocket[] = [];

  private readonly server = http.createServer((req, res) => void this.route(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly waiters: Waiter[] = [];
  private readonly socketWaiters: ((socket: WebSocket) => void)[] = [];
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private readonly rateLimits = new Map<string, { times: number; retryAfter: number }>();
  private failingUploads = 0;
  private readonly methodErrors = new Map<string, { error: string; times: number }>();
  private tsCounter = 0;
  private base = '';

  constructor(options: FakeSlackOptions = {}) {
    this.botToken = options.botToken ?? 'xoxb-fake-bot-token';
    this.appToken = options.appToken ?? 'xapp-fake-app-token';
    this.teamId = options.teamId ?? 'T0TEST';
    this.botUserId = options.botUserId ?? 'UBOT';
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The `slackApiUrl` for the app (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  get url(): string {
    return this.base;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- switches ------------------------------------------------------------------------------------

  /** The next `times` calls of `method` answer 429 with Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, times = 1): void {
    this.rateLimits.set(method, { times, retryAfter: retryAfterSeconds });
  }

  /** The next `times` calls of `method` answer `{ ok: false, error }` (e.g. not_in_channel). */
  failMethod(method: string, error: string, times = 1): void {
    this.methodErrors.set(method, { error, times });
  }

  /** The next `times` POSTs to an upload URL answer 500. */
  failUploads(times: number): void {
    this.failingUploads = times;
  }

  // ---- files ---------------------------------------------------------------------------------------

  /** A file as a user shared it: served at url_private to requests carrying the bot token. */
  addFile(bytes: Buffer, name: string, mimetype = 'image/png'): FakeFile {
    const id = `F${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    const file: FakeFile = {
      id,
      name,
      title: name,
      mimetype,
      size: bytes.byteLength,
      url_private: `${this.base}/files-pri/${this.teamId}-${id}/${encodeURIComponent(name)}`,
      url_private_download: `${this.base}/files-pri/${this.teamId}-${id}/download/${encodeURIComponent(name)}`,
    };
    this.files.set(id, { ...file, bytes });
    return file;
  }

  // ---- inspection ----------------------------------------------------------------------------------

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages the app posted (or files it shared) in one thread, oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && (m.thread_ts === threadTs || m.ts === threadTs));
  }

  /** Resolves with the first recorded call (past or future) that matches. */
  waitForCall(method: string, match: (args: Record<string, unknown>, call: ApiCall) => boolean = () => true): Promise<ApiCall> {
    const test = (call: ApiCall) => call.method === method && call.status === 200 && match(call.args, call);
    const seen = this.calls.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match: test, resolve }));
  }

  /** Resolves once `count` matching calls have been recorded. */
  async waitForCalls(method: string, count: number, match: (args: Record<string, unknown>) => boolean = () => true): Promise<ApiCall[]> {
    for (;;) {
      const found = this.calls.filter((c) => c.method === method && c.status === 200 && match(c.args));
      if (found.length >= count) return found;
      await new Promise<ApiCall>((resolve) => this.waiters.push({ match: (c) => c.method === method, resolve }));
    }
  }

  // ---- Socket Mode ---------------------------------------------------------------------------------

  /** Resolves once the app has a Socket Mode connection open (after `hello`). */
  connected(): Promise<WebSocket> {
    const open = this.sockets.filter((s) => s.readyState === s.OPEN).at(-1);
    if (open) return Promise.resolve(open);
    return new Promise((resolve) => this.socketWaiters.push(resolve));
  }

  /**
   * Sends one envelope as Slack does and resolves with the app's ack payload. `type` is events_api,
   * slash_commands or interactive.
   */
  async sendEnvelope(
    type: 'events_api' | 'slash_commands' | 'interactive',
    payload: unknown,
    options: { retryAttempt?: number; retryReason?: string; envelopeId?: string } = {},
  ): Promise<unknown> {
    const ws = await this.connected();
    const envelopeId = options.envelopeId ?? randomUUID();
    const acked = new Promise<unknown>((resolve) => this.acks.set(envelopeId, resolve));
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(type === 'events_api' ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryReason ?? '' } : {}),
      }),
    );
    return acked;
  }

  private accept(ws: WebSocket): void {
    this.sockets.push(ws);
    ws.on('message', (data) => {
      let message: { envelope_id?: string; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      if (message.envelope_id) {
        this.acks.get(message.envelope_id)?.(message.payload ?? {});
        this.acks.delete(message.envelope_id);
      }
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TEST' }, debug_info: { host: 'fake-slack' } }));
    for (const waiter of this.socketWaiters.splice(0)) waiter(ws);
  }

  // ---- payload builders ----------------------------------------------------------------------------

  nextTs(): string {
    this.tsCounter += 1;
    return `${1_700_000_000 + this.tsCounter}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  /** An Events API `event_callback` body around one event. */
  eventCallback(event: Record<string, unknown>, options: { eventId?: string; teamId?: string } = {}): Record<string, unknown> {
    return {
      token: 'verification-token-unused',
      team_id: options.teamId ?? this.teamId,
      api_app_id: 'A0TEST',
      event: { event_ts: event.ts ?? this.nextTs(), ...event },
      type: 'event_callback',
      event_id: options.eventId ?? `Ev${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: options.teamId ?? this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
    };
  }

  // ---- signed HTTP delivery ------------------------------------------------------------------------

  /**
   * POSTs a body to the app's HTTP endpoint signed like Slack does (v0 HMAC-SHA256 over
   * `v0:timestamp:body`), optionally with a wrong secret, a stale timestamp, or Slack's retry headers.
   */
  static async deliver(
    url: string,
    body: Record<string, unknown> | URLSearchParams,
    options: { signingSecret: string; timestamp?: number; retryNum?: number; retryReason?: string },
  ): Promise<{ status: number; text: string }> {
    const raw = body instanceof URLSearchParams ? body.toString() : JSON.stringify(body);
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
    const headers: Record<string, string> = {
      'content-type': body instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-slack-signature': signature,
      'x-slack-request-timestamp': String(timestamp),
    };
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const response = await fetch(url, { method: 'POST', headers, body: raw });
    return { status: response.status, text: await response.text() };
  }

  // ---- HTTP routing --------------------------------------------------------------------------------

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const body = await readBody(req);
    if (url.pathname.startsWith('/api/')) return this.api(url.pathname.slice(5), req, body, res);
    if (url.pathname.startsWith('/upload/') && req.method === 'POST') return this.upload(url.pathname.slice(8), req, body, res);
    if (url.pathname.startsWith('/files-pri/') && req.method === 'GET') return this.download(url.pathname, req, res);
    if (url.pathname === '/response-url' && req.method === 'POST') {
      this.record({ method: 'response_url', args: parseArgs(req.headers['content-type'] ?? '', body), token: undefined, at: Date.now(), status: 200 });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    res.writeHead(404).end();
  }

  private async api(method: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
    const limit = this.rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      this.record({ method, args, token, at: Date.now(), status: 429 });
      res
        .writeHead(429, { 'retry-after': String(limit.retryAfter), 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const failure = this.methodErrors.get(method);
    const answer = failure && failure.times-- > 0 ? { ok: false, error: failure.error } : this.answer(method, args, token);
    this.record({ method, args, token, at: Date.now(), status: 200 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  private answer(method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (method === 'apps.connections.open') {
      if (token !== this.appToken) return { ok: false, error: 'invalid_auth' };
      return { ok: true, url: `${this.base.replace('http', 'ws')}/socket?ticket=${randomUUID()}` };
    }
    if (token !== this.botToken) return { ok: false, error: 'invalid_auth' };
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.test/',
          team: 'Fake',
          user: 'vitron',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: 'B0BOT',
          is_enterprise_install: false,
        };
      case 'chat.postMessage': {
        const message: FakeMessage = { channel: String(args.channel), ts: this.nextTs(), user: this.botUserId, ...textAndBlocks(args) };
        if (args.thread_ts) message.thread_ts = String(args.thread_ts);
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts: message.ts, message: { ...message, type: 'message' } };
      }
      case 'chat.update': {
        const message = this.messages.find((m) => m.channel === String(args.channel) && m.ts === String(args.ts));
        if (!message) return { ok: false, error: 'message_not_found' };
        Object.assign(message, textAndBlocks(args));
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'files.getUploadURLExternal': {
        const id = `F${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
        this.uploads.set(id, { filename: String(args.filename), length: Number(args.length) });
        return { ok: true, upload_url: `${this.base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as { id: string; title?: string }[];
        const shared: FakeFile[] = [];
        for (const entry of list) {
          const upload = this.uploads.get(entry.id);
          if (!upload?.bytes) return { ok: false, error: 'file_not_found' };
          const file = this.addFile(upload.bytes, upload.filename, mimeOf(upload.filename));
          shared.push(file);
        }
        if (args.channel_id) {
          const message: FakeMessage = { channel: String(args.channel_id), ts: this.nextTs(), user: this.botUserId, files: shared };
          if (args.thread_ts) message.thread_ts = String(args.thread_ts);
          if (args.initial_comment) message.text = String(args.initial_comment);
          this.messages.push(message);
        }
        return { ok: true, files: shared.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'assistant.threads.setStatus':
      case 'assistant.threads.setSuggestedPrompts':
      case 'assistant.threads.setTitle':
      case 'reactions.add':
        return { ok: true };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private async upload(id: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const upload = this.uploads.get(id);
    const failing = this.failingUploads > 0;
    if (failing) this.failingUploads -= 1;
    this.record({ method: 'upload', args: { id }, token: bearer(req.headers.authorization), at: Date.now(), status: failing ? 500 : 200 });
    if (!upload || failing) {
      res.writeHead(failing ? 500 : 404).end();
      return;
    }
    const type = req.headers['content-type'] ?? 'application/octet-stream';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Request('http://upload/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) }).formData();
      const part = form.get('body') ?? form.get('file');
      upload.bytes = part === null ? Buffer.alloc(0) : typeof part === 'string' ? Buffer.from(part) : Buffer.from(await part.arrayBuffer());
    } else {
      upload.bytes = body;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${upload.bytes.byteLength}`);
  }

  private download(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = /^\/files-pri\/[A-Z0-9]+-([A-Z0-9]+)\//.exec(pathname);
    const file = match ? this.files.get(match[1]!) : undefined;
    this.record({ method: 'download', args: { path: pathname }, token: bearer(req.headers.authorization), at: Date.now(), status: 200 });
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    if (bearer(req.headers.authorization) !== this.botToken) {
      // Slack answers an unauthenticated file request with its sign-in page, never the bytes.
      res.writeHead(302, { location: 'https://fake.slack.test/?redir=signin' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.byteLength) }).end(file.bytes);
  }

  private record(call: ApiCall): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseArgs(contentType: string, body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  if (contentType.includes('application/json')) return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const args: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) args[key] = value;
    return args;
  }
  return {};
}

function textAndBlocks(args: Record<string, unknown>): { text?: string; blocks?: unknown[] } {
  const out: { text?: string; blocks?: unknown[] } = {};
  if (args.text !== undefined) out.text = String(args.text);
  if (args.blocks !== undefined) out.blocks = (typeof args.blocks === 'string' ? JSON.parse(args.blocks) : args.blocks) as unknown[];
  return out;
}

function mimeOf(filename: string): string {
  const ext = filename.split('.').pop()?.toLowerCase();
  return ext === 'mp4' ? 'video/mp4' : ext === 'jpg' || ext === 'jpeg' ? 'image/jpeg' : ext === 'webp' ? 'image/webp' : 'image/png';
}
