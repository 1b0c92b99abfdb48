import { api } from './api.js';
import { h, svg } from './dom.js';
import { batchGrid, generationRow } from './generation.js';

const FAILED = new Set(['failed', 'cancelled', 'interrupted']);
const ACTION_LABELS = { undo: 'Undo', redo: 'Redo', revert: 'Back to original', use: 'Use this', download: 'Download', retry: 'Retry', longer: 'Longer' };

/** error | question | normal: from the core's `tone` when it sends one, else from the job and the text. */
export function toneOf(turn) {
  if (turn.role !== 'bot') return 'normal';
  if (turn.tone) return turn.tone;
  if (turn.job && FAILED.has(turn.job.state)) return 'error';
  if (turn.text.trim().endsWith('?')) return 'question';
  return 'normal';
}

function mediaElement(media, testid) {
  // Safety: the server withheld this item (flagged as NSFW, PLAYGROUND_NSFW off) and says why instead.
  if (media.withheld) return h('p', { class: 'withheld', role: 'note', 'data-testid': 'withheld', 'data-media-id': media.id }, media.withheld);
  if (media.kind === 'video') {
    return h('video', { src: media.url, controls: true, preload: 'metadata', playsinline: true, 'data-testid': `${testid}-video`, 'data-media-id': media.id });
  }
  return h('img', {
    src: media.url,
    alt: media.label ?? `${media.role === 'upload' ? 'Uploaded' : 'Result'} image${media.ordinal ? ` #${media.ordinal}` : ''}`,
    loading: 'lazy',
    width: media.width || undefined,
    height: media.height || undefined,
    'data-testid': `${testid}-image`,
    'data-media-id': media.id,
    // Uploads and results can be clicked with Alt to select the object there (app.js setupClickToSelect).
    ...(testid === 'upload' || testid === 'result'
      ? { 'data-click-select': true, 'data-ordinal': media.ordinal, title: 'Alt+click: select the object at that point · Alt+drag: ask about a region' }
      : {}),
  });
}

/** Boxes live in the target's pixel space; an SVG with that viewBox scales them with the image. */
function boxesLayer(boxes, width, height) {
  const layer = svg('svg', { class: 'boxes', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'data-testid': 'boxes' });
  const stroke = Math.max(1.5, Math.min(width, height) / 250);
  const fontSize = Math.max(10, Math.min(width, height) / 28);
  for (const box of boxes) {
    const label = box.text ?? box.label;
    const score = box.score !== undefined ? ` ${Math.round(box.score * 100)}%` : '';
    const g = svg('g', { 'data-testid': 'box' });
    g.append(svg('rect', { x: box.x1, y: box.y1, width: Math.max(1, box.x2 - box.x1), height: Math.max(1, box.y2 - box.y1), 'stroke-width': stroke }));
    if (label) g.append(svg('text', { x: box.x1 + stroke, y: Math.max(fontSize, box.y1 - stroke * 2), 'font-size': fontSize }, `${label}${score}`));
    g.append(svg('title', {}, `${label ?? 'box'}${score}`));
    layer.append(g);
  }
  return layer;
}

/** Before/after slider: the parent under the result, the result clipped by the slider position. */
function beforeAfter(parentUrl, result) {
  // The result sits on its own checkered layer so that a cut-out's transparency does not show the 'before'.
  const after = h('div', { class: 'after-layer checker' }, h('img', { src: result.url, alt: 'After' }));
  const range = h('input', { type: 'range', min: 0, max: 100, value: 50, 'aria-label': 'Before / after position', 'data-testid': 'before-after-range' });
  const frame = h(
    'div',
    { class: 'compare checker', 'data-testid': 'before-after' },
    h('img', { src: parentUrl, alt: 'Before', class: 'before' }),
    after,
    h('span', { class: 'compare-label left' }, 'Before'),
    h('span', { class: 'compare-label right' }, 'After'),
    range,
  );
  const update = () => {
    frame.style.setProperty('--split', `${range.value}%`);
  };
  range.addEventListener('input', update);
  update();
  return frame;
}

