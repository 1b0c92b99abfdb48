import { stat } from 'node:fs/promises';
import { ActionRowBuilder, AttachmentBuilder, ButtonBuilder, ButtonStyle, type MessageActionRowComponentBuilder } from 'discord.js';
import type { BotApi, JobView, MediaView, TurnView } from '../../src/app/bot-api.ts';
import { encodeCustomId } from './custom-id.ts';
import { batchPictures, gridRows, pickMenu } from './grid-render.ts';
import { fitForUpload, type VideoShrinker } from './media.ts';
import { describeMedia, seedLine } from './seed-line.ts';
import type { MediaGate } from '../shared/safety-gate.ts';

export const MAX_CONTENT = 2000;

export function clip(text: string, max = MAX_CONTENT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The line shown while a job waits or runs: queue position, step and percentage. */
export function progressText(job: JobView): string {
  if (job.state === 'queued') return job.queuePosition ? `⏳ Queued — position ${job.queuePosition} in line.` : '⏳ Queued…';
  const p = job.progress;
  if (!p) return '⚙️ Working…';
  const step = p.steps > 1 ? ` step ${p.step}/${p.steps}` : '';
  const note = p.note ? ` — ${p.note}` : '';
  return `⚙️ Working${step}: ${Math.round(p.fraction * 100)}%${note}`;
}

export interface RenderedMessage {
  content: string;
  files: AttachmentBuilder[];
  components: ActionRowBuilder<MessageActionRowComponentBuilder>[];
}

/** Media the user should see: results, masks, overlays, comparisons — not their own uploads echoed back. */
function shown(turn: TurnView): MediaView[] {
  return turn.media.filter((m) => m.role !== 'upload');
}

/**
 * A bot turn as a Discord message: text, media fitted to the upload limit, and buttons that name the
 * exact result they act on (see custom-id.ts), so they keep working after a restart.
 */
export async function renderTurn(
  bot: BotApi,
  turn: TurnView,
  context: {
    conversationId: string;
    ownerId: string;
    uploadLimit: number;
    publicUrl: string | undefined;
    mention?: string;
    video?: VideoShrinker;
    /** Safety: decides per item whether this channel may see it (nsfw.ts discordGate). */
    gate: MediaGate;
  },
): Promise<RenderedMessage> {
  // Safety: withheld media is neither attached, linked nor given buttons; its sentence stands in its place.
  const withheld = new Set<string>();
  const notes: string[] = [];
  for (const view of shown(turn)) {
    const sentence = context.gate(view);
    if (sentence === undefined) continue;
    withheld.add(view.id);
    if (!notes.includes(sentence)) notes.push(sentence);
  }
  // A batch is posted as its grid alone; its pictures stay in the conversation, each reachable by its U/V
  // buttons. The grid shows every picture, so one withheld picture withholds the grid too; then the
  // pictures the gate let through are posted each on its own, with the usual buttons.
  const pictures = batchPictures(turn);
  const gridView = shown(turn).find((m) => m.role === 'grid' && m.kind === 'image');
  if (gridView && pictures.some((p) => withheld.has(p.view.id))) withheld.add(gridView.id);
  const media = shown(turn).filter((m) => !withheld.has(m.id));
  const grid = media.find((m) => m === gridView);
  const posted = grid ? [grid] : media;
  const files: AttachmentBuilder[] = [];
  const attached = posted.slice(0, 10);
  const stored = await Promise.all(attached.map((view) => bot.media(view.id)));
  const caps = fileCaps(await Promise.all(stored.map((s) => stat(s.path).then((st) => st.size))), context.uploadLimit);
  for (const [i, view] of attached.entries()) {
    // A link that works without the playground's cookie: signed, expiring (BotApi.mediaLink).
    const link = context.publicUrl ? new URL(bot.mediaLink(view.id), context.publicUrl).href : undefined;
    const fitted = await fitForUpload(stored[i]!.view, stored[i]!.path, caps[i]!, link, context.video);
    if (fitted.file) files.push(new AttachmentBuilder(fitted.file.bytes, { name: fitted.file.name, description: describeMedia(view) }));
    if (fitted.note) notes.push(fitted.note);
  }
  const head = context.mention ? `${context.mention} ` : '';
  const seeds = seedLine(grid ? pictures.map((p) => p.view) : posted);
  const content = clip([`${head}${turn.text}`.trim(), ...(seeds ? [seeds] : []), ...notes].filter((s) => s !== '').join('\n'));
  const components = grid && !turn.choice ? gridRows(turn, grid, pictures, context) : componentsFor(turn, media, context);
  return { content: content || '​', files, components };
}

/**
 * Discord refuses a request over 25 MiB (413, error 40005) whatever each file's own limit. Sources differ on
 * 25 MB or 25 MiB, and the JSON payload and multipart framing count too, so the files get 24 MB together.
 */
export const REQUEST_FILE_BUDGET = 24_000_000;

/**
 * Each file's share of one message: no file above the upload limit, and all of them inside the request
 * budget (never below the upload limit itself, which a server's boosts may raise past it). Small files
 * keep their size; what they leave is shared equally by the larger ones, which are then shrunk to it.
 */
export function fileCaps(sizes: number[], uploadLimit: number, budget = Math.max(REQUEST_FILE_BUDGET, uploadLimit)): number[] {
  const caps = new Array<number>(sizes.length).fill(0);
  let left = budget;
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => a.size - b.size);
  for (const [k, { size, i }] of order.entries()) {
    caps[i] = Math.min(uploadLimit, Math.floor(left / (order.length - k)));
    left -= Math.min(size, caps[i]);
  }
  return caps;
}

