/**
 * A local Discord for protocol-level tests: the REST routes discord.js calls and a gateway WebSocket that
 * speaks the real JSON payloads (HELLO, IDENTIFY, READY, GUILD_CREATE, RESUME, heartbeats). Tests dispatch
 * INTERACTION_CREATE / MESSAGE_CREATE themselves and read back every REST call. No internet involved.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  /** Path below /api/v10, without the query string. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (or payload_json of a multipart body). */
  body: any;
  files: { name: string; contentType: string; bytes: Buffer }[];
  status: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  content: string;
  author: any;
  attachments: any[];
  components: any[];
  embeds: any[];
  nonce?: string;
  message_reference?: any;
  timestamp: string;
  edited_timestamp: string | null;
  type: number;
  flags?: number;
  mentions: any[];
  mention_roles: string[];
  mention_everyone: boolean;
  pinned: boolean;
  tts: boolean;
}

interface Waiter {
  match: (call: RecordedCall) => boolean;
  resolve: (call: RecordedCall) => void;
}

let snowflakeSeq = 0n;
export function snowflake(): string {
  snowflakeSeq += 1n;
  // Real-looking ids: a timestamp part plus a counter, so ordering and length match Discord's.
  return ((BigInt(Date.now() - 1420070400000) << 22n) + snowflakeSeq).toString();
}

export const PERMISSIONS = {
  ADMINISTRATOR: 1n << 3n,
  MANAGE_MESSAGES: 1n << 13n,
  DEFAULT: (1n << 10n) | (1n << 11n) | (1n << 15n) | (1n << 16n) | (1n << 38n),
};

export class FakeDiscord {
  readonly applicationId = snowflake();
  readonly botUser = { id: this.applicationId, username: 'vitron', discriminator: '0000', global_name: 'vitron', avatar: null, bot: true };
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly otherChannelId = snowflake();
  readonly roleId = snowflake();
  readonly token = 'fake-bot-token';
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly channels = new Map<string, any>();
  /** Served by the fake CDN; `chunked` omits content-length, as a streamed response would. */
  readonly uploads = new Map<string, { bytes: Buffer; contentType: string; chunked?: boolean }>();
  readonly sockets = new Set<WebSocket>();
  identifies = 0;
  resumes = 0;
  /** Answers the next call matching each entry with 429 (retry_after in seconds), once. */
  private rateLimits: { method: string; path: RegExp; retryAfter: number }[] = [];
  /** Answers the next matching call with this status, once (a failed upload, a 5xx). */
  private failures: { method: string; path: RegExp; status: number }[] = [];
  private lateFailures: { method: string; path: RegExp; status: number }[] = [];
  private waiters: Waiter[] = [];
  private seq = 0;
  private readonly sessionId = `session-${snowflake()}`;
  private server!: Server;
  private wss!: WebSocketServer;
  port = 0;

