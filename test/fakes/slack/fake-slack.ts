/**
 * A local Slack for protocol-level tests: the Web API methods the app calls (with the external upload
 * flow and private file downloads), a Socket Mode WebSocket endpoint reached through
 * `apps.connections.open`, and signed HTTP delivery of events with Slack's retry headers. Every call is
 * recorded so tests can wait for it instead of sleeping.
 *
 * This class holds the state and is what tests use; the work is in its neighbours: http-routes.ts and
 * web-api-methods.ts (the HTTP side), socket-mode.ts (the WebSocket side), signed-delivery.ts (events to the app).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { routeHttp } from './http-routes.ts';
import type { ApiCall, ConnectFileStub, FakeFile, FakeMessage, FakeSlackOptions } from './shapes.ts';
import { type DeliveryOptions, deliver } from './signed-delivery.ts';
import { acceptSocket, type EnvelopeType, sendEnvelope } from './socket-mode.ts';

export type { ApiCall, ConnectFileStub, FakeFile, FakeMessage, FakeSlackOptions } from './shapes.ts';

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

  // State shared with http-routes.ts and socket-mode.ts (not private for that reason); tests use the methods.
  readonly socketWaiters: ((socket: WebSocket) => void)[] = [];
  /** Envelope id → resolves with the app's ack payload. */
  readonly acks = new Map<string, (payload: unknown) => void>();
  readonly rateLimits = new Map<string, { times: number; retryAfter: number }>();
  failingUploads = 0;
  readonly methodErrors = new Map<string, { error: string; times: number }>();
  /** Assistant statuses by `channel:thread_ts`, with when they were set (Slack drops them after statusTtlMs). */
  readonly statuses = new Map<string, { status: string; at: number }>();
  /** Every change of an assistant status, in order: set by the app, or cleared by Slack because the app posted. */
  readonly statusChanges: { channel: string; threadTs: string; status: string; by: 'app' | 'reply' }[] = [];
  /** Slack clears an assistant status after two minutes; a test may shorten that. */
  statusTtlMs = 120_000;
  /** Channels the bot is not a member of: chat.postMessage there answers not_in_channel, as in Slack. */
  readonly notMemberOf = new Set<string>();

  private readonly server = http.createServer((req, res) => void routeHttp(this, req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly waiters: Waiter[] = [];
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
      this.wss.handleUpgrade(req, socket, head, (ws) => acceptSocket(this, ws));
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

  // ---- assistant status ----------------------------------------------------------------------------

  /** What the assistant panel shows under a thread now ('' for nothing), by Slack's rules. */
  assistantStatus(channel: string, threadTs: string): string {
    const shown = this.statuses.get(`${channel}:${threadTs}`);
    if (!shown || Date.now() - shown.at >= this.statusTtlMs) return '';
    return shown.status;
  }

  /** assistant.threads.setStatus ('' clears), or Slack clearing it because the app replied in the thread. */
  setAssistantStatus(channel: string, threadTs: string, status: string, by: 'app' | 'reply'): void {
    const key = `${channel}:${threadTs}`;
    if (by === 'reply' && !this.statuses.has(key)) return;
    if (status === '') this.statuses.delete(key);
    else this.statuses.set(key, { status, at: Date.now() });
    this.statusChanges.push({ channel, threadTs, status, by });
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

  /**
   * A file shared in a Slack Connect channel, as the event carries it: its id with
   * `file_access: "check_file_info"` and no url_private. files.info gives the whole file (addFile's).
   */
  addConnectFile(bytes: Buffer, name: string, mimetype = 'image/png'): ConnectFileStub {
    const { id } = this.addFile(bytes, name, mimetype);
    return { id, mode: 'file_access', file_access: 'check_file_info', created: 0, timestamp: 0, user: '' };
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

  /** Keeps an answered request and wakes whoever waits for one like it. */
  record(call: ApiCall): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }

  // ---- Socket Mode (socket-mode.ts) ----------------------------------------------------------------

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
  sendEnvelope(type: EnvelopeType, payload: unknown, options: { retryAttempt?: number; retryReason?: string; envelopeId?: string } = {}): Promise<unknown> {
    return sendEnvelope(this, type, payload, options);
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

  // ---- signed HTTP delivery (signed-delivery.ts) ---------------------------------------------------

  /**
   * POSTs a body to the app's HTTP endpoint signed like Slack does (v0 HMAC-SHA256 over
   * `v0:timestamp:body`), optionally with a wrong secret, a stale timestamp, or Slack's retry headers.
   */
  static deliver(url: string, body: Record<string, unknown> | URLSearchParams, options: DeliveryOptions): Promise<{ status: number; text: string }> {
    return deliver(url, body, options);
  }
}
