/**
 * The REST routes discord.js calls, as a table: each answers as Discord does and keeps the fake's
 * messages, channels and interaction callbacks up to date. A call no route answers gets Discord's 404.
 */
import type { FakeDiscord } from './fake-discord.ts';
import * as payload from './payloads.ts';
import { type FakeMessage, type RecordedCall, snowflake } from './shapes.ts';

/** How a route answers; rest.ts records the call with the status it gets. */
export interface Reply {
  json: (status: number, payload: unknown, headers?: Record<string, string>) => void;
  /** 200 with the rate-limit headers Discord sends on success. */
  ok: (payload: unknown) => void;
}

interface Route {
  /** Undefined: any method, for paths where a missing message is a 404 whatever the method. */
  method?: string;
  path: RegExp;
  handle: (fake: FakeDiscord, call: RecordedCall, m: RegExpMatchArray, reply: Reply) => void;
}

const notFound = (call: RecordedCall, { json }: Reply) => json(404, { message: `404: Not Found (fake has no ${call.method} ${call.path})`, code: 0 });

/** Reading a channel the bot may not see (fake.unreadable) is refused before anything is looked up. */
function refusedRead(fake: FakeDiscord, channelId: string, { json }: Reply): boolean {
  if (!fake.unreadable.has(channelId)) return false;
  json(403, { message: 'Missing Access', code: 50001 });
  return true;
}

