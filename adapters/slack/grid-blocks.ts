/**
 * The message under a batch's grid, as people know it from Midjourney: U1..Un upscales picture i, V1..Vn
 * makes variations of it, Pick 1..n continues from it, then Undo and Retry (🔄, the batch again with the
 * same seeds). Every button's value names the exact picture (not "the second one of the latest batch"),
 * so an older grid's buttons still act on its own pictures, also after a restart.
 */
import type { MediaView } from '../../src/app/bot-api.ts';
import { actions, type Block, button, generationLine, sections } from './blocks.ts';
import type { ButtonValue } from './payloads.ts';

/** A picture of the batch by its number on the grid (1-based); withheld pictures are left out, keeping the numbers. */
export interface GridPicture {
  number: number;
  picture: MediaView;
}

export function gridBlocks(text: string, grid: MediaView, pictures: GridPicture[], conversationId: string, jobId: string): { text: string; blocks: Block[] } {
  const pick = (action: 'upscale' | 'vary' | 'pick', label: (n: number) => string) =>
    pictures.map(({ number, picture }) => {
      const value: ButtonValue = { c: conversationId, m: picture.id, j: jobId, n: number, ...(picture.parentId ? { p: picture.parentId } : {}) };
      return button(action, value, label(number));
    });
  // The batch as a whole: what it was made from (for Undo) is what its pictures were made from.
  const parentId = grid.parentId ?? pictures[0]?.picture.parentId;
  const whole: ButtonValue = { c: conversationId, m: grid.id, j: jobId, ...(parentId ? { p: parentId } : {}) };
  const body = text.trim() === '' ? 'Here they are.' : text;
  const made = generationLine(pictures.map((p) => p.picture));
  const blocks: Block[] = [...sections(body)];
  if (made) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: made }] });
  if (pictures.length > 0) {
    blocks.push(
      actions(
        `grid:u:${grid.id}`,
        pick('upscale', (n) => `U${n}`),
      ),
    );
    blocks.push(
      actions(
        `grid:v:${grid.id}`,
        pick('vary', (n) => `V${n}`),
      ),
    );
  }
  const last = [...pick('pick', (n) => `Pick ${n}`)];
  if (parentId) last.push(button('undo', whole));
  last.push(button('retry', whole, '🔄 Retry'));
  blocks.push(actions(`grid:more:${grid.id}`, last));
  return { text: body, blocks };
}
