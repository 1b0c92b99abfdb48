/**
 * The path of a virtual camera over a still picture: for every frame, the fractional rectangle of the
 * picture that fills the frame. Fractions are the point: ffmpeg's zoompan rounds the rectangle to whole
 * pixels, so a slow move steps instead of gliding. Each move is a straight blend between a start and an
 * end rectangle, eased in and out; both ends lie inside the picture, so every rectangle between them
 * does too (each edge is a convex blend of two edges that are inside).
 */

export const CAMERA_MOVES = ['ken_burns', 'zoom_in', 'zoom_out', 'pan_left', 'pan_right', 'pan_up', 'pan_down'] as const;
export type CameraMove = (typeof CAMERA_MOVES)[number];

/** A rectangle of the picture in its pixels (fractional), left/top at pixel edges. */
export interface CropRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** How far a zoom goes: 1.25 is the frame showing 80 % of the picture's width at the close end. */
export const ZOOM_FACTOR = 1.25;
/** Ken Burns pushes a little further, toward the subject. */
export const KEN_BURNS_FACTOR = 1.3;
/** A pan needs room to travel: it looks through a window this much smaller than the picture. */
export const PAN_ZOOM = 1.2;

/** Slow at both ends, as a camera operator starts and stops a move (cosine ease, symmetric). */
export function easeInOut(t: number): number {
  const clamped = Math.min(1, Math.max(0, t));
  return 0.5 - 0.5 * Math.cos(Math.PI * clamped);
}

/** The largest rectangle of the frame's aspect inside the picture, centred. */
export function fullRect(width: number, height: number, aspect: number): CropRect {
  const w = Math.min(width, height * aspect);
  const h = w / aspect;
  return { left: (width - w) / 2, top: (height - h) / 2, width: w, height: h };
}

/** `rect` shrunk by `zoom` and centred as near `centre` as the picture allows. */
function zoomedAt(full: CropRect, zoom: number, centre: Point): CropRect {
  const width = full.width / zoom;
  const height = full.height / zoom;
  const left = Math.min(full.left + full.width - width, Math.max(full.left, centre.x - width / 2));
  const top = Math.min(full.top + full.height - height, Math.max(full.top, centre.y - height / 2));
  return { left, top, width, height };
}

function panEnds(full: CropRect, move: CameraMove): [CropRect, CropRect] {
  const window = zoomedAt(full, PAN_ZOOM, { x: full.left + full.width / 2, y: full.top + full.height / 2 });
  const spareX = full.width - window.width;
  const spareY = full.height - window.height;
  const at = (dx: number, dy: number): CropRect => ({ ...window, left: full.left + dx, top: full.top + dy });
  const midX = spareX / 2;
  const midY = spareY / 2;
  // "Pan left": the camera turns left, so the view travels from the right part of the picture to the left.
  if (move === 'pan_left') return [at(spareX, midY), at(0, midY)];
  if (move === 'pan_right') return [at(0, midY), at(spareX, midY)];
  if (move === 'pan_up') return [at(midX, spareY), at(midX, 0)];
  return [at(midX, 0), at(midX, spareY)];
}

/** The first and last rectangle of a move; `focus` is where Ken Burns ends up (the subject), else the centre. */
export function moveEnds(width: number, height: number, aspect: number, move: CameraMove, focus?: Point): [CropRect, CropRect] {
  const full = fullRect(width, height, aspect);
  const centre = { x: full.left + full.width / 2, y: full.top + full.height / 2 };
  switch (move) {
    case 'zoom_in':
      return [full, zoomedAt(full, ZOOM_FACTOR, centre)];
    case 'zoom_out':
      return [zoomedAt(full, ZOOM_FACTOR, centre), full];
    case 'ken_burns':
      return [full, zoomedAt(full, KEN_BURNS_FACTOR, focus ?? centre)];
    default:
      return panEnds(full, move);
  }
}

/** The rectangle at eased progress `e` (0 = start, 1 = end). */
export function blendRect(start: CropRect, end: CropRect, e: number): CropRect {
  return {
    left: start.left + (end.left - start.left) * e,
    top: start.top + (end.top - start.top) * e,
    width: start.width + (end.width - start.width) * e,
    height: start.height + (end.height - start.height) * e,
  };
}

/** Eased progress of each of `frames` frames, 0 on the first and 1 on the last. */
export function easedProgress(frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => easeInOut(frames === 1 ? 0 : i / (frames - 1)));
}

/** Every frame's rectangle for a move over a `width` × `height` picture, in the frame's `aspect` (w/h). */
export function cameraPath(width: number, height: number, aspect: number, move: CameraMove, frames: number, focus?: Point): CropRect[] {
  const [start, end] = moveEnds(width, height, aspect, move, focus);
  return easedProgress(frames).map((e) => blendRect(start, end, e));
}
