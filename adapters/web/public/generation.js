import { h } from './dom.js';

// Generated pictures: a batch as a grid with the buttons people know from Midjourney (upscale, vary,
// pick one), and a single picture with its seed and Retry. Only MediaView.generation is read here.

/** Words the bot understands once a picture is the current one (the same as typing them). */
export const VARY_WORDS = 'give me some variations';
export const UPSCALE_WORDS = 'upscale it';

function seedNote(media) {
  const g = media.generation;
  if (!g) return null;
  const details = [g.prompt, g.steps ? `${g.steps} steps` : undefined, `${g.width}×${g.height}`, `${g.engine} · ${g.model}`].filter(Boolean);
  return h('small', { class: 'seed', 'data-testid': 'seed', title: details.join(' · ') }, `seed ${g.seed}`);
}

function thumbnail(media, number) {
  // Safety: the server withheld this picture and says why instead; there is nothing to look at or continue from.
  if (media.withheld) return h('p', { class: 'withheld', role: 'note', 'data-testid': 'withheld', 'data-media-id': media.id }, media.withheld);
  return h(
    'a',
    { class: 'media-frame checker', href: media.url, target: '_blank', rel: 'noopener', title: `Open picture ${number} full size` },
    h('img', {
      src: media.url,
      alt: media.label ?? `Picture ${number}`,
      loading: 'lazy',
      width: media.width || undefined,
      height: media.height || undefined,
      'data-testid': 'batch-image',
      'data-media-id': media.id,
    }),
  );
}

/**
 * The pictures of a batch ('result' items), numbered like the grid the chat platforms get. The 'grid'
 * image itself is not shown: here every picture is shown on its own, with its own buttons.
 */
export function batchGrid(pictures, handlers) {
  const grid = h('div', { class: 'batch', 'data-testid': 'batch-grid', role: 'list' });
  for (const [i, media] of pictures.entries()) {
    const number = i + 1;
    const button = (testid, label, title, onclick) => h('button', { type: 'button', class: 'button small', 'data-testid': testid, title, onclick }, label);
    const buttons = media.withheld
      ? null
      : h(
          'div',
          { class: 'batch-actions', role: 'group', 'aria-label': `Picture ${number}` },
          button('batch-upscale', 'Upscale', `Upscale picture ${number}`, () => handlers.onPickThen(media.id, UPSCALE_WORDS)),
          button('batch-vary', 'Vary', `Variations of picture ${number}`, () => handlers.onPickThen(media.id, VARY_WORDS)),
          button('batch-use', 'Use', `Continue from picture ${number}`, () => handlers.onAction('use', media.id)),
        );
    grid.append(
      h(
        'figure',
        { class: 'batch-item', role: 'listitem', 'data-testid': 'batch-item', 'data-media-id': media.id, 'data-number': number },
        thumbnail(media, number),
        h('figcaption', {}, h('span', { class: 'batch-number' }, `${number}`), media.withheld ? null : seedNote(media)),
        buttons,
      ),
    );
  }
  return grid;
}

/** Under a single generated picture: its seed and Retry (the same request with the same seed). */
export function generationRow(media, handlers) {
  if (!media.generation || media.withheld) return null;
  return h(
    'div',
    { class: 'generation-row', 'data-testid': 'generation' },
    seedNote(media),
    h(
      'button',
      {
        type: 'button',
        class: 'button small',
        'data-testid': 'retry',
        title: 'Make it again with the same seed',
        onclick: () => handlers.onRetry(media.id),
      },
      'Retry',
    ),
  );
}
