import type { Box, Choice, JobProgress } from '../core/types.ts';
import type { ErrorCode } from '../errors.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { Conversation, JobRecord, StoredMedia, Turn } from '../store/types.ts';
import { longerClipSeconds } from '../vision/tasks/video/clip-length.ts';
import type { ConversationView, JobView, MediaView, TurnView } from './bot-api.ts';

/** Maps store records to the views adapters see; the only place that decides URLs and action lists. */
export function mediaView(media: StoredMedia): MediaView {
  return {
    id: media.id,
    kind: media.kind,
    mime: media.mime,
    width: media.width,
    height: media.height,
    bytes: media.bytes,
    ...(media.durationSec === undefined ? {} : { durationSec: media.durationSec }),
    role: media.role,
    ...(media.label ? { label: media.label } : {}),
    ...(media.ordinal === null ? {} : { ordinal: media.ordinal }),
    ...(media.parentId ? { parentId: media.parentId } : {}),
    url: `/api/media/${media.id}`,
    ...(media.safety ? { safety: media.safety } : {}),
    ...(media.generation ? { generation: media.generation } : {}),
  };
}

export function conversationView(conversation: Conversation): ConversationView {
  return {
    id: conversation.id,
    title: conversation.title ?? 'New conversation',
    platform: conversation.platform,
    externalId: conversation.externalId,
    createdAt: conversation.createdAt.toISOString(),
    updatedAt: conversation.updatedAt.toISOString(),
  };
}

export function jobView(job: JobRecord, extra: { queuePosition?: number; progress?: JobProgress } = {}): JobView {
  const progress: JobProgress | undefined =
    extra.progress ??
    (job.state === 'running' || job.state === 'succeeded'
      ? { fraction: job.progress.fraction, step: 0, steps: job.steps.length, note: job.progress.note ?? '' }
      : undefined);
  return {
    id: job.id,
    state: job.state,
    tasks: job.steps.map((s) => s.invocation.task),
    ...(progress ? { progress } : {}),
    ...(job.error ? { error: { code: job.error.code as ErrorCode, message: job.error.message } } : {}),
    ...(extra.queuePosition === undefined ? {} : { queuePosition: extra.queuePosition }),
    createdAt: job.createdAt.toISOString(),
    ...(job.finishedAt ? { finishedAt: job.finishedAt.toISOString() } : {}),
  };
}

/**
 * Buttons that make sense under a turn: edits can be undone, results downloaded and continued from; a clip the
 * bot made can be made again (`retry`, the same request and seed) and, while its limits allow, `longer`.
 */
export function actionsFor(media: readonly StoredMedia[], canRedo: boolean, limits?: MediaLimits): string[] {
  const result = media.find((m) => m.role === 'result');
  if (!result) return media.length > 0 ? ['download'] : [];
  const actions = ['undo', 'download', 'use'];
  if (canRedo) actions.splice(1, 0, 'redo');
  if (result.kind === 'video' && result.invocation) actions.push('retry');
  if (limits && longerClipSeconds(result, limits) !== undefined) actions.push('longer');
  return actions;
}

/** The last step's "which one?" (only the last step's question is the conversation's to answer). */
export function choiceOf(steps: readonly { choice?: Choice }[]): { choice?: Choice } {
  const choice = steps.at(-1)?.choice;
  return choice ? { choice } : {};
}

export function turnView(
  turn: Turn,
  media: readonly StoredMedia[],
  extra: { job?: JobView; boxes?: Box[]; choice?: Choice; actions?: string[]; tone?: TurnView['tone'] } = {},
): TurnView {
  return {
    id: turn.id,
    role: turn.author,
    text: turn.text,
    media: media.map(mediaView),
    ...(extra.job ? { job: extra.job } : {}),
    ...(extra.boxes && extra.boxes.length > 0 ? { boxes: extra.boxes } : {}),
    ...(extra.choice ? { choice: extra.choice } : {}),
    ...(extra.actions && extra.actions.length > 0 ? { actions: extra.actions } : {}),
    // A bot turn that offers a choice is a question, whatever else it says.
    ...(extra.choice ? { tone: 'question' as const } : extra.tone && extra.tone !== 'normal' ? { tone: extra.tone } : {}),
    createdAt: turn.createdAt.toISOString(),
  };
}
