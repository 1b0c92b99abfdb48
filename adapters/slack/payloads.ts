/**
 * What the adapter reads from Slack's payloads, checked at the edge: Bolt types them, but only as
 * Slack documents them, and a field the code relies on must be there before a turn is recorded.
 */
import { z } from 'zod';

export const SlackFileSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  mimetype: z.string().optional(),
  size: z.number().optional(),
  url_private: z.string().optional(),
  url_private_download: z.string().optional(),
  /** Present on files Slack could not share with the app (e.g. from a channel it is not in). */
  mode: z.string().optional(),
  /** "check_file_info" on files from Slack Connect channels: only files.info gives their links. */
  file_access: z.string().optional(),
});
export type SlackFile = z.infer<typeof SlackFileSchema>;

/** app_mention and message events (including file_share and assistant thread messages). */
export const MessageEventSchema = z.object({
  type: z.enum(['message', 'app_mention']),
  subtype: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().default(''),
  ts: z.string(),
  thread_ts: z.string().optional(),
  channel: z.string(),
  channel_type: z.string().optional(),
  team: z.string().optional(),
  files: z.array(SlackFileSchema).optional(),
});
export type MessageEvent = z.infer<typeof MessageEventSchema>;

export const EventEnvelopeSchema = z.object({
  team_id: z.string().optional(),
  event_id: z.string().optional(),
});

export const AssistantThreadStartedSchema = z.object({
  assistant_thread: z.object({ user_id: z.string(), channel_id: z.string(), thread_ts: z.string() }),
});

export const BlockActionSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string(), name: z.string().optional(), team_id: z.string().optional() }),
  team: z.object({ id: z.string() }).nullable().optional(),
  channel: z.object({ id: z.string() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
});

export const MessageShortcutSchema = z.object({
  type: z.literal('message_action'),
  callback_id: z.string(),
  user: z.object({ id: z.string(), name: z.string().optional(), team_id: z.string().optional() }),
  team: z.object({ id: z.string() }).nullable().optional(),
  channel: z.object({ id: z.string() }),
  message: z.object({
    ts: z.string(),
    thread_ts: z.string().optional(),
    text: z.string().optional(),
    files: z.array(SlackFileSchema).optional(),
  }),
});

export const SlashCommandSchema = z.object({
  command: z.string(),
  text: z.string().default(''),
  user_id: z.string(),
  user_name: z.string().optional(),
  team_id: z.string(),
  channel_id: z.string(),
});

/** The value of a result or progress button: which conversation, result and job it acts on. */
export const ButtonValueSchema = z.object({
  c: z.string().min(1),
  m: z.string().optional(),
  p: z.string().optional(),
  j: z.string().optional(),
  /** The option number of a "which one?" button. */
  n: z.number().int().min(1).max(99).optional(),
});
export type ButtonValue = z.infer<typeof ButtonValueSchema>;
