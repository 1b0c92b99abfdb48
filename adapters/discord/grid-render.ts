import { ActionRowBuilder, ButtonBuilder, ButtonStyle, StringSelectMenuBuilder, type MessageActionRowComponentBuilder } from 'discord.js';
import type { MediaView, TurnView } from '../../src/app/bot-api.ts';
import { encodeCustomId, type ButtonAction } from './custom-id.ts';

type Row = ActionRowBuilder<MessageActionRowComponentBuilder>;

interface Owner {
  conversationId: string;
  ownerId: string;
}

/** Discord's most buttons in one row; a batch is at most four pictures, so one row of U and one of V. */
const PER_ROW = 5;
/** Discord's longest select option label. */
const MAX_OPTION_LABEL = 100;

/** A batch's picture with the number in its corner of the grid (1-based, in the order they were made). */
export interface NumberedPicture {
  view: MediaView;
  number: number;
}

/** The batch's pictures of a turn in grid order: the core lists them in the order they were made, as the grid numbers them. */
export function batchPictures(turn: TurnView): NumberedPicture[] {
  return turn.media.filter((m) => m.role === 'result').map((view, i) => ({ view, number: i + 1 }));
}

function button(owner: Owner, action: ButtonAction, mediaId: string, label: string, style: ButtonStyle): ButtonBuilder {
  return new ButtonBuilder()
    .setCustomId(encodeCustomId({ action, subject: owner.conversationId, mediaId, ownerId: owner.ownerId }))
    .setLabel(label)
    .setStyle(style);
}

function row(components: MessageActionRowComponentBuilder[]): Row {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...components);
}

/**
 * A grid message's buttons, the way Midjourney users know them: U1..Un upscales picture i, V1..Vn makes
 * variations of picture i, then Undo / Retry (the whole batch again, same seeds) / Download (the grid), and
 * the "which one should I continue from?" menu that makes picture i the current one without running
 * anything. Each button names its exact picture, so it still works after a restart. Only a grid the
 * safety gate let through, with every picture in it, comes here (render.ts).
 */
export function gridRows(turn: TurnView, grid: MediaView, pictures: NumberedPicture[], owner: Owner): Row[] {
  const shown = pictures.slice(0, PER_ROW);
  const rows: Row[] = [];
  if (shown.length > 0) {
    rows.push(row(shown.map((p) => button(owner, 'upscale', p.view.id, `U${p.number}`, ButtonStyle.Secondary))));
    rows.push(row(shown.map((p) => button(owner, 'vary', p.view.id, `V${p.number}`, ButtonStyle.Secondary))));
  }
  const actions = turn.actions ?? [];
  const last: ButtonBuilder[] = [];
  if (actions.includes('undo')) last.push(button(owner, 'undo', grid.id, 'Undo', ButtonStyle.Secondary));
  if (actions.includes('redo')) last.push(button(owner, 'redo', grid.id, 'Redo', ButtonStyle.Secondary));
  last.push(button(owner, 'retry', grid.id, '🔄 Retry', ButtonStyle.Secondary));
  last.push(button(owner, 'download', grid.id, 'Download grid', ButtonStyle.Secondary));
  rows.push(row(last.slice(0, PER_ROW)));
  const menu = pickMenu(
    pictures.map((p) => ({ view: p.view, label: `${p.number} · ${p.view.label ?? `picture ${p.number}`}` })),
    owner,
  );
  if (menu) rows.push(menu);
  return rows;
}

/**
 * "Which one should I continue from?": a menu of the pictures; choosing one makes it the current one
 * (act use) so the next words work on it. Undefined for fewer than two.
 */
export function pickMenu(options: { view: MediaView; label: string }[], owner: Owner): Row | undefined {
  if (options.length < 2) return undefined;
  const menu = new StringSelectMenuBuilder()
    .setCustomId(encodeCustomId({ action: 'pick', subject: owner.conversationId, mediaId: '-', ownerId: owner.ownerId }))
    .setPlaceholder('Which one should I continue from?')
    .addOptions(options.slice(0, 25).map((o) => ({ label: clipLabel(o.label), value: o.view.id })));
  return row([menu]);
}

function clipLabel(label: string): string {
  return label.length <= MAX_OPTION_LABEL ? label : `${label.slice(0, MAX_OPTION_LABEL - 1)}…`;
}
