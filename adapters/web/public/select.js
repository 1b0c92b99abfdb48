import { h } from './dom.js';

/** The selectable image under an event, if any (a result's box layer lies on top of it and takes the event). */
function selectableImage(target) {
  const img = target instanceof Element ? target.closest('.media-frame')?.querySelector('img[data-click-select]') : null;
  return img?.naturalWidth && img.naturalHeight ? img : null;
}

/** A pointer position in the image's own pixels, scaled from the size it is displayed at. */
function imagePoint(img, clientX, clientY) {
  const rect = img.getBoundingClientRect();
  return [
    Math.min(img.naturalWidth - 1, Math.max(0, Math.round(((clientX - rect.left) / rect.width) * img.naturalWidth))),
    Math.min(img.naturalHeight - 1, Math.max(0, Math.round(((clientY - rect.top) / rect.height) * img.naturalHeight))),
  ];
}

/** " in image #2" when the image is not the one the conversation works on, so the prompt goes to it. */
function imageSuffix(img, currentImageId) {
  const other = img.dataset.mediaId !== currentImageId && img.dataset.ordinal;
  return other ? ` in image #${img.dataset.ordinal}` : '';
}

/** Moves under this many screen pixels are a click, not a drag. */
const DRAG_THRESHOLD = 6;

/**
 * Alt+click on an uploaded or result image asks for the object under the pointer (`onPoint` sends "segment at
 * X,Y"). Alt+drag draws a box and hands "what is in the box x1,y1,x2,y2" to `onBox`, which puts it in the
 * message box unsent: the user can send it as is or change the words ("segment the box …"). A plain click
 * keeps doing what it always did. `currentImageId()` names the image the conversation works on.
 */
export function setupClickToSelect(messages, { currentImageId, onBox, onPoint }) {
  let drag = null;
  let suppressClick = false;
  messages.addEventListener('mousedown', (e) => {
    if (!e.altKey || e.button !== 0) return;
    const img = selectableImage(e.target);
    if (!img) return;
    // No native image drag (a ghost picture) while drawing a box.
    e.preventDefault();
    const frame = img.closest('.media-frame');
    const band = h('div', { class: 'select-band', 'data-testid': 'select-band' });
    frame.append(band);
    drag = { img, frame, band, x: e.clientX, y: e.clientY, moved: false };
  });
  document.addEventListener('mousemove', (e) => {
    if (!drag) return;
    drag.moved ||= Math.abs(e.clientX - drag.x) >= DRAG_THRESHOLD || Math.abs(e.clientY - drag.y) >= DRAG_THRESHOLD;
    const frameRect = drag.frame.getBoundingClientRect();
    Object.assign(drag.band.style, {
      left: `${Math.min(e.clientX, drag.x) - frameRect.left}px`,
      top: `${Math.min(e.clientY, drag.y) - frameRect.top}px`,
      width: `${Math.abs(e.clientX - drag.x)}px`,
      height: `${Math.abs(e.clientY - drag.y)}px`,
    });
  });
  document.addEventListener('mouseup', (e) => {
    if (!drag) return;
    const { img, band, x, y, moved } = drag;
    drag = null;
    band.remove();
    if (!moved) return;
    // The click that follows this mouseup is the end of the drag, not a point prompt.
    suppressClick = true;
    setTimeout(() => {
      suppressClick = false;
    }, 0);
    const [x1, y1] = imagePoint(img, Math.min(x, e.clientX), Math.min(y, e.clientY));
    const [x2, y2] = imagePoint(img, Math.max(x, e.clientX), Math.max(y, e.clientY));
    onBox(`what is in the box ${x1},${y1},${x2},${y2}${imageSuffix(img, currentImageId())}`);
  });
  messages.addEventListener('click', (e) => {
    if (!e.altKey || suppressClick) return;
    const img = selectableImage(e.target);
    if (!img) return;
    e.preventDefault();
    const [x, y] = imagePoint(img, e.clientX, e.clientY);
    onPoint(`segment at ${x},${y}${imageSuffix(img, currentImageId())}`);
  });
}
