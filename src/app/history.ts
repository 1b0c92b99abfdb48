import type { Box, Choice } from '../core/types.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { Repositories } from '../store/repositories.ts';
import type { JobRecord } from '../store/types.ts';
import type { HistoryView } from './bot-api.ts';
import type { ConversationNotifier } from './notifier.ts';
import { actionsFor, choiceOf, conversationView, turnView } from './views.ts';

/** A conversation as the playground and the chat adapters show it: every turn with its media, job, boxes and buttons. */
export async function historyOf(
  repos: Repositories,
  notifier: Pick<ConversationNotifier, 'jobView'>,
  conversationId: string,
  limits?: MediaLimits,
): Promise<HistoryView> {
  const conversation = await repos.conversations.get(conversationId);
  const [turns, media, jobs] = await Promise.all([
    repos.turns.list(conversationId),
    repos.media.listForConversation(conversationId),
    repos.jobs.listForConversation(conversationId, 500),
  ]);
  const canRedo = conversation.redoStack.length > 0;
  const views = turns.map((turn) => {
    const own = media.filter((m) => m.turnId === turn.id);
    const job = jobs.find((j) => j.turnId === turn.id);
    const resultJob = own.find((m) => m.jobId)?.jobId;
    const boxes = resultJob ? boxesOf(jobs.find((j) => j.id === resultJob)) : undefined;
    return turnView(turn, own, {
      ...(job ? { job: notifier.jobView(job) } : {}),
      ...(boxes ? { boxes } : {}),
      ...(resultJob ? choiceOfJob(jobs.find((j) => j.id === resultJob)) : {}),
      actions: turn.author === 'bot' ? actionsFor(own, false, limits) : [],
    });
  });
  const current = conversation.currentMediaId ? media.find((m) => m.id === conversation.currentMediaId) : undefined;
  return {
    conversation: conversationView(conversation),
    turns: views,
    ...(conversation.currentMediaId ? { currentMediaId: conversation.currentMediaId } : {}),
    canUndo: current !== undefined && current.parentId !== null,
    canRedo,
  };
}

function choiceOfJob(job: JobRecord | undefined): { choice?: Choice } {
  const result = job?.result as { steps?: { choice?: Choice }[] } | null | undefined;
  return choiceOf(result?.steps ?? []);
}

function boxesOf(job: JobRecord | undefined): Box[] | undefined {
  const result = job?.result as { steps?: { boxes?: Box[] }[] } | null | undefined;
  const boxes = result?.steps?.flatMap((s) => s.boxes ?? []) ?? [];
  return boxes.length > 0 ? boxes : undefined;
}