/** Discord shows 5 buttons per row; two rows of numbers is as many as anyone picks from by eye. */
const MAX_CHOICE_BUTTONS = 10;

/** "Which one?": numbered buttons that answer with their number, as if the user had typed it. */
function choiceRows(turn: TurnView, context: { conversationId: string; ownerId: string }): ActionRowBuilder<MessageActionRowComponentBuilder>[] {
  const options = turn.choice?.options.slice(0, MAX_CHOICE_BUTTONS) ?? [];
  const buttons = options.map((option, i) =>
    new ButtonBuilder()
      .setCustomId(encodeCustomId({ action: 'choose', subject: context.conversationId, mediaId: String(i + 1), ownerId: context.ownerId }))
      .setLabel(clip(`${i + 1} · ${option}`, 80))
      .setStyle(ButtonStyle.Primary),
  );
  const rows: ActionRowBuilder<MessageActionRowComponentBuilder>[] = [];
  for (let i = 0; i < buttons.length; i += 5) rows.push(new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...buttons.slice(i, i + 5)));
  return rows;
}

function componentsFor(
  turn: TurnView,
  media: MediaView[],
  context: { conversationId: string; ownerId: string },
): ActionRowBuilder<MessageActionRowComponentBuilder>[] {
  // A question is answered before anything else is done with the picture that asks it.
  if (turn.choice) return choiceRows(turn, context);
  const result = media.find((m) => m.role === 'result') ?? media[0];
  if (!result) return [];
  const id = (action: Parameters<typeof encodeCustomId>[0]['action'], mediaId = result.id) =>
    encodeCustomId({ action, subject: context.conversationId, mediaId, ownerId: context.ownerId });
  const actions = turn.actions ?? [];
  const buttons: ButtonBuilder[] = [];
  if (actions.includes('undo')) buttons.push(new ButtonBuilder().setCustomId(id('undo')).setLabel('Undo').setStyle(ButtonStyle.Secondary));
  if (actions.includes('redo')) buttons.push(new ButtonBuilder().setCustomId(id('redo')).setLabel('Redo').setStyle(ButtonStyle.Secondary));
  if (result.kind === 'image') {
    buttons.push(new ButtonBuilder().setCustomId(id('upscale')).setLabel('Upscale').setStyle(ButtonStyle.Primary));
    buttons.push(new ButtonBuilder().setCustomId(id('cutout')).setLabel('Cut out').setStyle(ButtonStyle.Primary));
    buttons.push(new ButtonBuilder().setCustomId(id('animate')).setLabel('Animate').setStyle(ButtonStyle.Primary));
  }
  const rows = [new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...buttons.slice(0, 5))];
  const second = [new ButtonBuilder().setCustomId(id('download')).setLabel('Download original').setStyle(ButtonStyle.Secondary)];
  // Retry repeats what made the result (bot.repeat): an edit of an input, or a generation with its seed.
  if (result.parentId || result.generation) second.unshift(new ButtonBuilder().setCustomId(id('retry')).setLabel('Retry').setStyle(ButtonStyle.Secondary));
  // Longer is offered by the core only while the clip's limits allow a longer take.
  if (actions.includes('longer')) second.splice(1, 0, new ButtonBuilder().setCustomId(id('longer')).setLabel('Longer').setStyle(ButtonStyle.Secondary));
  rows.push(new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(...second));
  const images = media.filter((m) => m.kind === 'image' || m.kind === 'video');
  const menu = pickMenu(
    images.map((m) => ({ view: m, label: m.label ?? `${m.role} ${m.kind}${m.ordinal ? ` #${m.ordinal}` : ''}` })),
    context,
  );
  if (menu) rows.push(menu);
  return rows.filter((row) => row.components.length > 0);
}

export function cancelRow(jobId: string, ownerId: string): ActionRowBuilder<MessageActionRowComponentBuilder> {
  return new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(encodeCustomId({ action: 'cancel', subject: jobId, mediaId: '-', ownerId }))
      .setLabel('Cancel')
      .setStyle(ButtonStyle.Danger),
  );
}
