import type { UserRef } from '../../src/app/bot-api.ts';
import { BadInputError } from '../../src/errors.ts';
import { allowed, overLimit, userRef } from './access.ts';
import { ACTION_PREFIX, RESULT_ACTIONS, type ButtonAction } from './blocks.ts';
import type { SlackContext } from './context.ts';
import { ButtonValueSchema, type BlockActionSchema, type ButtonValue } from './payloads.ts';

/**
 * What a button asks the core for, as a turn after continuing from the exact result: on a grid's picture
 * too, "it" is then that picture (U2 upscales picture 2, V3 varies picture 3, with new seeds).
 */
const BUTTON_TURNS: Partial<Record<ButtonAction, string>> = {
  upscale: 'upscale it',
  cutout: 'cut it out',
  animate: 'animate it',
  vary: 'give me some variations',
};

/** Buttons that run a turn are admitted by the core's limits like a new message; cancel, undo, redo and pick are not. */
const STARTS_WORK: readonly ButtonAction[] = ['choose', 'retry', 'longer', 'upscale', 'cutout', 'animate', 'vary'];

export async function onButton(context: SlackContext, payload: ReturnType<typeof BlockActionSchema.parse>): Promise<void> {
  const action = payload.actions[0]!;
  const name = action.action_id.slice(ACTION_PREFIX.length).split(':')[0] as ButtonAction;
  let value: ButtonValue;
  try {
    value = ButtonValueSchema.parse(JSON.parse(action.value ?? ''));
  } catch {
    context.logger.warn({ actionId: action.action_id }, 'slack button with an unreadable value');
    return;
  }
  const teamId = payload.team?.id ?? payload.user.team_id;
  const channel = payload.channel?.id;
  if (!teamId || (channel && !allowed(context.settings, teamId, channel))) return;
  const user = userRef(teamId, payload.user.id);
  const thread = await context.threads.of(value.c);
  // Values come from our own messages, but a conversation of another workspace is never acted on.
  if (!thread || thread.teamId !== teamId) return;
  // Refusals (not your job, over a limit) go to the person who clicked, not to the whole thread.
  const tell = (text: string) =>
    context.client.chat.postEphemeral({ channel: thread.channel, user: payload.user.id, text, ...(thread.threadTs ? { thread_ts: thread.threadTs } : {}) });
  const refused = STARTS_WORK.includes(name) ? await overLimit(context.bot, user, teamId) : undefined;
  if (refused) {
    await tell(refused);
    return;
  }
  try {
    await runButton(context, name, value, user);
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    await tell(error.message);
  }
}

async function runButton(context: SlackContext, name: ButtonAction, value: ButtonValue, user: UserRef): Promise<void> {
  const { bot } = context;
  const conversationId = value.c;
  if (name === 'cancel') {
    if (value.j) await bot.cancelJob(value.j, user);
    return;
  }
  if (name === 'choose') {
    // The number is the answer, word for word: the planner turns it into the asked invocation with `pick`.
    if (value.n !== undefined) await bot.handleTurn({ conversationId, user, text: String(value.n), files: [] });
    return;
  }
  if (!(RESULT_ACTIONS as readonly string[]).includes(name) || !value.m) return;
  if (name === 'undo') {
    if (!value.p) throw new BadInputError('NOTHING_TO_UNDO', 'This result has nothing before it to go back to.');
    await bot.act({ conversationId, user, action: 'use', mediaId: value.p });
    return;
  }
  if (name === 'redo' || name === 'pick') {
    await bot.act({ conversationId, user, action: 'use', mediaId: value.m });
    return;
  }
  if (name === 'retry' || name === 'longer') {
    // The core runs what made this exact media again with its seed (a grid: the batch, same seeds); replaying
    // the words instead would draw a new seed. Longer: the same with more seconds. Its answer, a job or a
    // reason, comes back as events.
    await bot.repeat({ conversationId, user, mediaId: value.m, ...(name === 'longer' ? { longer: true } : {}) });
    return;
  }
  const words = BUTTON_TURNS[name];
  if (!words) return;
  await bot.act({ conversationId, user, action: 'use', mediaId: value.m });
  await bot.handleTurn({ conversationId, user, text: words, files: [] });
}
