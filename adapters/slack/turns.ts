import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import type { IncomingFile } from '../../src/app/bot-api.ts';
import { VitronError, asVitronError } from '../../src/errors.ts';
import { allowed, overLimit, userRef } from './access.ts';
import type { SlackContext } from './context.ts';
import { EventEnvelopeSchema, MessageEventSchema, type MessageEvent, type SlackFile } from './payloads.ts';
import { threadArgs, threadKey, type SlackThread } from './thread-key.ts';

/** The assistant panel's status while the bot works on a request. */
export const WORKING_STATUS = 'is working on it…';

/** A Slack request that becomes a turn: a message, a slash command or a message shortcut. */
export interface Incoming {
  thread: SlackThread;
  userId: string;
  text: string;
  files: SlackFile[];
  assistant?: boolean;
  /** The Slack message behind the turn: a redelivery records nothing and runs nothing in the core too. */
  eventKey?: string;
  /**
   * A first line for the thread, posted once the thread is the conversation's (a reply to it is then
   * the bot's); when Slack refuses it, `refused` runs instead of the turn.
   */
  opening?: { text: string; refused: (error: unknown) => Promise<void> };
}

/** app_mention, message and assistant-thread messages: which ones are the bot's to answer, each once. */
export async function onMessageEvent(context: SlackContext, raw: unknown, body: unknown, assistant: boolean): Promise<void> {
  const parsed = MessageEventSchema.safeParse(raw);
  if (!parsed.success) return;
  const event = parsed.data;
  if (!isUserMessage(event) || !event.user) return;
  // The installing workspace, not the author's: in a channel shared with another org they differ.
  const teamId = EventEnvelopeSchema.safeParse(body).data?.team_id ?? event.team;
  if (!teamId || !allowed(context.settings, teamId, event.channel)) return;
  const direct = event.channel_type === 'im';
  const thread: SlackThread = { teamId, channel: event.channel, threadTs: event.thread_ts ?? (direct ? '' : event.ts) };
  if (event.type === 'message' && !direct && !assistant) {
    // In channels, only replies in a thread the bot is part of; mentions come as app_mention.
    if (!event.thread_ts || !(await context.threads.isKnown(thread))) return;
  }
  const deliveryKey = `${teamId}:${event.channel}:${event.ts}`;
  if (!context.dedupe.claim(deliveryKey)) {
    context.stats.duplicatesDropped += 1;
    context.logger.debug({ deliveryKey }, 'slack message already handled (retry or duplicate event)');
    return;
  }
  context.work.run(() =>
    handleIncoming(context, {
      thread,
      userId: event.user!,
      text: stripMentions(event.text),
      files: event.files ?? [],
      assistant,
      eventKey: `slack:${deliveryKey}`,
    }),
  );
}

function isUserMessage(event: MessageEvent): boolean {
  if (event.bot_id) return false;
  return event.subtype === undefined || event.subtype === 'file_share' || event.subtype === 'thread_broadcast';
}

/** Admit, open the thread's conversation, fetch the files, run the turn; its answers arrive as core events. */
export async function handleIncoming(context: SlackContext, incoming: Incoming): Promise<void> {
  const { bot, delivery } = context;
  const { thread, userId } = incoming;
  const user = userRef(thread.teamId, userId);
  const refused = await overLimit(bot, user, thread.teamId);
  if (refused) {
    await delivery.say(thread, refused);
    return;
  }
  const conversation = await bot.startConversation({ user, platform: 'slack', externalId: threadKey(thread), title: incoming.text.slice(0, 60) || undefined });
  context.threads.remember(conversation.id, thread);
  if (incoming.opening) {
    try {
      await context.client.chat.postMessage({ ...threadArgs(thread), text: incoming.opening.text });
    } catch (error) {
      await incoming.opening.refused(error);
      return;
    }
  }
  if (incoming.assistant) await delivery.showStatus(conversation.id, thread, WORKING_STATUS);

  const files: IncomingFile[] = [];
  const problems: string[] = [];
  for (const file of incoming.files) {
    try {
      files.push(await context.intake.fetch(file));
    } catch (error) {
      if (!(error instanceof VitronError)) throw error;
      problems.push(`I could not fetch "${file.name ?? 'the file'}": ${error.message}`);
    }
  }
  if (problems.length > 0) await delivery.say(thread, problems.join('\n') + (files.length === 0 ? '\nNothing was done; share the file again.' : ''));
  if (problems.length > 0 && files.length === 0) {
    if (incoming.assistant) await delivery.clearStatus(conversation.id, thread);
    return;
  }

  // Problems with the words or the files come back as a bot turn, which the delivery posts.
  await nextLoopTurn();
  let job = false;
  try {
    const result = await bot.handleTurn({
      conversationId: conversation.id,
      user,
      text: incoming.text,
      files,
      ...(incoming.eventKey ? { eventKey: incoming.eventKey } : {}),
    });
    // Delivered before (another process, or before a restart that lost the journal): the first delivery answers.
    if (result.duplicate) {
      // The status set above for this delivery must not outlive the job it would have shown; a job still
      // under way clears it when it finishes (the delivery knows the conversation shows a status).
      const underWay = result.job?.state === 'queued' || result.job?.state === 'running';
      if (incoming.assistant && !underWay) delivery.enqueue(conversation.id, () => delivery.clearStatus(conversation.id, thread));
      return;
    }
    job = result.job !== undefined;
  } catch (error) {
    // Not bad input (that is a bot turn) but a fault: the store is down, say so rather than stay silent.
    context.logger.error({ err: error, conversationId: conversation.id }, 'slack turn failed');
    await delivery.say(thread, `Sorry, that failed: ${asVitronError(error).message}`);
  }
  if (!job && incoming.assistant) delivery.enqueue(conversation.id, () => delivery.clearStatus(conversation.id, thread));
}

function stripMentions(text: string): string {
  return text
    .replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
