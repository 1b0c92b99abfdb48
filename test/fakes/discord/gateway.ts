/**
 * The fake's gateway WebSocket, speaking the real JSON payloads: HELLO, heartbeat acks, IDENTIFY answered
 * with READY and GUILD_CREATE, RESUME answered with the events a test chose to replay and RESUMED, and the
 * dispatches tests send (INTERACTION_CREATE, MESSAGE_CREATE) or the REST side causes (THREAD_CREATE).
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { FakeDiscord } from './fake-discord.ts';
import { PERMISSIONS, snowflake } from './shapes.ts';

/** Sends one dispatch to every connected client; interactions and messages are kept for replays on RESUME. */
export function dispatch(fake: FakeDiscord, t: string, d: unknown): void {
  if (t === 'INTERACTION_CREATE' || t === 'MESSAGE_CREATE') fake.dispatched.push({ t, d });
  fake.seq += 1;
  const frame = JSON.stringify({ op: 0, t, s: fake.seq, d });
  for (const ws of fake.sockets) ws.send(frame);
}

/** A dispatch to one client only, numbered in the same sequence as the others. */
function sendTo(fake: FakeDiscord, ws: WebSocket, t: string, d: unknown): void {
  fake.seq += 1;
  ws.send(JSON.stringify({ op: 0, t, s: fake.seq, d }));
}

export function acceptSocket(fake: FakeDiscord, ws: WebSocket, req: IncomingMessage): void {
  fake.sockets.add(ws);
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  if (query.get('compress')) {
    // Only plain JSON frames are spoken here; a client asking for zlib-stream would get garbage.
    ws.close(4000, 'compression not supported by the fake');
    return;
  }
  ws.on('close', () => fake.sockets.delete(ws));
  ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }));
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString());
    if (frame.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
    else if (frame.op === 2) onIdentify(fake, ws);
    else if (frame.op === 6) onResume(fake, ws);
  });
}

function onResume(fake: FakeDiscord, ws: WebSocket): void {
  fake.resumes += 1;
  // Discord replays what it thinks the client missed; here, the events a test chose to see again.
  const replay = fake.dispatched.slice(fake.dispatched.length - fake.replayCount);
  fake.replayCount = 0;
  for (const { t, d } of replay) sendTo(fake, ws, t, d);
  sendTo(fake, ws, 'RESUMED', {});
}

function onIdentify(fake: FakeDiscord, ws: WebSocket): void {
  fake.identifies += 1;
  sendTo(fake, ws, 'READY', {
    v: 10,
    user: fake.botUser,
    guilds: [{ id: fake.guildId, unavailable: true }],
    session_id: fake.sessionId,
    resume_gateway_url: `ws://127.0.0.1:${fake.port}/gateway`,
    shard: [0, 1],
    application: { id: fake.applicationId, flags: 0 },
    private_channels: [],
    relationships: [],
    user_settings: {},
    presences: [],
    guild_join_requests: [],
    geo_ordered_rtc_regions: [],
  });
  sendTo(fake, ws, 'GUILD_CREATE', guildCreate(fake));
}

/** The one guild the fake has: @everyone and an "artists" role, and its text channels (threads come later). */
function guildCreate(fake: FakeDiscord): unknown {
  return {
    id: fake.guildId,
    name: 'Test server',
    icon: null,
    owner_id: snowflake(),
    roles: [
      {
        id: fake.guildId,
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
        id: fake.roleId,
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
    channels: [...fake.channels.values()].filter((c) => c.guild_id === fake.guildId && c.type !== 11),
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
  };
}
