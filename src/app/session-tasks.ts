import type { Task } from '../core/tasks.ts';
import { BadInputError } from '../errors.ts';
import type { User } from '../store/types.ts';
import type { BotDeps } from './bot-deps.ts';
import type { Message } from './tone.ts';

type SessionDeps = Pick<BotDeps, 'conversations' | 'queue' | 'repos' | 'helpText'>;

/** Session tasks (undo, redo, revert, help, cancel) act on the conversation at once: they never become a job. */
export async function runSessionTask(deps: SessionDeps, conversationId: string, user: User, task: Task): Promise<Message> {
  switch (task) {
    case 'undo':
      return guard(async () => (await deps.conversations.undo(conversationId)).message);
    case 'redo':
      return guard(async () => (await deps.conversations.redo(conversationId)).message);
    case 'revert':
      return guard(async () => (await deps.conversations.revert(conversationId)).message);
    case 'help':
      return { text: deps.helpText(), tone: 'normal' };
    case 'cancel': {
      const mine: string[] = [];
      for (const id of deps.queue.activeJobsOf(user.id)) {
        const job = await deps.repos.jobs.find(id);
        if (job?.conversationId === conversationId) mine.push(id);
      }
      if (mine.length === 0) return { text: 'There is nothing running to cancel.', tone: 'question' };
      for (const id of mine) await deps.queue.cancel(id);
      return { text: mine.length === 1 ? 'Cancelling the running job.' : `Cancelling ${mine.length} jobs.`, tone: 'normal' };
    }
    default:
      return { text: `${task} is not a session command.`, tone: 'error' };
  }
}

/** Bad input from the session layer (nothing to undo…) is a message, anything else propagates. */
export async function guard(action: () => Promise<string>): Promise<Message> {
  try {
    return { text: await action(), tone: 'normal' };
  } catch (error) {
    if (error instanceof BadInputError) return { text: error.message, tone: 'error' };
    throw error;
  }
}
