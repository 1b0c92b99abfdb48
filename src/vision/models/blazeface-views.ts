/**
 * Where BlazeFace looks in one image. The model sees 256×256 pixels; below ~16 input pixels (1/16 of the
 * image's long side) its boxes get unreliable and below ~6 (1/40) faces are missed: a 50 px face in a
 * 2048 px canvas was not found. Large images therefore get a second pass over overlapping tiles a third
 * of the long side wide, which sees faces down to ~1/48 of the image reliably; the whole-image pass
 * still catches faces too big for a tile.
 */

export interface View {
  left: number;
  top: number;
  width: number;
  height: number;
  /** True for tiles: detections touching an edge shared with a neighbour are cut faces (see `cutByEdge`). */
  tile: boolean;
}

/** Below this long side the whole-image pass alone sees faces down to ~40 px reliably, small enough for chat photos. */
export const TILE_FROM_LONG_SIDE = 640;
const MIN_TILE = 256;

/** Offsets of `count` windows of `size` spread evenly over `length`, first at 0 and last at the end. */
function offsets(length: number, size: number): number[] {
  if (length <= size) return [0];
  // Neighbours overlap by at least a third of a tile, so every face smaller than that lies whole in one.
  const step = (size * 2) / 3;
  const count = Math.ceil((length - size) / step) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - size)) / (count - 1)));
}

export function faceViews(width: number, height: number, tiles = true): View[] {
  const views: View[] = [{ left: 0, top: 0, width, height, tile: false }];
  const long = Math.max(width, height);
  if (!tiles || long < TILE_FROM_LONG_SIDE) return views;
  const size = Math.max(MIN_TILE, Math.round(long / 3));
  for (const top of offsets(height, size)) {
    for (const left of offsets(width, size)) {
      views.push({ left, top, width: Math.min(size, width - left), height: Math.min(size, height - top), tile: true });
    }
  }
  return views;
}

/**
 * Windows around boxes where faces were a moment ago (a video's tracks), for faces too small for the
 * whole-image pass: three times the face, at least a tile's minimum, so the face is whole inside and
 * seen at a useful scale. Faces big enough for the whole-image pass (an eighth of the long side: twice
 * its limit) need no window.
 */
export function viewsAround(boxes: readonly { x1: number; y1: number; x2: number; y2: number }[], width: number, height: number): View[] {
  const long = Math.max(width, height);
  const views: View[] = [];
  for (const b of boxes) {
    const size = Math.max(b.x2 - b.x1, b.y2 - b.y1);
    if (size <= 0 || size >= long / 8) continue;
    const side = Math.min(Math.max(MIN_TILE, Math.round(size * 3)), width, height);
    const left = Math.round(Math.min(Math.max(0, (b.x1 + b.x2) / 2 - side / 2), width - side));
    const top = Math.round(Math.min(Math.max(0, (b.y1 + b.y2) / 2 - side / 2), height - side));
    views.push({ left, top, width: side, height: side, tile: true });
  }
  return views;
}

/**
 * A box (image pixels) that touches a tile edge shared with another tile: the face continues outside
 * the tile and a neighbour (or the whole-image pass) holds all of it, so this partial box is dropped
 * rather than averaged into the full one.
 */
export function cutByEdge(box: { x1: number; y1: number; x2: number; y2: number }, view: View, imageWidth: number, imageHeight: number): boolean {
  if (!view.tile) return false;
  const margin = Math.max(2, view.width / 128);
  return (
    (view.left > 0 && box.x1 <= view.left + margin) ||
    (view.top > 0 && box.y1 <= view.top + margin) ||
    (view.left + view.width < imageWidth && box.x2 >= view.left + view.width - margin) ||
    (view.top + view.height < imageHeight && box.y2 >= view.top + view.height - margin)
  );
}