const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: /^\/gateway\/bot$/,
    handle: (fake, _call, _m, { ok }) =>
      ok({
        url: `ws://127.0.0.1:${fake.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      }),
  },
  { method: 'GET', path: /^\/users\/@me$/, handle: (fake, _call, _m, { ok }) => ok(fake.botUser) },
  {
    method: 'GET',
    path: /^\/users\/@me\/guilds$/,
    handle: (fake, _call, _m, { ok }) => ok([{ id: fake.guildId, name: 'fake guild', icon: null, owner: false, permissions: '0', features: [] }]),
  },
  {
    // A bulk overwrite replaces that scope's list (an empty one deletes them all); the other scope keeps its own.
    method: 'PUT',
    path: /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/,
    handle: (fake, { body }, m, { ok }) => {
      const stored = (body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: m[1], version: snowflake(), ...(m[2] ? { guild_id: m[2] } : {}) }));
      if (m[2]) fake.commands.guilds.set(m[2], stored);
      else fake.commands.global.splice(0, fake.commands.global.length, ...stored);
      ok(stored);
    },
  },
  {
    method: 'GET',
    path: /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/,
    handle: (fake, _call, m, { ok }) => ok(m[2] ? (fake.commands.guilds.get(m[2]) ?? []) : fake.commands.global),
  },
  { method: 'POST', path: /^\/interactions\/(\d+)\/([^/]+)\/callback$/, handle: interactionCallback },
  {
    path: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/,
    handle: (fake, call, m, reply) => {
      const target = m[3] === '@original' ? fake.originalOf(m[2]!) : fake.messages.get(m[3]!);
      if (target) onMessage(fake, call, target, reply);
      else reply.json(404, { message: 'Unknown Message', code: 10008 });
    },
  },
  {
    method: 'POST',
    path: /^\/webhooks\/(\d+)\/([^/]+)$/,
    handle: (fake, { body, files }, m, { ok }) => ok(storeMessage(fake, fake.channelOfToken(m[2]!), body ?? {}, files, {})),
  },
  {
    method: 'GET',
    path: /^\/channels\/(\d+)$/,
    handle: (fake, _call, m, reply) => {
      if (refusedRead(fake, m[1]!, reply)) return;
      const { ok, json } = reply;
      const channel = fake.channels.get(m[1]!);
      if (channel) ok(channel);
      else json(404, { message: 'Unknown Channel', code: 10003 });
    },
  },
  {
    method: 'POST',
    path: /^\/channels\/(\d+)\/messages$/,
    handle: (fake, { body, files }, m, { ok }) => {
      const channelId = m[1]!;
      if (body?.enforce_nonce && body.nonce) {
        // Discord answers a repeated nonce with the message it already created, so a retried POST is harmless.
        const existing = [...fake.messages.values()].find(
          (msg) => msg.channel_id === channelId && msg.nonce === body.nonce && msg.author.id === fake.botUser.id,
        );
        if (existing) {
          ok(existing);
          return;
        }
      }
      ok(storeMessage(fake, channelId, body ?? {}, files, {}));
    },
  },
  {
    path: /^\/channels\/(\d+)\/messages\/(\d+)$/,
    handle: (fake, call, m, reply) => {
      if (call.method === 'GET' && refusedRead(fake, m[1]!, reply)) return;
      const message = fake.messages.get(m[2]!);
      if (message) onMessage(fake, call, message, reply);
      else reply.json(404, { message: 'Unknown Message', code: 10008 });
    },
  },
  { method: 'POST', path: /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/, handle: startThread },
  { method: 'POST', path: /^\/channels\/(\d+)\/typing$/, handle: (_fake, _call, _m, { json }) => json(204, null) },
];

/** Answers a call by the first route whose method and path match it, or with a 404. */
export function route(fake: FakeDiscord, call: RecordedCall, reply: Reply): void {
  for (const { method, path, handle } of ROUTES) {
    if (method !== undefined && method !== call.method) continue;
    const m = path.exec(call.path);
    if (m) {
      handle(fake, call, m, reply);
      return;
    }
  }
  notFound(call, reply);
}

/** GET, PATCH or DELETE of one message, through a webhook or a channel alike. */
function onMessage(fake: FakeDiscord, call: RecordedCall, message: FakeMessage, reply: Reply): void {
  if (call.method === 'PATCH') reply.ok(updateMessage(fake, message, call.body ?? {}, call.files));
  else if (call.method === 'GET') reply.ok(message);
  else if (call.method === 'DELETE') {
    fake.messages.delete(message.id);
    reply.json(204, null);
  } else notFound(call, reply);
}

function interactionCallback(fake: FakeDiscord, { body, files, query }: RecordedCall, m: RegExpMatchArray, { ok, json }: Reply): void {
  const interactionId = m[1]!;
  const token = m[2]!;
  const type = body?.type;
  // Discord accepts one callback per interaction; a second one (a replayed event answered again) is refused.
  if (fake.answered.has(interactionId)) {
    json(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
    return;
  }
  const sentAt = fake.interactionSentAt.get(interactionId);
  if (sentAt !== undefined && Date.now() - sentAt > fake.ackDeadlineMs) {
    json(404, { message: 'Unknown interaction', code: 10062 });
    return;
  }
  fake.answered.add(interactionId);
  let message: FakeMessage | undefined;
  if (type === 4 || type === 5) {
    message = storeMessage(fake, fake.channelOfToken(token), body.data ?? {}, files, { interactionToken: token, interactionId });
  } else if (type === 7 || type === 6) {
    const original = fake.originalOf(token);
    if (original && type === 7) updateMessage(fake, original, body.data ?? {}, files);
  }
  if (query.get('with_response') !== 'true') {
    json(204, null);
    return;
  }
  ok({
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

function startThread(fake: FakeDiscord, { body }: RecordedCall, m: RegExpMatchArray, { json }: Reply): void {
  const parent = fake.channels.get(m[1]!);
  const thread = {
    id: m[2]!,
    type: 11,
    guild_id: fake.guildId,
    parent_id: m[1],
    name: body?.name ?? 'thread',
    owner_id: fake.botUser.id,
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
  if (!parent) {
    json(404, { message: 'Unknown Channel', code: 10003 });
    return;
  }
  fake.channels.set(thread.id, thread);
  fake.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
  json(201, thread);
}

function storeMessage(
  fake: FakeDiscord,
  channelId: string,
  data: any,
  files: RecordedCall['files'],
  options: { interactionToken?: string; interactionId?: string },
): FakeMessage {
  const channel = fake.channels.get(channelId);
  const message: FakeMessage = {
    id: snowflake(),
    channel_id: channelId,
    ...(channel?.guild_id ? { guild_id: channel.guild_id } : {}),
    content: data.content ?? '',
    author: fake.botUser,
    attachments: attachmentsFrom(fake, data, files, []),
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
  fake.messages.set(message.id, message);
  if (options.interactionToken && !fake.originals.has(options.interactionToken)) fake.originals.set(options.interactionToken, message.id);
  return message;
}

function updateMessage(fake: FakeDiscord, message: FakeMessage, data: any, files: RecordedCall['files']): FakeMessage {
  if (data.content !== undefined) message.content = data.content ?? '';
  if (data.components !== undefined) message.components = data.components ?? [];
  if (data.embeds !== undefined) message.embeds = data.embeds ?? [];
  if (data.attachments !== undefined || files.length > 0) message.attachments = attachmentsFrom(fake, data, files, message.attachments);
  message.edited_timestamp = new Date().toISOString();
  return message;
}

/** Uploaded files become attachments served by the fake CDN; `attachments` in the payload says which to keep. */
function attachmentsFrom(fake: FakeDiscord, data: any, files: RecordedCall['files'], previous: any[]): any[] {
  const kept = Array.isArray(data.attachments) ? previous.filter((a) => data.attachments.some((d: any) => String(d.id) === a.id)) : previous;
  const added = files.map((f) => payload.attachment(fake, f.bytes, f.name, f.contentType));
  return [...kept, ...added];
}
