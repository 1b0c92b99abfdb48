/**
 * A local Discord for protocol-level tests: the REST routes discord.js calls and a gateway WebSocket that
 * speaks the real JSON payloads (HELLO, IDENTIFY, READY, GUILD_CREATE, RESUME, heartbeats). Tests dispatch
 * INTERACTION_CREATE / MESSAGE_CREATE themselves and read back every REST call. No internet involved.
 *
 * This class holds the state and is what tests use; the work is in its neighbours: rest.ts and
 * rest-routes.ts (the HTTP side), gateway.ts (the WebSocket side), payloads.ts (what Discord sends).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { acceptSocket, dispatch } from './gateway.ts';
import * as payload from './payloads.ts';
import { handleHttp } from './rest.ts';
import { type FakeMessage, type RecordedCall, snowflake } from './shapes.ts';

export { type FakeMessage, PERMISSIONS, type RecordedCall, snowflake } from './shapes.ts';

interface Waiter {
  match: (call: RecordedCall) => boolean;
  resolve: (call: RecordedCall) => void;
}

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
  port = 0;

  // State shared with rest.ts, rest-routes.ts and gateway.ts (not private for that reason); tests use the methods.
  /** Answers the next call matching each entry with 429 (retry_after in seconds), once. */
  readonly rateLimits: { method: string; path: RegExp; retryAfter: number }[] = [];
  /** Answers the next matching call with this status, once (a failed upload, a 5xx). */
  readonly failures: { method: string; path: RegExp; status: number }[] = [];
  readonly lateFailures: { method: string; path: RegExp; status: number }[] = [];
  /** Gateway sequence number of the last dispatch. */
  seq = 0;
  readonly sessionId = `session-${snowflake()}`;
  /** INTERACTION_CREATE and MESSAGE_CREATE events sent so far, for replays. */
  readonly dispatched: { t: string; d: unknown }[] = [];
  replayCount = 0;
  /**
   * The application's commands as last sent, global and per server apart, as Discord keeps them: a guild
   * copy left behind by an earlier guild registration shows up beside the global one.
   */
  readonly commands = { global: [] as any[], guilds: new Map<string, any[]>() };
  /**
   * Discord fails an interaction not acknowledged within 3 s of being sent (10062 Unknown interaction).
   * The fake waits 10 s by default so a loaded 2-core CI machine does not fail tests about something else;
   * the deadline's own tests set Discord's value or less. Counted from the first dispatch, so a replay
   * after a resume does not restart it.
   */
  ackDeadlineMs = 10_000;
  readonly interactionSentAt = new Map<string, number>();
  /**
   * Channels the bot lacks View Channel or Read Message History in: reading the channel or one of its
   * messages is refused with 403 / 50001 Missing Access, as Discord does. Interactions still come from them.
   */
  readonly unreadable = new Set<string>();
  /** The largest request body Discord takes (25 MiB), files included: a larger one is refused with 413 / 40005. */
  requestLimit = 25 * 1024 * 1024;
  /** Interaction ids already called back. */
  readonly answered = new Set<string>();
  /** Interaction token → the message its first callback created. */
  readonly originals = new Map<string, string>();

  private readonly tokenChannels = new Map<string, string>();
  private waiters: Waiter[] = [];
  private server!: Server;
  private wss!: WebSocketServer;

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
    this.server = createServer((req, res) => void handleHttp(this, req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => acceptSocket(this, ws, req));
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

  /** Marks a channel age-restricted (NSFW) or not, as a moderator would: the stored channel, then CHANNEL_UPDATE. */
  setNsfw(channelId: string, nsfw: boolean): void {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`The fake has no channel ${channelId}.`);
    channel.nsfw = nsfw;
    this.dispatch('CHANNEL_UPDATE', channel);
  }

  /** A public thread under `parentId` that a user opened, announced with THREAD_CREATE; it has no NSFW flag of its own. */
  openThread(parentId: string, name = 'thread'): string {
    const id = snowflake();
    const thread = {
      id,
      type: 11,
      guild_id: this.guildId,
      parent_id: parentId,
      name,
      owner_id: snowflake(),
      member_count: 1,
      message_count: 0,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
      rate_limit_per_user: 0,
      flags: 0,
    };
    this.channels.set(id, thread);
    this.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return id;
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

  /** Keeps an answered REST call and wakes whoever waits for one like it. */
  record(call: RecordedCall): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  }

  // ---- payload builders (the shapes Discord sends; payloads.ts) ----

  user(id?: string, name?: string): any {
    return payload.user(id, name);
  }

  member(user: any, options?: { roles?: string[]; permissions?: bigint }): any {
    return payload.member(user, options);
  }

  /** An attachment object pointing at the fake CDN, with the bytes served from there. */
  attachment(bytes: Buffer, filename: string, contentType: string, declaredSize?: number, options?: { chunked?: boolean }): any {
    return payload.attachment(this, bytes, filename, contentType, declaredSize, options);
  }

  /** A /vitron <sub> interaction; `attachment` is an attachment() object. */
  slashCommand(sub: string, user: any, input?: { prompt?: string; attachment?: any }, options?: payload.InteractionOptions): any {
    return payload.slashCommand(this, sub, user, input, options);
  }

  /** A press of a button on a message the fake holds. */
  buttonPress(customId: string, messageId: string, user: any, options?: payload.InteractionOptions): any {
    return payload.buttonPress(this, customId, messageId, user, options);
  }

  selectChoice(customId: string, values: string[], messageId: string, user: any): any {
    return payload.selectChoice(this, customId, values, messageId, user);
  }

  /** A user's message; `mention` prefixes the bot mention, `replyTo` makes it a reply. */
  userMessage(user: any, content: string, options?: payload.UserMessageOptions): FakeMessage {
    return payload.userMessage(this, user, content, options);
  }

  // ---- gateway (gateway.ts) ----

  dispatch(t: string, d: unknown): void {
    const id = t === 'INTERACTION_CREATE' ? (d as { id?: string }).id : undefined;
    if (id && !this.interactionSentAt.has(id)) this.interactionSentAt.set(id, Date.now());
    dispatch(this, t, d);
  }

  /** Makes the next RESUME replay the last `count` interactions and messages, as a resume after a lost ack does. */
  replayOnResume(count: number): void {
    this.replayCount = count;
  }

  /** Drops every gateway connection abnormally, as a network failure would; the client should RESUME. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

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

  // ---- what the REST side needs to know of interactions ----

  originalOf(token: string): FakeMessage | undefined {
    const id = this.originals.get(token);
    return id ? this.messages.get(id) : undefined;
  }

  /** The channel of a tracked interaction's token (the default channel for an untracked one). */
  channelOfToken(token: string): string {
    return this.tokenChannels.get(token) ?? this.channelId;
  }
}