  constructor() {
    const base = {
      guild_id: this.guildId,
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      parent_id: null,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    };
    this.channels.set(this.channelId, { ...base, id: this.channelId, type: 0, name: 'general' });
    this.channels.set(this.otherChannelId, { ...base, id: this.otherChannelId, type: 0, name: 'random' });
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, req));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  rateLimitOnce(method: string, path: RegExp, retryAfterSeconds: number): void {
    this.rateLimits.push({ method, path, retryAfter: retryAfterSeconds });
  }

  failOnce(method: string, path: RegExp, status: number): void {
    this.failures.push({ method, path, status });
  }

  /** Handles the next matching call but answers it with `status`, as when Discord times out after writing. */
  failAfterCreateOnce(method: string, path: RegExp, status: number): void {
    this.lateFailures.push({ method, path, status });
  }

  /** Resolves with the first recorded call (past or future) that matches. */
  waitFor(match: (call: RecordedCall) => boolean, from = 0): Promise<RecordedCall> {
    const seen = this.calls.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  // ---- payload builders (the shapes Discord sends) ----

  user(id = snowflake(), name = 'alice'): any {
    return { id, username: name, discriminator: '0', global_name: name, avatar: null };
  }

  member(user: any, options: { roles?: string[]; permissions?: bigint } = {}): any {
    return {
      user,
      roles: options.roles ?? [],
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      nick: null,
      avatar: null,
      permissions: (options.permissions ?? PERMISSIONS.DEFAULT).toString(),
    };
  }

  /** An attachment object pointing at the fake CDN, with the bytes served from there. */
  attachment(bytes: Buffer, filename: string, contentType: string, declaredSize = bytes.length, options: { chunked?: boolean } = {}): any {
    const id = snowflake();
    this.uploads.set(id, { bytes, contentType, ...(options.chunked ? { chunked: true } : {}) });
    const url = `http://127.0.0.1:${this.port}/cdn/attachments/${id}/${encodeURIComponent(filename)}`;
    return { id, filename, size: declaredSize, url, proxy_url: url, content_type: contentType, width: null, height: null };
  }

  private interactionBase(
    type: number,
    user: any,
    options: { channelId?: string; dm?: boolean; roles?: string[]; permissions?: bigint; attachmentSizeLimit?: number },
  ) {
    const channelId = options.channelId ?? this.channelId;
    const guild = options.dm
      ? { user }
      : {
          guild_id: this.guildId,
          member: this.member(user, { roles: options.roles ?? [], permissions: options.permissions ?? PERMISSIONS.DEFAULT }),
          guild_locale: 'en-US',
        };
    return {
      id: snowflake(),
      application_id: this.applicationId,
      type,
      token: `itoken-${snowflake()}`,
      version: 1,
      channel_id: channelId,
      channel: options.dm ? { id: channelId, type: 1 } : (this.channels.get(channelId) ?? { id: channelId, type: 0, guild_id: this.guildId }),
      locale: 'en-US',
      app_permissions: '2248473465835073',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: options.dm ? 1 : 0,
      attachment_size_limit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
      ...guild,
    };
  }

  /** A /vitron <sub> interaction; `attachment` is an attachment() object. */
  slashCommand(sub: string, user: any, input: { prompt?: string; attachment?: any } = {}, options: Parameters<FakeDiscord['interactionBase']>[2] = {}): any {
    const subOptions: any[] = [];
    if (input.prompt !== undefined) subOptions.push({ name: 'prompt', type: 3, value: input.prompt });
    if (input.attachment) subOptions.push({ name: 'attachment', type: 11, value: input.attachment.id });
    return {
      ...this.interactionBase(2, user, options),
      data: {
        id: snowflake(),
        name: 'vitron',
        type: 1,
        options: [{ name: sub, type: 1, options: subOptions }],
        ...(input.attachment ? { resolved: { attachments: { [input.attachment.id]: input.attachment } } } : {}),
      },
    };
  }

  /** A press of a button on a message the fake holds. */
  buttonPress(customId: string, messageId: string, user: any, options: Parameters<FakeDiscord['interactionBase']>[2] = {}): any {
    const message = this.messages.get(messageId);
    return {
      ...this.interactionBase(3, user, { channelId: message?.channel_id, ...options }),
      message,
      data: { custom_id: customId, component_type: 2 },
    };
  }

  selectChoice(customId: string, values: string[], messageId: string, user: any): any {
    const message = this.messages.get(messageId);
    return { ...this.interactionBase(3, user, { channelId: message?.channel_id }), message, data: { custom_id: customId, component_type: 3, values } };
  }

  /** A user's message; `mention` prefixes the bot mention, `replyTo` makes it a reply. */
  userMessage(
    user: any,
    content: string,
    options: { channelId?: string; dm?: boolean; mention?: boolean; replyTo?: string; attachments?: any[]; roles?: string[] } = {},
  ): FakeMessage {
    const channelId = options.channelId ?? this.channelId;
    const replied = options.replyTo ? this.messages.get(options.replyTo) : undefined;
    const message: any = {
      id: snowflake(),
      channel_id: channelId,
      ...(options.dm ? {} : { guild_id: this.guildId, member: { ...this.member(user, { roles: options.roles ?? [] }), user: undefined } }),
      channel_type: options.dm ? 1 : (this.channels.get(channelId)?.type ?? 0),
      content: options.mention ? `<@${this.botUser.id}> ${content}` : content,
      author: user,
      attachments: options.attachments ?? [],
      components: [],
      embeds: [],
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      type: options.replyTo ? 19 : 0,
      mentions: options.mention ? [this.botUser] : [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      ...(options.replyTo
        ? {
            message_reference: { type: 0, message_id: options.replyTo, channel_id: channelId, guild_id: options.dm ? undefined : this.guildId },
            referenced_message: replied ?? null,
          }
        : {}),
    };
    this.messages.set(message.id, message);
    return message;
  }

  // ---- gateway ----

  dispatch(t: string, d: unknown): void {
    if (t === 'INTERACTION_CREATE' || t === 'MESSAGE_CREATE') this.dispatched.push({ t, d });
    this.seq += 1;
    const frame = JSON.stringify({ op: 0, t, s: this.seq, d });
    for (const ws of this.sockets) ws.send(frame);
  }

  /** INTERACTION_CREATE and MESSAGE_CREATE events sent so far, for replays. */
  private readonly dispatched: { t: string; d: unknown }[] = [];
  private replayCount = 0;

  /** Makes the next RESUME replay the last `count` interactions and messages, as a resume after a lost ack does. */
  replayOnResume(count: number): void {
    this.replayCount = count;
  }

  /** Drops every gateway connection abnormally, as a network failure would; the client should RESUME. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  private onSocket(ws: WebSocket, req: IncomingMessage): void {
    this.sockets.add(ws);
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if (query.get('compress')) {
      // Only plain JSON frames are spoken here; a client asking for zlib-stream would get garbage.
      ws.close(4000, 'compression not supported by the fake');
      return;
    }
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }));
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      if (frame.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      else if (frame.op === 2) this.onIdentify(ws);
      else if (frame.op === 6) {
        this.resumes += 1;
        // Discord replays what it thinks the client missed; here, the events a test chose to see again.
        const replay = this.dispatched.slice(this.dispatched.length - this.replayCount);
        this.replayCount = 0;
        for (const { t, d } of replay) {
          this.seq += 1;
          ws.send(JSON.stringify({ op: 0, t, s: this.seq, d }));
        }
        this.seq += 1;
        ws.send(JSON.stringify({ op: 0, t: 'RESUMED', s: this.seq, d: {} }));
      }
    });
  }

  private onIdentify(ws: WebSocket): void {
    this.identifies += 1;
    const send = (t: string, d: unknown) => {
      this.seq += 1;
      ws.send(JSON.stringify({ op: 0, t, s: this.seq, d }));
    };
    send('READY', {
      v: 10,
      user: this.botUser,
      guilds: [{ id: this.guildId, unavailable: true }],
      session_id: this.sessionId,
      resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
      shard: [0, 1],
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      user_settings: {},
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    });
    send('GUILD_CREATE', {
      id: this.guildId,
      name: 'Test server',
      icon: null,
      owner_id: snowflake(),
      roles: [
        {
          id: this.guildId,
          name: '@everyone',
          permissions: PERMISSIONS.DEFAULT.toString(),
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
        {
          id: this.roleId,
          name: 'artists',
          permissions: PERMISSIONS.DEFAULT.toString(),
          position: 1,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      channels: [...this.channels.values()].filter((c) => c.guild_id === this.guildId && c.type !== 11),
      threads: [],
      members: [],
      emojis: [],
      stickers: [],
      features: [],
      member_count: 2,
      large: false,
      unavailable: false,
      joined_at: new Date(0).toISOString(),
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      preferred_locale: 'en-US',
      premium_tier: 0,
      system_channel_flags: 0,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      afk_timeout: 300,
    });
  }

  // ---- REST ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    if (url.pathname.startsWith('/cdn/attachments/')) {
      const id = url.pathname.split('/')[3]!;
      const upload = this.uploads.get(id);
      if (!upload) return void res.writeHead(404).end();
      if (upload.chunked) {
        res.writeHead(200, { 'content-type': upload.contentType });
        for (let at = 0; at < upload.bytes.length; at += 1024) res.write(upload.bytes.subarray(at, at + 1024));
        return void res.end();
      }
      res.writeHead(200, { 'content-type': upload.contentType, 'content-length': upload.bytes.length });
      return void res.end(upload.bytes);
    }

    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v\d+/, '');
    const { body, files } = await parseBody(req, raw);
    const call: RecordedCall = { method: req.method ?? 'GET', path, query: url.searchParams, body, files, status: 200 };

    const late = this.lateFailures.findIndex((r) => r.method === call.method && r.path.test(path));
    const lateStatus = late >= 0 ? this.lateFailures.splice(late, 1)[0]!.status : undefined;
    const json = (given: number, payload: unknown, headers: Record<string, string> = {}) => {
      const status = lateStatus ?? given;
      call.status = status;
      if (lateStatus !== undefined) {
        this.record(call);
        res.writeHead(status, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ message: 'Fake failure after the write', code: 0 }));
      }
      this.record(call);
      if (status === 204) return void res.writeHead(204, headers).end();
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };

    const limit = this.rateLimits.findIndex((r) => r.method === call.method && r.path.test(path));
    if (limit >= 0) {
      const { retryAfter } = this.rateLimits.splice(limit, 1)[0]!;
      return json(
        429,
        { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
        {
          'retry-after': String(Math.ceil(retryAfter)),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(retryAfter),
          'x-ratelimit-bucket': 'fake-bucket',
          'x-ratelimit-scope': 'user',
        },
      );
    }
    const failure = this.failures.findIndex((r) => r.method === call.method && r.path.test(path));
    if (failure >= 0) {
      const { status } = this.failures.splice(failure, 1)[0]!;
      return json(status, { message: 'Fake failure', code: 0 });
    }
    const ok = (payload: unknown) =>
      json(200, payload, { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-bucket': 'b' });

    let m: RegExpMatchArray | null;
    if (call.method === 'GET' && path === '/gateway/bot') {
      return ok({
        url: `ws://127.0.0.1:${this.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (call.method === 'GET' && path === '/users/@me') return ok(this.botUser);
    if (call.method === 'PUT' && (m = path.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
      return ok((body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: m![1], version: snowflake(), ...(m![2] ? { guild_id: m![2] } : {}) })));
    }
    if (call.method === 'POST' && (m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) {
      const interactionId = m[1]!;
      const token = m[2]!;
      const type = body?.type;
      // Discord accepts one callback per interaction; a second one (a replayed event answered again) is refused.
      if (this.answered.has(interactionId)) return json(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
      this.answered.add(interactionId);
      let message: FakeMessage | undefined;
      if (type === 4 || type === 5) {
        message = this.storeMessage(this.channelOfToken(token), body.data ?? {}, files, { interactionToken: token, interactionId });
      } else if (type === 7 || type === 6) {
        const original = this.originalOf(token);
        if (original && type === 7) this.updateMessage(original, body.data ?? {}, files);
      }
      if (url.searchParams.get('with_response') === 'true') {
        return ok({
          interaction: {
            id: interactionId,
            type: 2,
            activity_instance_id: null,
            response_message_id: message?.id ?? null,
            response_message_loading: type === 5,
            response_message_ephemeral: false,
          },
          resource: message ? { type, message } : { type },
        });
      }
      return json(204, null);
    }
    if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/))) {
      const token = m[2]!;
      const target = m[3] === '@original' ? this.originalOf(token) : this.messages.get(m[3]!);
      if (!target) return json(404, { message: 'Unknown Message', code: 10008 });
      if (call.method === 'PATCH') return ok(this.updateMessage(target, body ?? {}, files));
      if (call.method === 'GET') return ok(target);
      if (call.method === 'DELETE') {
        this.messages.delete(target.id);
        return json(204, null);
      }
    }
    if (call.method === 'POST' && (m = path.match(/^\/webhooks\/(\d+)\/([^/]+)$/))) {
      return ok(this.storeMessage(this.channelOfToken(m[2]!), body ?? {}, files, {}));
    }
    if (call.method === 'GET' && (m = path.match(/^\/channels\/(\d+)$/))) {
      const channel = this.channels.get(m[1]!);
      return channel ? ok(channel) : json(404, { message: 'Unknown Channel', code: 10003 });
    }
    if (call.method === 'POST' && (m = path.match(/^\/channels\/(\d+)\/messages$/))) {
      const channelId = m[1]!;
      if (body?.enforce_nonce && body.nonce) {
        // Discord answers a repeated nonce with the message it already created, so a retried POST is harmless.
        const existing = [...this.messages.values()].find(
          (msg) => msg.channel_id === channelId && msg.nonce === body.nonce && msg.author.id === this.botUser.id,
        );
        if (existing) return ok(existing);
      }
      return ok(this.storeMessage(channelId, body ?? {}, files, {}));
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      const message = this.messages.get(m[2]!);
      if (!message) return json(404, { message: 'Unknown Message', code: 10008 });
      if (call.method === 'GET') return ok(message);
      if (call.method === 'PATCH') return ok(this.updateMessage(message, body ?? {}, files));
      if (call.method === 'DELETE') {
        this.messages.delete(message.id);
        return json(204, null);
      }
    }
    if (call.method === 'POST' && (m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/))) {
      const parent = this.channels.get(m[1]!);
      const thread = {
        id: m[2]!,
        type: 11,
        guild_id: this.guildId,
        parent_id: m[1],
        name: body?.name ?? 'thread',
        owner_id: this.botUser.id,
        member_count: 1,
        message_count: 0,
        thread_metadata: {
          archived: false,
          auto_archive_duration: body?.auto_archive_duration ?? 1440,
          archive_timestamp: new Date().toISOString(),
          locked: false,
        },
        rate_limit_per_user: 0,
        flags: 0,
      };
      if (!parent) return json(404, { message: 'Unknown Channel', code: 10003 });
      this.channels.set(thread.id, thread);
      this.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
      return json(201, thread);
    }
    if (call.method === 'POST' && (m = path.match(/^\/channels\/(\d+)\/typing$/))) return json(204, null);
    return json(404, { message: `404: Not Found (fake has no ${call.method} ${path})`, code: 0 });
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }

  private readonly answered = new Set<string>();
  private readonly tokenChannels = new Map<string, string>();
  private readonly originals = new Map<string, string>();

  /** Tests register the interaction they dispatch so callbacks land in its channel. */
  track(interaction: any): any {
    this.tokenChannels.set(interaction.token, interaction.channel_id);
    return interaction;
  }

  /** Dispatches an interaction (tracking its token) and returns it. */
  interact(interaction: any): any {
    this.track(interaction);
    this.dispatch('INTERACTION_CREATE', interaction);
    return interaction;
  }

  /** Dispatches a user's message. */
  send(message: FakeMessage): FakeMessage {
    this.dispatch('MESSAGE_CREATE', message);
    return message;
  }

  originalOf(token: string): FakeMessage | undefined {
    const id = this.originals.get(token);
    return id ? this.messages.get(id) : undefined;
  }

  private channelOfToken(token: string): string {
    return this.tokenChannels.get(token) ?? this.channelId;
  }

  private storeMessage(
    channelId: string,
    data: any,
    files: RecordedCall['files'],
    options: { interactionToken?: string; interactionId?: string },
  ): FakeMessage {
    const channel = this.channels.get(channelId);
    const message: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      ...(channel?.guild_id ? { guild_id: channel.guild_id } : {}),
      content: data.content ?? '',
      author: this.botUser,
      attachments: this.attachmentsFrom(data, files, []),
      components: data.components ?? [],
      embeds: data.embeds ?? [],
      ...(data.nonce ? { nonce: String(data.nonce) } : {}),
      ...(data.message_reference ? { message_reference: data.message_reference } : {}),
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      type: data.message_reference ? 19 : options.interactionToken ? 20 : 0,
      flags: data.flags ?? 0,
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
    };
    this.messages.set(message.id, message);
    if (options.interactionToken && !this.originals.has(options.interactionToken)) this.originals.set(options.interactionToken, message.id);
    return message;
  }

  private updateMessage(message: FakeMessage, data: any, files: RecordedCall['files']): FakeMessage {
    if (data.content !== undefined) message.content = data.content ?? '';
    if (data.components !== undefined) message.components = data.components ?? [];
    if (data.embeds !== undefined) message.embeds = data.embeds ?? [];
    if (data.attachments !== undefined || files.length > 0) message.attachments = this.attachmentsFrom(data, files, message.attachments);
    message.edited_timestamp = new Date().toISOString();
    return message;
  }

  /** Uploaded files become attachments served by the fake CDN; `attachments` in the payload says which to keep. */
  private attachmentsFrom(data: any, files: RecordedCall['files'], previous: any[]): any[] {
    const kept = Array.isArray(data.attachments) ? previous.filter((a) => data.attachments.some((d: any) => String(d.id) === a.id)) : previous;
    const added = files.map((f) => this.attachment(f.bytes, f.name, f.contentType));
    return [...kept, ...added];
  }
}

async function parseBody(req: IncomingMessage, raw: Buffer): Promise<{ body: any; files: RecordedCall['files'] }> {
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(raw) }).formData();
    const files: RecordedCall['files'] = [];
    let body: any;
    for (const [key, value] of form as unknown as Iterable<[string, string | File]>) {
      if (key === 'payload_json') body = JSON.parse(String(value));
      else if (typeof value !== 'string') files.push({ name: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
    }
    return { body, files };
  }
  if (type.includes('json')) return { body: JSON.parse(raw.toString('utf8')), files: [] };
  return { body: raw.toString('utf8'), files: [] };
}
