/**
 * Block Kit for the two messages the adapter keeps per job: one progress message that is updated in
 * place, and the result's buttons. Button values carry the conversation, result and job ids, so a
 * click acts on that exact result even after a restart (nothing is looked up in memory).
 */
import type { JobView, MediaView } from '../../src/app/bot-api.ts';
import type { Choice } from '../../src/core/types.ts';
import type { ButtonValue } from './payloads.ts';

export const ACTION_PREFIX = 'vitron:';
export const RESULT_ACTIONS = ['undo', 'redo', 'retry', 'upscale', 'cutout', 'animate'] as const;
export type ResultAction = (typeof RESULT_ACTIONS)[number];
export type ButtonAction = ResultAction | 'cancel' | 'choose';

const LABELS: Record<ButtonAction, string> = {
  undo: 'Undo',
  redo: 'Redo',
  retry: 'Retry',
  upscale: 'Upscale',
  cutout: 'Cut out',
  animate: 'Animate',
  cancel: 'Cancel',
  choose: 'Choose',
};

type Block = { type: string; [field: string]: unknown };

function button(action: ButtonAction, value: ButtonValue, label = LABELS[action]): Block {
  return {
    type: 'button',
    // Slack wants action_ids unique within a block: numbered choices carry their number.
    action_id: `${ACTION_PREFIX}${action}${value.n === undefined ? '' : `:${value.n}`}`,
    text: { type: 'plain_text', text: label },
    value: JSON.stringify(value),
    ...(action === 'cancel' ? { style: 'danger' } : {}),
  };
}

/** The one line of the progress message: state, step and percentage. */
export function progressLine(job: JobView): string {
  switch (job.state) {
    case 'queued':
      return job.queuePosition && job.queuePosition > 1 ? `:hourglass: Queued (position ${job.queuePosition})` : ':hourglass: Queued';
    case 'running': {
      const p = job.progress;
      if (!p) return ':gear: Working on it… 0%';
      const step = p.steps > 1 ? ` step ${p.step}/${p.steps}` : '';
      const note = p.note ? ` · ${p.note}` : '';
      return `:gear: Working on it…${step}${note} · ${Math.round(p.fraction * 100)}%`;
    }
    case 'succeeded':
      return ':white_check_mark: Done · 100%';
    case 'cancelled':
      return ':no_entry_sign: Cancelled';
    case 'interrupted':
      return ':arrows_counterclockwise: Interrupted; it will be picked up again';
    default:
      return `:x: Failed${job.error ? `: ${job.error.message}` : ''}`;
  }
}

export function progressBlocks(job: JobView, conversationId: string): { text: string; blocks: Block[] } {
  const line = progressLine(job);
  const blocks: Block[] = [{ type: 'context', elements: [{ type: 'mrkdwn', text: line }] }];
  if (job.state === 'queued' || job.state === 'running') {
    blocks.push({ type: 'actions', block_id: `progress:${job.id}`, elements: [button('cancel', { c: conversationId, j: job.id })] });
  }
  return { text: line, blocks };
}

/** Slack allows 25 elements per actions block; nobody picks among more by eye. */
const MAX_CHOICE_BUTTONS = 10;

/** "Which one?": the question and one numbered button per option, each answering with its number. */
export function choiceBlocks(text: string, choice: Choice, conversationId: string): { text: string; blocks: Block[] } {
  const buttons = choice.options.slice(0, MAX_CHOICE_BUTTONS).map((option, i) => {
    const label = `${i + 1} · ${option}`;
    return button('choose', { c: conversationId, n: i + 1 }, label.length > 75 ? `${label.slice(0, 74)}…` : label);
  });
  const body = text.trim() === '' ? choice.question : text;
  return {
    text: body,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: body } },
      { type: 'actions', block_id: `choice:${conversationId}`, elements: buttons },
    ],
  };
}

/** The bot's words under a result, with the buttons that act on it. */
export function resultBlocks(text: string, result: MediaView, conversationId: string, jobId: string): { text: string; blocks: Block[] } {
  const value: ButtonValue = { c: conversationId, m: result.id, j: jobId, ...(result.parentId ? { p: result.parentId } : {}) };
  const actions: ResultAction[] = [];
  if (result.parentId) actions.push('undo');
  actions.push('redo', 'retry', 'upscale', 'cutout');
  if (result.kind === 'image') actions.push('animate');
  const body = text.trim() === '' ? 'Here is the result.' : text;
  return {
    text: body,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: body } },
      { type: 'actions', block_id: `result:${result.id}`, elements: actions.map((a) => button(a, value)) },
    ],
  };
}
