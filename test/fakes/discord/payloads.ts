/**
 * What Discord sends the bot, shaped as the real API shapes it: users, guild members, attachments on the
 * fake CDN, slash commands, button presses, select choices and user messages. Tests reach these through
 * FakeDiscord's methods of the same names.
 */
import type { FakeDiscord } from './fake-discord.ts';
import { type FakeMessage, PERMISSIONS, snowflake } from './shapes.ts';

/** Where an interaction happens and who may do what there. */
export interface InteractionOptions {
  channelId?: string;
  dm?: boolean;
  roles?: string[];
  permissions?: bigint;
  attachmentSizeLimit?: number;
}

export interface UserMessageOptions {
  channelId?: string;
  dm?: boolean;
  mention?: boolean;
  replyTo?: string;
  attachments?: any[];
  roles?: string[];
}

export function user(id = snowflake(), name = 'alice'): any {
  return { id, username: name, discriminator: '0', global_name: name, avatar: null };
}

export function member(user: any, options: { roles?: string[]; permissions?: bigint } = {}): any {
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
export function attachment(
  fake: FakeDiscord,
  bytes: Buffer,
  filename: string,
  contentType: string,
  declaredSize = bytes.length,
  options: { chunked?: boolean } = {},
): any {
  const id = snowflake();
  fake.uploads.set(id, { bytes, contentType, ...(options.chunked ? { chunked: true } : {}) });
  const url = `http://127.0.0.1:${fake.port}/cdn/attachments/${id}/${encodeURIComponent(filename)}`;
  return { id, filename, size: declaredSize, url, proxy_url: url, content_type: contentType, width: null, height: null };
}

function interactionBase(fake: FakeDiscord, type: number, user: any, options: InteractionOptions) {
  const channelId = options.channelId ?? fake.channelId;
  const guild = options.dm
    ? { user }
    : {
        guild_id: fake.guildId,
        member: member(user, { roles: options.roles ?? [], permissions: options.permissions ?? PERMISSIONS.DEFAULT }),
        guild_locale: 'en-US',
      };
  return {
    id: snowflake(),
    application_id: fake.applicationId,
    type,
    token: `itoken-${snowflake()}`,
    version: 1,
    channel_id: channelId,
    channel: options.dm ? { id: channelId, type: 1 } : (fake.channels.get(channelId) ?? { id: channelId, type: 0, guild_id: fake.guildId }),
    locale: 'en-US',
    app_permissions: '2248473465835073',
    entitlements: [],
    authorizing_integration_owners: { '0': fake.guildId },
    context: options.dm ? 1 : 0,
    attachment_size_limit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
    ...guild,
  };
}

/** A /vitron <sub> interaction; `attachment` is an attachment() object. */
export function slashCommand(
  fake: FakeDiscord,
  sub: string,
  user: any,
  input: { prompt?: string; attachment?: any } = {},
  options: InteractionOptions = {},
): any {
  const subOptions: any[] = [];
  if (input.prompt !== undefined) subOptions.push({ name: 'prompt', type: 3, value: input.prompt });
  if (input.attachment) subOptions.push({ name: 'attachment', type: 11, value: input.attachment.id });
  return {
    ...interactionBase(fake, 2, user, options),
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
export function buttonPress(fake: FakeDiscord, customId: string, messageId: string, user: any, options: InteractionOptions = {}): any {
  const message = fake.messages.get(messageId);
  return {
    ...interactionBase(fake, 3, user, { channelId: message?.channel_id, ...options }),
    message,
    data: { custom_id: customId, component_type: 2 },
  };
}

export function selectChoice(fake: FakeDiscord, customId: string, values: string[], messageId: string, user: any): any {
  const message = fake.messages.get(messageId);
  return { ...interactionBase(fake, 3, user, { channelId: message?.channel_id }), message, data: { custom_id: customId, component_type: 3, values } };
}

/** A user's message; `mention` prefixes the bot mention, `replyTo` makes it a reply. */
export function userMessage(fake: FakeDiscord, user: any, content: string, options: UserMessageOptions = {}): FakeMessage {
  const channelId = options.channelId ?? fake.channelId;
  const replied = options.replyTo ? fake.messages.get(options.replyTo) : undefined;
  const message: any = {
    id: snowflake(),
    channel_id: channelId,
    ...(options.dm ? {} : { guild_id: fake.guildId, member: { ...member(user, { roles: options.roles ?? [] }), user: undefined } }),
    channel_type: options.dm ? 1 : (fake.channels.get(channelId)?.type ?? 0),
    content: options.mention ? `<@${fake.botUser.id}> ${content}` : content,
    author: user,
    attachments: options.attachments ?? [],
    components: [],
    embeds: [],
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    type: options.replyTo ? 19 : 0,
    mentions: options.mention ? [fake.botUser] : [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    tts: false,
    ...(options.replyTo
      ? {
          message_reference: { type: 0, message_id: options.replyTo, channel_id: channelId, guild_id: options.dm ? undefined : fake.guildId },
          referenced_message: replied ?? null,
        }
      : {}),
  };
  fake.messages.set(message.id, message);
  return message;
}