/** A mask drawn in colour over the image it was made from (CSS luminance mask: white = selected). */
function maskOverlay(baseUrl, mask) {
  return h(
    'div',
    { class: 'mask-view', 'data-testid': 'mask-overlay' },
    h('img', { src: baseUrl, alt: 'Image with the mask drawn over it' }),
    h('div', { class: 'mask-layer', style: { maskImage: `url("${mask.url}")`, webkitMaskImage: `url("${mask.url}")` } }),
  );
}

/** One result with tabs for its other views (before/after, mask, overlay); only views that exist. */
function resultFigure(result, related, boxes) {
  const views = [];
  const main = h('div', { class: `media-frame ${result.kind === 'image' ? 'checker' : ''}` }, mediaElement(result, 'result'));
  if (boxes && result.kind === 'image' && result.width && result.height) main.append(boxesLayer(boxes, result.width, result.height));
  views.push(['Result', main]);
  const parentUrl = result.parentId ? api.mediaUrl(result.parentId) : undefined;
  if (related.comparison)
    views.push(['Before / after', h('div', { class: 'media-frame', 'data-testid': 'comparison' }, mediaElement(related.comparison, 'comparison'))]);
  else if (parentUrl && result.kind === 'image') views.push(['Before / after', beforeAfter(parentUrl, result)]);
  if (related.overlay) views.push(['Overlay', h('div', { class: 'media-frame' }, mediaElement(related.overlay, 'overlay'))]);
  if (related.mask)
    views.push(['Mask', parentUrl ? maskOverlay(parentUrl, related.mask) : h('div', { class: 'media-frame' }, mediaElement(related.mask, 'mask'))]);
  return tabbed(views, result);
}

function tabbed(views, media) {
  const figure = h('figure', { class: 'result', 'data-testid': 'result', 'data-media-id': media.id });
  if (views.length > 1) {
    const tabs = h('div', { class: 'tabs', role: 'tablist' });
    views.forEach(([label, view], index) => {
      const tab = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          class: 'tab',
          'aria-selected': String(index === 0),
          'data-testid': `view-${label.toLowerCase().replace(/[^a-z]+/g, '-')}`,
        },
        label,
      );
      tab.addEventListener('click', () => {
        for (const t of tabs.children) t.setAttribute('aria-selected', String(t === tab));
        views.forEach(([, v], i) => {
          v.hidden = i !== index;
        });
      });
      tabs.append(tab);
      view.hidden = index !== 0;
    });
    figure.append(tabs);
  }
  for (const [, view] of views) figure.append(view);
  const caption = [
    media.label,
    media.ordinal ? `${media.kind} #${media.ordinal}` : undefined,
    media.width ? `${media.width}×${media.height}` : undefined,
    media.durationSec ? `${media.durationSec.toFixed(1)} s` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  if (caption) figure.append(h('figcaption', {}, caption));
  return figure;
}

/**
 * Renders one turn. `context.boxTarget` is the image that a text-only answer's boxes refer to (OCR,
 * detect); `handlers` carries the page's actions.
 */
