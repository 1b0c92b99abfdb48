/**
 * Block Kit for the messages the adapter keeps per job: one progress message that is updated in place,
 * and the result's buttons (a batch's grid has its own, in grid-blocks.ts). Button values carry the
 * conversation, result and job ids, so a click acts on that exact result even after a restart (nothing
 * is looked up in memory).
 */
import type { JobView, MediaView } from '../../src/app/bot-api.ts';
import type { Choice } from '../../src/core/types.ts';
import type { ButtonValue } from './payloads.ts';

export const ACTION_PREFIX = 'vitron:';
export const RESULT_ACTIONS = ['undo', 'redo', 'retry', 'longer', 'upscale', 'cutout', 'animate', 'vary', 'pick'] as const;
export type ResultAction = (typeof RESULT_ACTIONS)[number];
export type ButtonAction = ResultAction | 'cancel' | 'choose';

const LABELS: Record<ButtonAction, string> = {
  undo: 'Undo',
  redo: 'Redo',
  retry: 'Retry',
  longer: 'Longer',
  upscale: 'Upscale',
  cutout: 'Cut out',
  animate: 'Animate',
  vary: 'Vary',
  pick: 'Pick',
  cancel: 'Cancel',
  choose: 'Choose',
};

export type Block = { type: string; [field: string]: unknown };

/** Slack refuses a section whose text is longer than this (and the whole message with it: invalid_blocks). */
export const SECTION_TEXT_MAX = 3000;
/** Sections one message carries at most: Slack allows 50 blocks, and a longer text no one reads in a thread. */
const MAX_SECTIONS = 10;
/** Slack's bound for block_id and action_id. */
const ID_MAX = 255;

/**
 * The bot's words as sections of at most SECTION_TEXT_MAX characters each, split at a line break or a
 * space: a long answer keeps its words and the message keeps its buttons. Past MAX_SECTIONS it is clipped.
 */
export function sections(text: string): Block[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > SECTION_TEXT_MAX && parts.length < MAX_SECTIONS - 1) {
    const cut = cutPoint(rest, SECTION_TEXT_MAX);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  parts.push(clip(rest, SECTION_TEXT_MAX));
  return parts.map((part) => ({ type: 'section', text: { type: 'mrkdwn', text: part } }));
}

/** Text cut to `max` characters with an ellipsis, never inside a surrogate pair (an emoji). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, unsplit(text, max - 1))}…`;
}

/** Where to end a part of at most `max` characters: the last line break, else the last space, in its second half. */
function cutPoint(text: string, max: number): number {
  for (const separator of ['\n', ' ']) {
    const at = text.lastIndexOf(separator, max);
    if (at > max / 2) return at;
  }
  return unsplit(text, max);
}

/** `at`, or one less when `at` would cut between the two halves of a surrogate pair. */
function unsplit(text: string, at: number): number {
  const before = text.charCodeAt(at - 1);
  return before >= 0xd800 && before <= 0xdbff ? at - 1 : at;
}

export function actions(blockId: string, elements: Block[]): Block {
  return { type: 'actions', block_id: blockId.slice(0, ID_MAX), elements };
}

/** "seed 123456 · comfyui" under a generated picture (seeds of a batch in grid order), so it can be asked for again. */
export function generationLine(pictures: MediaView[]): string | undefined {
  const made = pictures.flatMap((p) => (p.generation ? [p.generation] : []));
  if (made.length === 0) return undefined;
  const seeds = made.map((g) => g.seed).join(', ');
  const engines = [...new Set(made.map((g) => g.engine))].join(', ');
  return `${made.length === 1 ? 'seed' : 'seeds'} ${seeds} · ${engines}`;
}

export function button(action: ButtonAction, value: ButtonValue, label = LABELS[action]): Block {
  return {
    type: 'button',
    // Slack wants action_ids unique within a block: numbered choices carry their number.
    action_id: `${ACTION_PREFIX}${action}${value.n === undefined ? '' : `:${value.n}`}`.slice(0, ID_MAX),
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
  // A failure's message can be long: the context text has the same limit as a section's.
  const line = clip(progressLine(job), SECTION_TEXT_MAX);
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
    blocks: [...sections(body), actions(`choice:${conversationId}`, buttons)],
  };
}

/**
 * The bot's words under a result, with the buttons that act on it; a generated picture also says its
 * seed and engine, and offers Vary (new seeds from it) as a picture of a grid does. `offered` is the
 * turn's actions (TurnView.actions).
 */
export function resultBlocks(
  text: string,
  result: MediaView,
  conversationId: string,
  jobId: string,
  offered: readonly string[] = [],
): { text: string; blocks: Block[] } {
  const value: ButtonValue = { c: conversationId, m: result.id, j: jobId, ...(result.parentId ? { p: result.parentId } : {}) };
  const shown: ResultAction[] = [];
  if (result.parentId) shown.push('undo');
  shown.push('redo', 'retry');
  // Longer (a clip again with more seconds) only when the core offers it: the clip's limits allow it.
  if (offered.includes('longer')) shown.push('longer');
  shown.push('upscale', 'cutout');
  if (result.kind === 'image') shown.push('animate');
  if (result.generation) shown.push('vary');
  const body = text.trim() === '' ? 'Here is the result.' : text;
  const made = generationLine([result]);
  return {
    text: body,
    blocks: [
      ...sections(body),
      ...(made ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: made }] }] : []),
      actions(
        `result:${result.id}`,
        shown.map((a) => button(a, value)),
      ),
    ],
  };
}
