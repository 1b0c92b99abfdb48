/**
 * Slack events in. Every Slack request is acknowledged before any work starts (Bolt acks events itself;
 * commands, shortcuts and buttons call ack() first), and the work runs in the background.
 */
import { Assistant, type App } from '@slack/bolt';
import { allowed } from './access.ts';
import { ACTION_PREFIX } from './blocks.ts';
import { onButton } from './buttons.ts';
import type { SlackContext } from './context.ts';
import { AssistantThreadStartedSchema, BlockActionSchema, EventEnvelopeSchema, MessageShortcutSchema, SlashCommandSchema } from './payloads.ts';
import { handleIncoming, onMessageEvent } from './turns.ts';

export const SHORTCUT_CALLBACK_ID = 'edit_with_vitron';
export const SLASH_COMMAND = '/vitron';

/** Said privately (through the request's response_url) where chat.postMessage is refused: the bot is not a member. */
const CANNOT_POST_HINT = 'I cannot post in this channel. Invite me first (/invite @vitron), or mention me in a channel I am in.';

export const SUGGESTED_PROMPTS = [
  { title: 'Remove the background', message: 'Remove the background of this image' },
  { title: 'Black and white', message: 'Make it black and white' },
  { title: 'What is in it?', message: 'What is in this picture?' },
  { title: 'What can you do?', message: 'help' },
];

export function registerListeners(app: App, context: SlackContext): void {
  const { bot, client, settings, work } = context;

  app.assistant(
    new Assistant({
      threadStarted: async ({ payload, body }) => {
        const parsed = AssistantThreadStartedSchema.safeParse(payload);
        const teamId = EventEnvelopeSchema.safeParse(body).data?.team_id;
        if (!parsed.success || !teamId) return;
        const { channel_id, thread_ts } = parsed.data.assistant_thread;
        if (!allowed(settings, teamId, channel_id)) return;
        work.run(async () => {
          await client.assistant.threads.setSuggestedPrompts({
            channel_id,
            thread_ts,
            title: 'Try one of these, or attach an image:',
            prompts: SUGGESTED_PROMPTS,
          });
        });
      },
      userMessage: async ({ payload, body }) => onMessageEvent(context, payload, body, true),
    }),
  );

  app.event('app_mention', async ({ event, body }) => onMessageEvent(context, event, body, false));
  app.message(async ({ message, body }) => onMessageEvent(context, message, body, false));

  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    const parsed = SlashCommandSchema.safeParse(command);
    if (!parsed.success) return ack();
    const { text, user_id, team_id, channel_id } = parsed.data;
    if (!allowed(settings, team_id, channel_id)) return ack({ response_type: 'ephemeral', text: 'vitron is not enabled in this channel.' });
    if (text.trim() === '' || text.trim().toLowerCase() === 'help') return ack({ response_type: 'ephemeral', text: bot.helpText() });
    await ack();
    work.run(async () => {
      // A command has no message to thread under: the bot posts one, and that thread is the conversation.
      let rootTs: string | undefined;
      try {
        rootTs = (await client.chat.postMessage({ channel: channel_id, text: `<@${user_id}> asked: ${text}` })).ts;
      } catch (error) {
        context.logger.warn({ err: error, channel: channel_id }, 'slack command: could not post in the channel');
      }
      if (!rootTs) {
        await respond({ response_type: 'ephemeral', text: CANNOT_POST_HINT });
        return;
      }
      await handleIncoming(context, { thread: { teamId: team_id, channel: channel_id, threadTs: rootTs }, userId: user_id, text, files: [] });
    });
  });

  app.shortcut(SHORTCUT_CALLBACK_ID, async ({ shortcut, ack, respond }) => {
    await ack();
    const parsed = MessageShortcutSchema.safeParse(shortcut);
    if (!parsed.success) return;
    const { user, team, channel, message } = parsed.data;
    const teamId = team?.id ?? user.team_id;
    if (!teamId || !allowed(settings, teamId, channel.id)) return;
    const thread = { teamId, channel: channel.id, threadTs: message.thread_ts ?? message.ts };
    work.run(async () => {
      // A message shortcut shows on every message of the workspace, also where the bot is not a member and
      // chat.postMessage is refused: what concerns only the user goes through the shortcut's response_url.
      if (!(message.files ?? []).length) {
        await respond({ response_type: 'ephemeral', text: 'That message has no image or video attached. Use "Edit with vitron" on a message with a file.' });
        return;
      }
      await handleIncoming(context, {
        thread,
        userId: user.id,
        text: '',
        files: message.files ?? [],
        opening: {
          text: `<@${user.id}> asked vitron to edit this.`,
          refused: async (error) => {
            context.logger.warn({ err: error, channel: channel.id }, 'slack shortcut: could not post in the channel');
            await respond({ response_type: 'ephemeral', text: CANNOT_POST_HINT });
          },
        },
      });
    });
  });

  app.action(new RegExp(`^${ACTION_PREFIX}`), async ({ ack, body }) => {
    await ack();
    const parsed = BlockActionSchema.safeParse(body);
    if (!parsed.success) return;
    work.run(() => onButton(context, parsed.data));
  });

  app.error(async (error) => {
    context.logger.error({ err: error }, 'slack listener failed');
  });
}