export function renderTurn(turn, context, handlers) {
  const tone = toneOf(turn);
  const media = turn.media ?? [];
  const byRole = (role) => media.filter((m) => m.role === role);
  const results = media.filter((m) => m.role === 'result' || m.role === 'frame' || m.role === 'upload');
  const related = { comparison: byRole('comparison')[0], mask: byRole('mask')[0], overlay: byRole('overlay')[0] };
  // A batch (n pictures and the grid of them): each picture with its own buttons instead of one result.
  const grid = turn.role === 'bot' ? byRole('grid')[0] : undefined;
  const batch = grid ? byRole('result') : [];

  const body = h('div', { class: 'bubble' });
  if (turn.text) body.append(h('p', { class: 'text', 'data-testid': 'turn-text' }, turn.text));

  const gallery = h('div', { class: 'gallery' });
  if (turn.role === 'user') {
    for (const m of media) gallery.append(h('figure', { class: 'upload' }, h('div', { class: 'media-frame checker' }, mediaElement(m, 'upload'))));
  } else if (batch.length > 0) {
    gallery.append(batchGrid(batch, handlers));
  } else {
    for (const [i, result] of results.entries()) {
      const figure = resultFigure(result, i === 0 ? related : {}, i === 0 ? turn.boxes : undefined);
      const generation = generationRow(result, handlers);
      if (generation) figure.append(generation);
      gallery.append(figure);
    }
    // Outputs with no main result (a segmentation that only returns a mask) still get shown.
    if (results.length === 0) {
      const only = related.overlay ?? related.mask ?? related.comparison;
      if (only) gallery.append(tabbed([[only.role, h('div', { class: 'media-frame' }, mediaElement(only, only.role))]], only));
      else if (turn.boxes?.length && context.boxTarget) {
        const target = context.boxTarget;
        gallery.append(
          tabbed(
            [
              [
                'Boxes',
                h(
                  'div',
                  { class: 'media-frame' },
                  h('img', { src: target.url, alt: 'The image with the found boxes', 'data-testid': 'boxes-image' }),
                  boxesLayer(turn.boxes, target.width, target.height),
                ),
              ],
            ],
            target,
          ),
        );
      }
    }
  }
  if (gallery.childElementCount > 0) body.append(gallery);

  // "Which one?": each numbered option answers with its number, exactly as if typed.
  if (turn.role === 'bot' && turn.choice?.options?.length) {
    const picks = h('div', { class: 'actions choices', 'data-testid': 'turn-choices', role: 'group', 'aria-label': turn.choice.question });
    for (const [i, option] of turn.choice.options.entries()) {
      picks.append(
        h(
          'button',
          { type: 'button', class: 'button', 'data-testid': 'choice', title: option, onclick: () => handlers.onChoose(i + 1) },
          `${i + 1} · ${option}`,
        ),
      );
    }
    body.append(picks);
  }

  const firstResult = turn.role === 'bot' ? (results[0] ?? related.overlay ?? related.mask) : undefined;
  const actions = turn.actions ?? [];
  if (turn.role === 'bot' && actions.length > 0) {
    const bar = h('div', { class: 'actions', 'data-testid': 'turn-actions' });
    for (const action of actions) {
      if (action === 'download') {
        // A batch downloads as its grid: all the pictures in one file.
        const file = batch.length > 0 && !grid.withheld ? grid : firstResult;
        if (file?.url) bar.append(h('a', { class: 'button', href: `${file.url}?download=1`, download: '', 'data-testid': 'action-download' }, 'Download'));
      } else if (action === 'use' && batch.length > 0) {
        // Which one? Each picture of the batch has its own Use button.
      } else if ((action === 'retry' || action === 'longer') && firstResult) {
        // A clip's Retry (unless its generation row has one already) and Longer: the same request, again or longer.
        if (action === 'retry' && firstResult.generation && !firstResult.withheld) continue;
        const onclick = action === 'retry' ? () => handlers.onRetry(firstResult.id) : () => handlers.onLonger(firstResult.id);
        bar.append(h('button', { type: 'button', class: 'button', 'data-testid': `action-${action}`, onclick }, ACTION_LABELS[action]));
      } else if (ACTION_LABELS[action]) {
        const mediaId = action === 'use' ? firstResult?.id : undefined;
        if (action === 'use' && !mediaId) continue;
        bar.append(
          h(
            'button',
            { type: 'button', class: 'button', 'data-testid': `action-${action}`, onclick: () => handlers.onAction(action, mediaId) },
            ACTION_LABELS[action],
          ),
        );
      }
    }
    if (bar.childElementCount > 0) body.append(bar);
  }

  return h(
    'article',
    { class: `turn turn-${turn.role} tone-${tone}`, 'data-testid': 'turn', 'data-role': turn.role, 'data-tone': tone, 'data-turn-id': turn.id },
    h('div', { class: 'avatar', 'aria-hidden': 'true' }, turn.role === 'user' ? 'You' : 'V'),
    h(
      'div',
      { class: 'turn-body' },
      h(
        'div',
        { class: 'meta' },
        turn.role === 'user' ? 'You' : tone === 'error' ? 'Vitron · problem' : tone === 'question' ? 'Vitron · question' : 'Vitron',
        h('time', { datetime: turn.createdAt }, new Date(turn.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
      ),
      body,
    ),
  );
}
